package store

import (
	"context"
	"testing"
)

// An answer in which one document gives up the API id another takes (a
// document submitted again under a new id, the old one given to another
// file of the batch) records both, in the answer's order, as one document
// at a time did: the ids stay unique at every step.
func TestRecordSubmissionWhereOneDocumentGivesUpTheIDAnotherTakes(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	a, b := mustIntake(t, s, newFile(1, "sha1")), mustIntake(t, s, newFile(2, "sha2"))
	batch, err := s.CreateBatch(ctx, ModeBatch, []int64{a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	// a still holds doc_x from an earlier submission.
	if _, err := s.w.Exec(`UPDATE documents SET document_id = 'doc_x' WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	conflicts, err := s.RecordSubmission(ctx, batch.ID, "batch_1", nil,
		[]Submitted{{a.ID, "doc_y"}, {b.ID, "doc_x"}})
	if err != nil || len(conflicts) != 0 {
		t.Fatalf("RecordSubmission = %v, %v; want no conflict", conflicts, err)
	}
	for id, want := range map[int64]string{a.ID: "doc_y", b.ID: "doc_x"} {
		d, err := s.Get(ctx, id)
		if err != nil || d.State != StateSubmitted || d.DocumentID != want {
			t.Errorf("document %d: %+v, %v; want submitted as %s", id, d, err, want)
		}
	}
}

// An answer giving one id to two documents, as the API should not: the
// first takes it, the second is recorded failed naming the first, and the
// others of the answer are submitted.
func TestRecordSubmissionGivingOneIDTwiceFailsTheSecond(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	var ids []int64
	for i := range 3 {
		ids = append(ids, mustIntake(t, s, newFile(i, "sha"+string(rune('a'+i)))).ID)
	}
	batch, err := s.CreateBatch(ctx, ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	conflicts, err := s.RecordSubmission(ctx, batch.ID, "batch_1", nil,
		[]Submitted{{ids[0], "doc_1"}, {ids[1], "doc_1"}, {ids[2], "doc_2"}})
	if err != nil || len(conflicts) != 1 || conflicts[0].DocID != ids[1] || conflicts[0].HolderID != ids[0] {
		t.Fatalf("RecordSubmission = %+v, %v; want the second document's conflict with the first", conflicts, err)
	}
	for i, want := range []State{StateSubmitted, StateFailed, StateSubmitted} {
		if d, err := s.Get(ctx, ids[i]); err != nil || d.State != want {
			t.Errorf("document %d: %+v, %v; want %s", i, d, err, want)
		}
	}
}
