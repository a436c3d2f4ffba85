package store

import (
	"context"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/storefault"
)

// IntakeMany is all or nothing: when a later file of the group cannot be
// recorded, no file is, nothing is announced, and the error names the
// file that failed. Recorded again once the store can, the group is whole.
func TestIntakeManyIsAllOrNothing(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	files := []NewFile{newFile(1, "a1"), newFile(2, "a2"), newFile(3, "a3")}
	fault := storefault.Break(t, b.path, "documents", "INSERT", "NEW.file_name = 'f2.pdf'")
	if _, err := s.IntakeMany(ctx, files); err == nil || !strings.Contains(err.Error(), "/in/f2.pdf") {
		t.Fatalf("IntakeMany with f2 failing: %v; want an error naming /in/f2.pdf", err)
	}
	if docs, _ := s.Documents(ctx, "", 0); len(docs) != 0 {
		t.Fatalf("%d documents recorded by a failed group, want none", len(docs))
	}
	b.mu.Lock()
	announced := len(b.trs)
	b.mu.Unlock()
	if announced != 0 {
		t.Fatalf("%d transitions announced by a failed group, want none", announced)
	}
	fault.Heal()
	res, err := s.IntakeMany(ctx, files)
	if err != nil || len(res) != 3 || res[2].State != StateQueued {
		t.Fatalf("IntakeMany after healing = %+v, %v; want all three queued", res, err)
	}
	if docs, _ := s.Documents(ctx, "", 0); len(docs) != 3 {
		t.Fatalf("%d documents after healing, want 3", len(docs))
	}
}
