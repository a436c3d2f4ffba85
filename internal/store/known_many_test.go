package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestKnownManyAnswersAsKnownDoes asks KnownMany about more files than one
// query takes — recorded ones, changed ones (size, mtime, version),
// another source's, a path with two documents, a vanished one and unknown
// ones — and checks each answer against Known's.
func TestKnownManyAnswersAsKnownDoes(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	var asked []KnownFile
	for i := range 2500 {
		f := newFile(i, fmt.Sprintf("sha%d", i))
		f.Path = fmt.Sprintf("s3://bkt/in/%d.pdf", i)
		f.FileID = FileID{Version: fmt.Sprintf("etag:%d", i)}
		if i%5 != 4 { // every fifth is not recorded
			mustIntake(t, s, f)
		}
		k := KnownFile{Path: f.Path, Size: f.Size, ModTime: f.ModTime, FileID: f.FileID}
		switch i % 7 {
		case 1:
			k.Size++
		case 2:
			k.ModTime = k.ModTime.Add(time.Second)
		case 3:
			k.FileID.Version += "x"
		case 5:
			k.FileID = FileID{} // no version listed: size and mtime decide
		}
		asked = append(asked, k)
	}
	// A path whose latest document has other content: the latest decides.
	again := newFile(10, "sha-again")
	again.Path, again.Size, again.FileID = asked[10].Path, 999, FileID{Version: "etag:new"}
	mustIntake(t, s, again)
	other := newFile(11, "sha11")
	other.Source, other.Path = "elsewhere", asked[30].Path
	mustIntake(t, s, other)
	got, err := s.KnownMany(ctx, "inbox", asked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE documents SET state = 'vanished' WHERE path = ?`, asked[20].Path); err != nil {
		t.Fatal(err)
	}
	got20, err := s.KnownMany(ctx, "inbox", asked[20:21])
	if err != nil {
		t.Fatal(err)
	}
	got[20] = got20[0]
	var known int
	for i, k := range asked {
		want, err := s.Known(ctx, "inbox", k.Path, k.Size, k.ModTime, k.FileID)
		if err != nil {
			t.Fatal(err)
		}
		if got[i] != want {
			t.Errorf("%s: KnownMany = %v, Known = %v", k.Path, got[i], want)
		}
		if want {
			known++
		}
	}
	if known == 0 || known == len(asked) {
		t.Fatalf("%d of %d known: the cases do not cover both answers", known, len(asked))
	}
	if got, err := s.KnownMany(ctx, "elsewhere", asked[:50]); err != nil || len(got) != 50 || got[0] || got[1] {
		t.Fatalf("another source: %v, %v; want nothing known", got, err)
	}
}

// TestSeedExportedRecordsKnownExportedDocuments checks that seeded files
// are known, exported and offered to no one.
func TestSeedExportedRecordsKnownExportedDocuments(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	var files []NewFile
	for i := range 3 {
		f := newFile(i, "")
		f.FileID = FileID{Version: fmt.Sprintf("etag:%d", i)}
		files = append(files, f)
	}
	if err := s.SeedExported(ctx, files, "SEEDED", "seeded"); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); err != nil || !ok {
			t.Fatalf("%s: Known = %v, %v", f.Path, ok, err)
		}
	}
	st, err := s.Status(ctx)
	if err != nil || st.Counts[StateExported] != 3 {
		t.Fatalf("status %+v, %v; want 3 exported", st, err)
	}
	if c, err := s.ExportCandidates(ctx, 10); err != nil || len(c) != 0 {
		t.Fatalf("export candidates %v, %v; want none", c, err)
	}
}
