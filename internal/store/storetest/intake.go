package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

var intakeCases = []testCase{
	{"IntakeQueuesNewFilesAndSkipsKnownContent", intakeQueuesNewFiles},
	{"IntakeManyRecordsAGroupInOrderEachAsAlone", intakeManyInOrder},
	{"RejectKeepsOneRowPerReason", rejectKeepsOneRow},
	{"KnownTellsAnotherFileOrVersion", knownTellsAnotherFile},
	{"KnownManyAnswersAsKnownDoes", knownManyAnswersAsKnown},
	{"SeedExportedRecordsExportedDocuments", seedExported},
	{"GetAndDocumentsReadWhatWasWritten", getAndDocuments},
}

// Moved from internal/store TestIntakeQueuesNewFilesAndSkipsKnownContent.
func intakeQueuesNewFiles(h *harness) {
	r := h.intake(file(1, "aa"))
	if r.State != store.StateQueued || r.Known || r.ID == 0 {
		h.t.Fatalf("first intake = %+v, want queued", r)
	}
	// Same path, same content, touched: nothing new, the stat refreshed.
	f := file(1, "aa")
	f.ModTime = f.ModTime.Add(time.Second)
	if r2 := h.intake(f); !r2.Known || r2.ID != r.ID || r2.State != "" {
		h.t.Fatalf("re-intake = %+v, want known %d", r2, r.ID)
	}
	if ok, err := h.b.Known(h.ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); err != nil || !ok {
		h.t.Fatalf("Known after a refresh = %v, %v; want true", ok, err)
	}
	// Same path, new content: a new document.
	f.SHA256 = "bb"
	if r3 := h.intake(f); r3.State != store.StateQueued || r3.ID == r.ID {
		h.t.Fatalf("changed content = %+v, want a new queued document", r3)
	}
	// Other path, same content as an original: duplicate.
	if r4 := h.intake(file(2, "aa")); r4.State != store.StateDuplicate || r4.DuplicateOf != r.ID {
		h.t.Fatalf("copy = %+v, want duplicate of %d", r4, r.ID)
	}
	// Dedupe off: same content is its own document.
	f5 := file(3, "aa")
	f5.Dedupe = false
	if r5 := h.intake(f5); r5.State != store.StateQueued {
		h.t.Fatalf("dedupe off = %+v, want queued", r5)
	}
	if n := h.count(""); n != 4 {
		h.t.Fatalf("%d documents, want 4", n)
	}
	if got := fmt.Sprint(h.path(r.ID)); got != "[queued]" {
		h.t.Fatalf("transitions of the first = %s, want [queued]", got)
	}
	d := h.get(r.ID)
	if d.ClientReference == "" || d.Source != source || d.SHA256 != "aa" || !d.DiscoveredAt.Equal(start) {
		h.t.Fatalf("document = %+v", d)
	}
}

func rejectKeepsOneRow(h *harness) {
	f := file(1, "")
	id, err := h.b.Reject(h.ctx, f, "FILE_TOO_LARGE", "too big")
	h.must(err)
	d := h.get(id)
	if d.State != store.StateRejected || d.Outcome != store.StateRejected || d.ErrorCode != "FILE_TOO_LARGE" || d.ErrorMessage != "too big" {
		h.t.Fatalf("rejected = %+v", d)
	}
	// Touched, refused for the same reason: the same row, its stat refreshed.
	f.ModTime = f.ModTime.Add(time.Minute)
	again, err := h.b.Reject(h.ctx, f, "FILE_TOO_LARGE", "too big")
	if err != nil || again != id {
		h.t.Fatalf("second refusal = %d, %v; want the same document %d", again, err, id)
	}
	if !h.get(id).ModTime.Equal(f.ModTime) {
		h.t.Fatal("the stat was not refreshed")
	}
	// Another reason: a new row.
	other, err := h.b.Reject(h.ctx, f, vocab.CodeUnreadable, "unreadable")
	if err != nil || other == id {
		h.t.Fatalf("refusal for another reason = %d, %v; want a new document", other, err)
	}
	if n := h.count(store.StateRejected); n != 2 {
		h.t.Fatalf("%d rejected documents, want 2", n)
	}
	if got := fmt.Sprint(h.path(id)); got != "[rejected]" {
		h.t.Fatalf("transitions = %s, want one [rejected]", got)
	}
}

