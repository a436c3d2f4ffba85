package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// outcomeFixture is a configuration with two sources (inbox, scans) whose
// report.timezone is Pacific/Auckland, and a store built through the
// store's own transitions at chosen times.
type outcomeFixture struct {
	t       *testing.T
	dir     string
	cfgPath string
	st      *store.Store
	clock   time.Time // the store's clock while building
}

func newOutcomeFixture(t *testing.T) *outcomeFixture {
	t.Helper()
	f := &outcomeFixture{t: t, dir: t.TempDir()}
	f.cfgPath = filepath.Join(f.dir, "config.toml")
	for _, d := range []string{"inbox", "scans", "state"} {
		if err := os.MkdirAll(filepath.Join(f.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}
	cfg := s.Config(f.dir, filepath.Join(f.dir, "inbox"), "")
	cfg = strings.Replace(cfg, `timezone = "UTC"`, `timezone = "Pacific/Auckland"`, 1)
	cfg += "\n[[source]]\nname = \"scans\"\npath = " + `"` + filepath.Join(f.dir, "scans") + "\"\n"
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(f.dir, "state", config.StateFile), store.Options{Now: func() time.Time { return f.clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	return f
}

// add takes in a file of source src named name with the given content and
// brings it to end (completed, failed, rejected, duplicate — the last by
// content — or queued / submitted, still in flight). An ended document is
// exported unless keep is set.
func (f *outcomeFixture) add(src, name, content, end string) {
	t, ctx := f.t, context.Background()
	t.Helper()
	path := filepath.Join(f.dir, src, name)
	sum := sha256.Sum256([]byte(content))
	nf := store.NewFile{Source: src, Path: path, FileName: name, Size: int64(len(content)), ModTime: f.clock,
		SHA256: hex.EncodeToString(sum[:]), Dedupe: true}
	var id int64
	switch end {
	case "rejected":
		var err error
		if id, err = f.st.Reject(ctx, nf, docuparse.CodeUnsupportedMedia, "refused"); err != nil {
			t.Fatal(err)
		}
	default:
		r, err := f.st.Intake(ctx, nf)
		if err != nil {
			t.Fatal(err)
		}
		if (r.State == store.StateDuplicate) != (end == "duplicate") {
			t.Fatalf("%s taken in as %s", name, r.State)
		}
		id = r.ID
	}
	if end == "completed" || end == "failed" || end == "submitted" {
		b, err := f.st.CreateBatch(ctx, store.ModeSingle, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.st.RecordSubmitted(ctx, b.ID, "", nil, []store.Submitted{{DocID: id, DocumentID: "doc_" + src + name}}); err != nil {
			t.Fatal(err)
		}
	}
	switch end {
	case "queued", "submitted":
		return
	case "completed":
		f.apply(store.Result{DocumentID: "doc_" + src + name, Status: docuparse.StatusCompleted, Data: []byte(`{"total":"1.00"}`), Via: store.ViaWebhook})
	case "failed":
		f.apply(store.Result{DocumentID: "doc_" + src + name, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed, Via: store.ViaWebhook})
	}
	if err := f.st.MarkExported(ctx, []int64{id}, nil); err != nil {
		t.Fatal(err)
	}
}

func (f *outcomeFixture) apply(r store.Result) {
	f.t.Helper()
	if _, err := f.st.ApplyResult(context.Background(), r); err != nil {
		f.t.Fatal(err)
	}
}

// statusNow is when the status command runs in these tests: 01:00 on
// 2026-12-04 in Auckland (UTC+13), still 2026-12-03 in UTC.
var statusNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// standard builds 6 completed, 2 failed, 2 rejected and 1 duplicate
// documents, all exported, one completed of them yesterday in Auckland
// (today in UTC), and two documents in flight.
func (f *outcomeFixture) standard() {
	f.clock = time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC) // 23:30 on the 3rd in Auckland
	f.add("inbox", "yesterday.pdf", "%PDF yesterday", "completed")
	f.add("inbox", "waiting.pdf", "%PDF waiting", "submitted")
	f.clock = time.Date(2026, 12, 3, 11, 30, 0, 0, time.UTC) // 00:30 on the 4th in Auckland
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf", "d.pdf"} {
		f.add("inbox", n, "%PDF "+n, "completed")
	}
	f.add("inbox", "bad1.pdf", "%PDF bad1", "failed")
	f.add("inbox", "bad2.pdf", "%PDF bad2", "failed")
	f.add("inbox", "notes.txt", "notes", "rejected")
	f.add("inbox", "copy of a.pdf", "%PDF a.pdf", "duplicate")
	f.add("scans", "s.pdf", "%PDF s.pdf", "completed")
	f.add("scans", "photo.png", "png", "rejected")
	f.add("scans", "new.pdf", "%PDF new", "queued")
}

// runAt runs the command line with the clock set to now.
func runAt(t *testing.T, now time.Time, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		SysctlDir: linksProtected(t), Now: func() time.Time { return now }}
	if err := m.Run(context.Background(), args); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// Exported documents count by how they ended, per source, today (in
// report.timezone) and in total, beside what is still in flight.
func TestStatusJSONCountsExportedDocumentsByOutcome(t *testing.T) {
	f := newOutcomeFixture(t)
	f.standard()
	js := runAt(t, statusNow, "status", "--json", "--config", f.cfgPath)
	var got struct {
		TodayDate string                    `json:"today_date"`
		Timezone  string                    `json:"timezone"`
		Total     map[string]any            `json:"total"`
		Today     map[string]any            `json:"today"`
		Sources   map[string]map[string]any `json:"sources"`
		Documents map[string]int            `json:"documents"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	tally := func(completed, failed, rejected, duplicate, queued, submitted int) map[string]any {
		return map[string]any{"completed": float64(completed), "failed": float64(failed), "rejected": float64(rejected),
			"duplicate": float64(duplicate), "vanished": float64(0),
			"in_flight": map[string]any{"queued": float64(queued), "submitting": float64(0), "submitted": float64(submitted),
				"awaiting_export": float64(0)}}
	}
	want := map[string]any{
		"total":               tally(6, 2, 2, 1, 1, 1),
		"today":               tally(5, 2, 2, 1, 1, 0),
		"inbox total":         tally(5, 2, 1, 1, 0, 1),
		"inbox today":         tally(4, 2, 1, 1, 0, 0),
		"scans total":         tally(1, 0, 1, 0, 1, 0),
		"scans today":         tally(1, 0, 1, 0, 1, 0),
		"today_date":          "2026-12-04",
		"timezone":            "Pacific/Auckland",
		"exported (by state)": float64(11),
	}
	have := map[string]any{
		"total": got.Total, "today": got.Today,
		"inbox total": got.Sources["inbox"]["total"], "inbox today": got.Sources["inbox"]["today"],
		"scans total": got.Sources["scans"]["total"], "scans today": got.Sources["scans"]["today"],
		"today_date": got.TodayDate, "timezone": got.Timezone,
		"exported (by state)": float64(got.Documents["exported"]),
	}
	for k, w := range want {
		wj, _ := json.Marshal(w)
		hj, _ := json.Marshal(have[k])
		if string(wj) != string(hj) {
			t.Errorf("status --json %s = %s, want %s", k, hj, wj)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", js)
	}
}

// The human status shows the same counts as a table (golden file).
func TestStatusTextCountsExportedDocumentsByOutcome(t *testing.T) {
	f := newOutcomeFixture(t)
	f.standard()
	got := runAt(t, statusNow, "status", "--config", f.cfgPath)
	golden := filepath.Join("testdata", "status", "outcomes.golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// A document that ended but is not exported yet is in flight, and still
// counted by its outcome.
func TestStatusCountsEndedDocumentsAwaitingExport(t *testing.T) {
	f := newOutcomeFixture(t)
	f.clock = statusNow
	f.add("inbox", "a.pdf", "%PDF a", "submitted")
	f.apply(store.Result{DocumentID: "doc_inboxa.pdf", Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed, Via: store.ViaPoll})
	js := runAt(t, statusNow, "status", "--json", "--config", f.cfgPath)
	var got struct {
		Total statusTally `json:"total"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if got.Total.Failed != 1 || got.Total.InFlight.AwaitingExport != 1 || got.Total.InFlight.Submitted != 0 {
		t.Errorf("total = %+v, want failed 1, awaiting export 1\n%s", got.Total, js)
	}
}
