package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// retryFixture is a configuration and a store built through the store's
// own transitions, with real input files in the inbox.
type retryFixture struct {
	t       *testing.T
	cfgPath string
	inbox   string
	st      *store.Store
	clock   time.Time // the store's clock while building
	ids     map[string]int64
}

func newRetryFixture(t *testing.T) *retryFixture {
	t.Helper()
	dir := t.TempDir()
	f := &retryFixture{t: t, inbox: filepath.Join(dir, "inbox"), cfgPath: filepath.Join(dir, "config.toml"), ids: map[string]int64{}}
	for _, d := range []string{f.inbox, filepath.Join(dir, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}
	if err := os.WriteFile(f.cfgPath, []byte(s.Config(dir, f.inbox, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "state", config.StateFile), store.Options{Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st, f.clock = st, time.Now()
	return f
}

// add writes a file named name into the inbox and takes it in as a
// document in the given situation, recorded under name.
func (f *retryFixture) add(name, situation, code string) int64 {
	t := f.t
	t.Helper()
	path := filepath.Join(f.inbox, name)
	content := []byte("%PDF-1.4 " + name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	nf := store.NewFile{Source: "inbox", Path: path, FileName: name, Size: fi.Size(), ModTime: fi.ModTime(), SHA256: hex.EncodeToString(sum[:])}
	return f.record(name, nf, situation, code)
}

// addDocument takes in a bucket object as a document in the given
// situation, recorded under name.
func (f *retryFixture) addDocument(name, path string, o bucket.Object, sha, situation, code string) int64 {
	nf := store.NewFile{Source: "inbox", Path: path, FileName: name, Size: o.Size, ModTime: o.ModTime, SHA256: sha,
		FileID: store.FileID{Version: o.Version}}
	return f.record(name, nf, situation, code)
}

// record takes nf in and brings its document to situation.
func (f *retryFixture) record(name string, nf store.NewFile, situation, code string) int64 {
	t, ctx := f.t, context.Background()
	t.Helper()
	var id int64
	var err error
	if situation == "rejected" {
		id, err = f.st.Reject(ctx, nf, code, "refused")
	} else {
		var r store.IntakeResult
		r, err = f.st.Intake(ctx, nf)
		id = r.ID
	}
	if err != nil {
		t.Fatal(err)
	}
	f.ids[name] = id
	if situation == "queued" || situation == "rejected" {
		return id
	}
	b, err := f.st.CreateBatch(ctx, store.ModeSingle, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RecordSubmitted(ctx, b.ID, "", nil, []store.Submitted{{DocID: id, DocumentID: "doc_" + name}}); err != nil {
		t.Fatal(err)
	}
	r := store.Result{DocumentID: "doc_" + name, Status: situation, ErrorCode: code, Via: store.ViaWebhook}
	switch situation {
	case "submitted":
		return id
	case docuparse.StatusCompleted:
		r.Data = []byte(`{"total":"1.00"}`)
	}
	if _, err := f.st.ApplyResult(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MarkExported(ctx, []int64{id}, nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// standard builds the documents most tests use: two days ago a failed, a
// completed, a stuck, a queued, a rejected document, one whose file is gone
// and one whose file changed; and a document submitted just now.
func (f *retryFixture) standard() {
	f.clock = time.Now().Add(-48 * time.Hour)
	f.add("failed.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	f.add("completed.pdf", docuparse.StatusCompleted, "")
	f.add("stuck.pdf", "submitted", "")
	f.add("queued.pdf", "queued", "")
	f.add("rejected.pdf", "rejected", docuparse.CodeUnsupportedMedia)
	f.add("gone.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	f.add("changed.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	f.clock = time.Now()
	f.add("fresh.pdf", "submitted", "")
	if err := os.Remove(filepath.Join(f.inbox, "gone.pdf")); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.inbox, "changed.pdf"), []byte("%PDF-1.4 new content"), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *retryFixture) run(args ...string) (string, error) {
	f.t.Helper()
	out, _, err := run(f.t, secretEnv, "", append([]string{"retry", "--config", f.cfgPath}, args...)...)
	return out, err
}

func (f *retryFixture) doc(name string) *store.Document {
	f.t.Helper()
	d, err := f.st.Get(context.Background(), f.ids[name])
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// retried finds the output line of name's retry and returns the new id.
func (f *retryFixture) retried(out, name string) int64 {
	f.t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(`(?m)^retry %d → (\d+) \(%s\)$`, f.ids[name], regexp.QuoteMeta(filepath.Join(f.inbox, name)))).FindStringSubmatch(out)
	if m == nil {
		f.t.Fatalf("no retry line for %s (%d):\n%s", name, f.ids[name], out)
	}
	var id int64
	fmt.Sscan(m[1], &id)
	return id
}

func (f *retryFixture) skipped(out, name, reason string) {
	f.t.Helper()
	if want := fmt.Sprintf("skip %d: %s", f.ids[name], reason); !strings.Contains(out, want) {
		f.t.Fatalf("no line %q:\n%s", want, out)
	}
}

func (f *retryFixture) count() int {
	f.t.Helper()
	docs, err := f.st.Documents(context.Background(), "", 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(docs)
}

func TestRetryFailedAndStuckResubmitsThemAndSaysWhyOthersAreSkipped(t *testing.T) {
	f := newRetryFixture(t)
	f.standard()
	out, err := f.run("--failed", "--stuck")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	newFailed, newStuck := f.retried(out, "failed.pdf"), f.retried(out, "stuck.pdf")
	f.skipped(out, "gone.pdf", "file is gone")
	f.skipped(out, "changed.pdf", "file has changed")
	for _, name := range []string{"completed.pdf", "queued.pdf", "rejected.pdf", "fresh.pdf"} {
		if id := f.ids[name]; strings.Contains(out, fmt.Sprintf("retry %d ", id)) || strings.Contains(out, fmt.Sprintf("skip %d:", id)) {
			t.Errorf("%s was selected:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "2 of 4 document(s) retried, 2 skipped") {
		t.Errorf("no summary:\n%s", out)
	}
	for _, id := range []int64{newFailed, newStuck} {
		d, err := f.st.Get(context.Background(), id)
		if err != nil || d.State != store.StateQueued {
			t.Fatalf("retry %d = %+v, %v; want queued", id, d, err)
		}
	}
	if d := f.doc("failed.pdf"); d.State != store.StateExported || d.ErrorCode != docuparse.CodeExtractionFailed {
		t.Errorf("the failed document changed: %+v", d)
	}
	if d := f.doc("stuck.pdf"); d.State != store.StateFailed || d.ErrorCode != vocab.CodeResubmitted ||
		d.ErrorMessage != fmt.Sprintf("resubmitted as document %d", newStuck) {
		t.Errorf("the stuck document = %+v, want failed RESUBMITTED", d)
	}

	// Run again: what was retried is not selected again; what is left
	// cannot be retried, so the command fails with a one-line reason.
	out, err = f.run("--failed", "--stuck")
	if err == nil || !strings.Contains(err.Error(), "nothing retried: 2 document(s) skipped") || strings.Contains(out, "retry ") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
}

func TestRetryByIDRefusesWhatCannotBeRetriedWithAReasonEach(t *testing.T) {
	f := newRetryFixture(t)
	f.standard()
	out, err := f.run(fmt.Sprint(f.ids["completed.pdf"]), fmt.Sprint(f.ids["queued.pdf"]), "doc_failed.pdf", "9999", "doc_unknown",
		fmt.Sprint(f.ids["failed.pdf"]), fmt.Sprint(f.ids["fresh.pdf"]))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f.skipped(out, "completed.pdf", "completed documents are not retried")
	f.skipped(out, "queued.pdf", "queued documents are not retried")
	for _, want := range []string{"skip 9999: no such document", "skip doc_unknown: no such document"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	first := f.retried(out, "failed.pdf")
	if strings.Count(out, fmt.Sprintf("retry %d ", f.ids["failed.pdf"])) != 1 {
		t.Errorf("the document named twice (by both ids) was retried twice:\n%s", out)
	}
	f.retried(out, "fresh.pdf") // named explicitly: retried however recent

	out, err = f.run(fmt.Sprint(f.ids["failed.pdf"]))
	if err == nil {
		t.Fatalf("a second retry was accepted:\n%s", out)
	}
	f.skipped(out, "failed.pdf", fmt.Sprintf("already retried as document %d (--again retries it anyway)", first))
	out, err = f.run("--again", fmt.Sprint(f.ids["failed.pdf"]))
	if second := f.retried(out, "failed.pdf"); err != nil || second == first {
		t.Fatalf("--again: %v\n%s", err, out)
	}
}

func TestRetryDryRunChangesNothing(t *testing.T) {
	f := newRetryFixture(t)
	f.standard()
	before := f.count()
	out, err := f.run("--dry-run", "--failed", "--stuck")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		fmt.Sprintf("would retry %d (%s)\n", f.ids["failed.pdf"], filepath.Join(f.inbox, "failed.pdf")),
		fmt.Sprintf("would retry %d (%s); it would end failed as RESUBMITTED\n", f.ids["stuck.pdf"], filepath.Join(f.inbox, "stuck.pdf")),
		fmt.Sprintf("skip %d: file is gone", f.ids["gone.pdf"]),
		"2 of 4 document(s) would be retried, 2 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	if f.count() != before || f.doc("stuck.pdf").State != store.StateSubmitted {
		t.Fatal("a dry run changed the store")
	}
}

func TestRetrySelectsByCodeAndSource(t *testing.T) {
	f := newRetryFixture(t)
	f.standard()
	out, err := f.run("--code", docuparse.CodeUnsupportedMedia)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f.retried(out, "rejected.pdf")
	if strings.Count(out, "\n") != 1 {
		t.Errorf("more than the rejected document was chosen:\n%s", out)
	}
	out, err = f.run("--failed", "--source", "elsewhere")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `no [[source]] has name = "elsewhere" (configured: inbox)`) || out != "" {
		t.Fatalf("unknown source: %v\n%s", err, out)
	}
}

func TestRetryUsageErrors(t *testing.T) {
	f := newRetryFixture(t)
	for _, args := range [][]string{{}, {"abc"}, {"0"}, {"doc_"}, {"--source", "inbox", "12"}, {"--nope"}} {
		_, err := f.run(args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestRetryProgressIsPrintedEveryThousandOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, every: 2, total: 5}
	for i := 1; i <= 5; i++ {
		p.step(i)
	}
	if want := "… 2 of 5 document(s) done, 2 retried\n… 4 of 5 document(s) done, 4 retried\n"; buf.String() != want {
		t.Fatalf("progress:\n%q, want\n%q", buf.String(), want)
	}
	var quiet *progress
	quiet.step(1) // not a terminal: no progress, no panic
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if isTerminal(&buf) || isTerminal(file) {
		t.Fatal("a buffer or a regular file taken for a terminal")
	}
}

func startRetryDaemon(t *testing.T, s *e2e.Sim, dir, inbox string, tr *e2e.Tracker) (*daemon.Daemon, string) {
	t.Helper()
	text := s.Config(dir, inbox, "")
	cfg, err := config.Parse(strings.NewReader(text), "retry.toml", e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(context.Background(), cfg, daemon.Options{OnTransition: tr.Observe, SubmitBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.SetWebhookURL("http://" + d.ReceiverAddr() + cfg.Receiver.Path)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, text
}

// A failed and a stuck document, retried by the command beside a running
// daemon, are submitted by that daemon on its own and each gets its own
// row, while the old documents keep exactly their one failure row.
func TestRetriedDocumentsAreSubmittedByTheRunningDaemon(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	files := samples.Generate(2, 11) // neither carries the failure marker
	pathX, pathY := filepath.Join(inbox, files[0].Name), filepath.Join(inbox, files[1].Name)
	tr := e2e.NewTracker()

	// Phase 1: an API that fails every extraction. X fails; Y's result
	// never reaches the daemon (no webhook, not polled within the grace).
	broken := e2e.StartSim(t, sim.Config{FailureRate: 1})
	first, _ := startRetryDaemon(t, broken, dir, inbox, tr)
	if err := os.WriteFile(pathX, files[0].Content, 0o644); err != nil {
		t.Fatal(err)
	}
	tr.WaitFor(t, "X exported as failed", 30*time.Second, func() bool { return tr.Reached(pathX, store.StateExported, 1) })
	broken.SetWebhookURL("")
	if err := os.WriteFile(pathY, files[1].Content, 0o644); err != nil {
		t.Fatal(err)
	}
	tr.WaitFor(t, "Y submitted", 30*time.Second, func() bool { return tr.Reached(pathY, store.StateSubmitted, 1) })
	first.Stop()

	// Phase 2: a working API; the retry command runs beside the daemon.
	good := e2e.StartSim(t, sim.Config{})
	_, text := startRetryDaemon(t, good, dir, inbox, tr)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	oldX, oldY := tr.Transitions(pathX)[0].DocID, tr.Transitions(pathY)[0].DocID
	env := map[string]string{"DOCUPARSE_API_KEY": e2e.APIKey, "DOCUPARSE_WEBHOOK_SECRET": e2e.WebhookSecret}
	out, _, err := run(t, env, "", "retry", "--config", cfgPath, fmt.Sprint(oldX), fmt.Sprint(oldY))
	if err != nil || strings.Count(out, "retry ") != 2 {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	tr.WaitFor(t, "both retries and the resubmitted Y exported", 30*time.Second, func() bool {
		return tr.Reached(pathX, store.StateExported, 2) && tr.Reached(pathY, store.StateExported, 2)
	})

	rows := e2e.ReadCSV(t, filepath.Join(dir, "out"), "documents-*.csv")
	byPath := map[string][]e2e.Row{}
	ids := map[string]bool{}
	for _, r := range rows {
		byPath[r["source"]] = append(byPath[r["source"]], r)
		ids[r["document_id"]] = true
	}
	if len(rows) != 4 || len(ids) != 4 {
		t.Fatalf("%d rows with %d document ids, want 4 and 4: %v", len(rows), len(ids), rows)
	}
	for path, wantCode := range map[string]string{pathX: docuparse.CodeExtractionFailed, pathY: vocab.CodeResubmitted} {
		got := byPath[path]
		if len(got) != 2 || got[0]["status"] != "failed" || got[0]["error_code"] != wantCode || got[1]["status"] != "completed" {
			t.Errorf("%s: rows %v, want one failed (%s) then one completed", filepath.Base(path), got, wantCode)
		}
	}
	checkRetryOf(t, filepath.Join(dir, "out"), map[string]int64{pathX: oldX, pathY: oldY})
	for sha, n := range good.Stats().CreatedBySHA256 {
		if n != 1 {
			t.Errorf("content %s submitted %d times to the working API", sha[:12], n)
		}
	}
}

// retry (and --dry-run) checks a file the way an upload does: through the
// source folder's pin, following no symbolic link, and by its content. A
// file replaced by another of the same size and modification time
// (cp -p, rsync -t) is not the document's file, and neither is a symlink
// put in its place, however like the original its target is.
func TestRetryChecksTheFileAsTheUploadWouldNotItsSizeAndMtimeAlone(t *testing.T) {
	f := newRetryFixture(t)
	f.clock = time.Now().Add(-48 * time.Hour)
	f.add("copied.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	f.add("linked.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	copied := filepath.Join(f.inbox, "copied.pdf")
	fi, err := os.Stat(copied)
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte("x"), int(fi.Size()))
	if err := os.WriteFile(copied, other, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(copied, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(f.inbox, "linked.pdf")
	outside := filepath.Join(t.TempDir(), "linked.pdf")
	if err := os.Rename(linked, outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, linked); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		args := []string{"--failed"}
		if dry {
			args = append([]string{"--dry-run"}, args...)
		}
		out, err := f.run(args...)
		if err == nil {
			t.Fatalf("dry=%v: retried a replaced file:\n%s", dry, out)
		}
		f.skipped(out, "copied.pdf", "file has changed")
		f.skipped(out, "linked.pdf", "cannot check the file")
		if !strings.Contains(out, "symbolic link") {
			t.Errorf("dry=%v: the symlink is not named as one:\n%s", dry, out)
		}
	}
}

// checkRetryOf reads every JSON result under out and checks that the
// completed retry of each path in originals names its original (by local
// id, local_ref and document_id, as the original's own result file has
// them), and that every other result has retry_of null.
func checkRetryOf(t *testing.T, out string, originals map[string]int64) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(out, "results", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JSON results under %s: %v", out, err)
	}
	type link struct {
		ID         int64  `json:"id"`
		LocalRef   string `json:"local_ref"`
		DocumentID string `json:"document_id"`
	}
	type result struct {
		Source     string          `json:"source"`
		Status     string          `json:"status"`
		LocalRef   string          `json:"local_ref"`
		DocumentID string          `json:"document_id"`
		RetryOf    json.RawMessage `json:"retry_of"`
	}
	byRef := map[string]result{}
	var all []result
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.RetryOf == nil {
			t.Fatalf("%s has no retry_of key:\n%s", name, b)
		}
		byRef[r.LocalRef] = r
		all = append(all, r)
	}
	found := 0
	for _, r := range all {
		if r.Status != "completed" {
			if string(r.RetryOf) != "null" {
				t.Errorf("original %s (%s): retry_of = %s, want null", r.LocalRef, r.Source, r.RetryOf)
			}
			continue
		}
		var l link
		if err := json.Unmarshal(r.RetryOf, &l); err != nil {
			t.Fatalf("retry %s: retry_of %s: %v", r.LocalRef, r.RetryOf, err)
		}
		orig, ok := byRef[l.LocalRef]
		if l.ID != originals[r.Source] || !ok || orig.Source != r.Source || orig.DocumentID != l.DocumentID || l.DocumentID == "" {
			t.Errorf("retry %s of %s: retry_of = %s, want the original document %d (its result: %+v)", r.LocalRef, r.Source, r.RetryOf, originals[r.Source], orig)
		}
		found++
	}
	if found != len(originals) {
		t.Errorf("%d completed retries in the results, want %d", found, len(originals))
	}
}
