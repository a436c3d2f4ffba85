package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
)

// retry checks a bucket object the way its upload will: the version it
// was taken in as, by its content. An object deleted since is "gone"; one
// written again under its key is "changed" (the new version is a document
// of its own); an unchanged one is retried.
func TestRetryChecksABucketObjectAsItsUploadWould(t *testing.T) {
	s := bucketemu.S3(t)
	f := newRetryFixture(t)
	sim := &e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}
	dir := filepath.Dir(f.cfgPath)
	cfg := strings.Replace(sim.BucketConfig(dir, s.URL("in/"), ""), `name   = "bucket"`, `name   = "inbox"`, 1)
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := bucket.Open(ctx, s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, name := range []string{"same.pdf", "gone.pdf", "changed.pdf"} {
		content := []byte("%PDF-1.4 " + name)
		if err := b.Blob().WriteAll(ctx, "in/"+name, content, nil); err != nil {
			t.Fatal(err)
		}
		o, err := b.Stat(ctx, "in/"+name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		f.addDocument(name, b.PathOf(o.Key), o, hex.EncodeToString(sum[:]), docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	}
	if err := b.Blob().Delete(ctx, "in/gone.pdf"); err != nil {
		t.Fatal(err)
	}
	if err := b.Blob().WriteAll(ctx, "in/changed.pdf", []byte("%PDF-1.4 CHANGED.PDF"), nil); err != nil {
		t.Fatal(err) // other bytes, the same size
	}
	out, err := f.run("--failed")
	if err != nil || !strings.Contains(out, "1 of 3 document(s) retried, 2 skipped") {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	f.skipped(out, "gone.pdf", "object is gone")
	f.skipped(out, "changed.pdf", "object has changed since it was taken in")
	if !strings.Contains(out, "retry ") || !strings.Contains(out, b.PathOf("in/same.pdf")) {
		t.Fatalf("the unchanged object was not retried:\n%s", out)
	}
}
