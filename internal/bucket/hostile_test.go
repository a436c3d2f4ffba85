package bucket_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
)

// A file:// bucket's listing unescapes names (fileblob writes "__0x2e__"
// for "." and so on), so a folder named "__0x2e____0x2e__" under the
// prefix is listed as "..": a writer of the prefix must not get the daemon
// to read a file outside the prefix (another partner's, say) by planting
// a decoy of its size and time under such a name.
func TestAFileBucketReadsNothingOutsideThePrefixThroughAnEscapedName(t *testing.T) {
	s := bucketemu.File(t)
	b := open(t, s, "in/")
	const secret = "partner B's invoice"
	real := filepath.Join(b.Bucket, "other", "secret.pdf")
	decoy := filepath.Join(b.Bucket, "in", "__0x2e____0x2e__", "other", "secret.pdf")
	when := time.Now().Add(-time.Hour).Truncate(time.Second)
	for path, content := range map[string]string{real: secret, decoy: strings.Repeat("x", len(secret))} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
	for key, o := range list(t, b, true) {
		if !strings.HasPrefix(key, "in/") || strings.Contains(key, "..") {
			t.Errorf("listed %q under in/", key)
		}
		rc, err := b.OpenVersion(context.Background(), o)
		if err != nil {
			continue
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) == secret {
			t.Fatalf("listing in/ read %s, outside the prefix, as %q", real, key)
		}
	}
}