// Moved from internal/store TestKnownTellsAnotherFileWithTheSameSizeAndMtime
// (the identity part) and TestKnownTellsAnotherVersionOfABucketObject.
func knownTellsAnotherFile(h *harness) {
	f := file(1, "aa")
	f.FileID = store.FileID{Dev: 1, Inode: 42, ChangeTime: time.Unix(1700000100, 0)}
	id := h.intake(f).ID
	if got := h.get(id); got.FileID.Inode != 42 || !got.FileID.ChangeTime.Equal(f.ChangeTime) {
		h.t.Fatalf("recorded identity %+v, want %+v", got.FileID, f.FileID)
	}
	obj := file(2, "bb")
	obj.Path, obj.FileID = "s3://bkt/in/a.pdf", store.FileID{Version: "etag:abc"}
	oid := h.intake(obj).ID
	if got := h.get(oid); got.FileID.Version != "etag:abc" || got.FileID.Inode != 0 {
		h.t.Fatalf("recorded identity %+v, want version etag:abc", got.FileID)
	}
	for _, tc := range []struct {
		name string
		f    store.NewFile
		id   store.FileID
		want bool
	}{
		{"the same file", f, f.FileID, true},
		{"written again in place (cp -p): a newer ctime", f, store.FileID{Dev: 1, Inode: 42, ChangeTime: time.Unix(1700000200, 0)}, false},
		{"another file renamed over it (rsync -t)", f, store.FileID{Dev: 1, Inode: 43, ChangeTime: f.ChangeTime}, false},
		{"identity unknown", f, store.FileID{}, true},
		{"the same object version", obj, obj.FileID, true},
		{"another object version", obj, store.FileID{Version: "etag:abd"}, false},
		{"object version unknown", obj, store.FileID{}, true},
	} {
		if ok, err := h.b.Known(h.ctx, tc.f.Source, tc.f.Path, tc.f.Size, tc.f.ModTime, tc.id); err != nil || ok != tc.want {
			h.t.Errorf("%s: Known = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
	}
	if ok, _ := h.b.Known(h.ctx, f.Source, f.Path, f.Size+1, f.ModTime, f.FileID); ok {
		h.t.Error("another size is known")
	}
	if ok, _ := h.b.Known(h.ctx, "other", f.Path, f.Size, f.ModTime, f.FileID); ok {
		h.t.Error("the path of another source is known")
	}
	// A vanished document does not make its path known.
	h.must(h.b.Finish(h.ctx, []int64{id}, store.StateVanished, "", "gone"))
	if ok, _ := h.b.Known(h.ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); ok {
		h.t.Error("a vanished document's path is known")
	}
}

// Moved from internal/store TestKnownManyAnswersAsKnownDoes: KnownMany
// asked about more files than one query takes — recorded ones, changed
// ones (size, mtime, version), another source's, a path with two
// documents, a vanished one and unknown ones — answers as Known does.
func knownManyAnswersAsKnown(h *harness) {
	var asked []store.KnownFile
	var seed []store.NewFile // recorded in one transaction: 2,000 intakes take seconds
	var vanishing int64
	for i := range 2500 {
		f := file(i, fmt.Sprintf("sha%d", i))
		f.Path = fmt.Sprintf("s3://bkt/in/%d.pdf", i)
		f.FileID = store.FileID{Version: fmt.Sprintf("etag:%d", i)}
		switch {
		case i == 20:
			vanishing = h.intake(f).ID
		case i%5 != 4: // every fifth is not recorded
			seed = append(seed, f)
		}
		k := store.KnownFile{Path: f.Path, Size: f.Size, ModTime: f.ModTime, FileID: f.FileID}
		switch i % 7 {
		case 1:
			k.Size++
		case 2:
			k.ModTime = k.ModTime.Add(time.Second)
		case 3:
			k.FileID.Version += "x"
		case 5:
			k.FileID = store.FileID{} // no version listed: size and mtime decide
		}
		asked = append(asked, k)
	}
	h.must(h.b.SeedExported(h.ctx, seed, "SEEDED", "seeded"))
	// A path whose latest document has other content: the latest decides.
	again := file(10, "sha-again")
	again.Path, again.Size, again.FileID = asked[10].Path, 999, store.FileID{Version: "etag:new"}
	h.intake(again)
	other := file(11, "sha11")
	other.Source, other.Path = "elsewhere", asked[30].Path
	h.intake(other)
	h.must(h.b.Finish(h.ctx, []int64{vanishing}, store.StateVanished, "", "gone"))
	got, err := h.b.KnownMany(h.ctx, source, asked)
	h.must(err)
	var known int
	for i, k := range asked {
		want, err := h.b.Known(h.ctx, source, k.Path, k.Size, k.ModTime, k.FileID)
		h.must(err)
		if got[i] != want {
			h.t.Errorf("%s: KnownMany = %v, Known = %v", k.Path, got[i], want)
		}
		if want {
			known++
		}
	}
	if known == 0 || known == len(asked) || got[20] || !got[0] {
		h.t.Fatalf("%d of %d known: the cases do not cover both answers", known, len(asked))
	}
	if got, err := h.b.KnownMany(h.ctx, "elsewhere", asked[:50]); err != nil || len(got) != 50 || got[0] || got[1] {
		h.t.Fatalf("another source: %v, %v; want nothing known", got, err)
	}
	if got, err := h.b.KnownMany(h.ctx, source, nil); err != nil || len(got) != 0 {
		h.t.Fatalf("KnownMany of nothing = %v, %v", got, err)
	}
}

// Moved from internal/store TestSeedExportedRecordsKnownExportedDocuments:
// seeded files are known, exported and offered to no one.
func seedExported(h *harness) {
	var files []store.NewFile
	for i := range 3 {
		f := file(i, "")
		f.FileID = store.FileID{Version: fmt.Sprintf("etag:%d", i)}
		files = append(files, f)
	}
	h.must(h.b.SeedExported(h.ctx, files, "SEEDED", "seeded"))
	for _, f := range files {
		if ok, err := h.b.Known(h.ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); err != nil || !ok {
			h.t.Fatalf("%s: Known = %v, %v", f.Path, ok, err)
		}
	}
	if st, err := h.b.Status(h.ctx); err != nil || st.Counts[store.StateExported] != 3 || st.Outcomes[store.StateRejected] != 3 {
		h.t.Fatalf("status %+v, %v; want 3 exported", st, err)
	}
	if len(h.transitions()) != 0 {
		h.t.Fatalf("seeding announced %+v", h.transitions())
	}
	if c, _ := h.b.ExportCandidates(h.ctx, 10); len(c) != 0 {
		h.t.Fatalf("seeded documents are export candidates: %+v", c)
	}
}

func getAndDocuments(h *harness) {
	if _, err := h.b.Get(h.ctx, 999); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("Get of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := h.b.GetByDocumentID(h.ctx, "doc_nope"); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("GetByDocumentID of an unknown id: %v, want ErrNotFound", err)
	}
	a, b, c := h.queued(1), h.submitted(2), h.queued(3)
	d, err := h.b.GetByDocumentID(h.ctx, docID(b))
	if err != nil || d.ID != b || d.APIBatchID != "batch_2" || d.State != store.StateSubmitted {
		h.t.Fatalf("GetByDocumentID = %+v, %v", d, err)
	}
	all, err := h.b.Documents(h.ctx, "", 0)
	h.must(err)
	if len(all) != 3 || all[0].ID != a || all[1].ID != b || all[2].ID != c {
		h.t.Fatalf("all documents = %+v, want %d, %d, %d oldest first", all, a, b, c)
	}
	q, err := h.b.Documents(h.ctx, store.StateQueued, 1)
	if err != nil || len(q) != 1 || q[0].ID != a {
		h.t.Fatalf("first queued = %+v, %v; want %d", q, err, a)
	}
}

// IntakeMany records a group in one transaction, each file as Intake
// would and seeing the ones before it: a second copy of a content is a
// duplicate of the first, the same path and content again is known. The
// transitions are announced after the commit, in order, and the group
// survives a restart.
func intakeManyInOrder(h *harness) {
	if res, err := h.b.IntakeMany(h.ctx, nil); err != nil || len(res) != 0 {
		h.t.Fatalf("IntakeMany(nil) = %v, %v; want nothing", res, err)
	}
	a, copyOfA, again, b := file(1, "aa"), file(2, "aa"), file(1, "aa"), file(3, "bb") // dedupe on
	res, err := h.b.IntakeMany(h.ctx, []store.NewFile{a, copyOfA, again, b})
	if err != nil || len(res) != 4 {
		h.t.Fatalf("IntakeMany = %+v, %v; want 4 results", res, err)
	}
	if res[0].State != store.StateQueued || res[1].State != store.StateDuplicate || res[1].DuplicateOf != res[0].ID ||
		!res[2].Known || res[2].ID != res[0].ID || res[3].State != store.StateQueued {
		h.t.Fatalf("IntakeMany = %+v; want queued, a duplicate of it, known as it, queued", res)
	}
	var got []string
	for _, tr := range h.transitions() {
		got = append(got, fmt.Sprintf("%d:%s", tr.DocID, tr.To))
	}
	want := fmt.Sprintf("[%d:queued %d:duplicate %d:queued]", res[0].ID, res[1].ID, res[3].ID)
	if fmt.Sprint(got) != want {
		h.t.Fatalf("transitions %v, want %s", got, want)
	}
	h.reopen()
	if n := h.count(""); n != 3 {
		h.t.Fatalf("%d documents after a restart, want the group's 3", n)
	}
}
