package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
)

func sumOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestCopyVersionCopiesOnlyTheVersionTakenInAndNeverOverwrites runs on
// every emulator: the copy is of the version asked for, is idempotent (a
// second call after a crash copies nothing again), never replaces another
// object, and a source replaced meanwhile (before the checks, or between
// them and the copy, where an emulator may ignore the condition) leaves no
// copy behind.
func TestCopyVersionCopiesOnlyTheVersionTakenInAndNeverOverwrites(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		t.Run(bucketemu.Kinds[i], func(t *testing.T) {
			s := start(t)
			b, err := Open(context.Background(), s.URL("in/"))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx := context.Background()
			put := func(key, content string) {
				t.Helper()
				if err := b.Blob().WriteAll(ctx, key, []byte(content), nil); err != nil {
					t.Fatal(err)
				}
			}
			read := func(key string) string {
				t.Helper()
				got, err := b.Blob().ReadAll(ctx, key)
				if err != nil {
					t.Fatalf("read %s: %v", key, err)
				}
				return string(got)
			}
			put("in/a.pdf", "alpha")
			o, err := b.Stat(ctx, "in/a.pdf")
			if err != nil {
				t.Fatal(err)
			}
			if err := b.CopyVersion(ctx, o, sumOf("alpha"), "done/a.pdf"); err != nil {
				t.Fatal(err)
			}
			if got := read("done/a.pdf"); got != "alpha" {
				t.Fatalf("copy holds %q", got)
			}
			copied, _ := b.Stat(ctx, "done/a.pdf")
			// Again, as after a crash between the copy and the delete.
			if err := b.CopyVersion(ctx, o, sumOf("alpha"), "done/a.pdf"); err != nil {
				t.Fatalf("copying again onto the same content: %v; want nil", err)
			}
			if again, _ := b.Stat(ctx, "done/a.pdf"); again.Version != copied.Version || !again.ModTime.Equal(copied.ModTime) {
				t.Errorf("the second call copied again: %+v, was %+v", again, copied)
			}

			put("done/b.pdf", "bravo")
			if err := b.CopyVersion(ctx, o, sumOf("alpha"), "done/b.pdf"); !errors.Is(err, ErrExists) {
				t.Fatalf("copy onto another object: %v; want ErrExists", err)
			}
			if got := read("done/b.pdf"); got != "bravo" {
				t.Fatalf("an archived object was overwritten: %q", got)
			}

			// Replaced between the checks and the copy (same size: only
			// the condition or the check after the copy can tell).
			beforeCopy = func() { put("in/a.pdf", "ALPHA") }
			err = b.CopyVersion(ctx, o, sumOf("alpha"), "done/c.pdf")
			beforeCopy = nil
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("copy of a version replaced meanwhile: %v; want ErrChanged", err)
			}
			if _, err := b.Stat(ctx, "done/c.pdf"); !IsNotFound(err) {
				t.Fatalf("a copy of the other version was left: %v", err)
			}
			// Replaced before: refused by the first look.
			if err := b.CopyVersion(ctx, o, sumOf("alpha"), "done/d.pdf"); !errors.Is(err, ErrChanged) {
				t.Fatalf("copy of a replaced version: %v; want ErrChanged", err)
			}
			if err := b.Blob().Delete(ctx, "in/a.pdf"); err != nil {
				t.Fatal(err)
			}
			if err := b.CopyVersion(ctx, o, sumOf("alpha"), "done/e.pdf"); !IsNotFound(err) {
				t.Fatalf("copy of a deleted object: %v; want not found", err)
			}
		})
	}
}
