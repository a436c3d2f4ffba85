package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
)

// day0 is the completion time of every document unless a test moves the clock.
var day0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

const dayName = "2026-11-28"

// logBuf collects log output written from other goroutines.
type logBuf = testlog.Buffer

// rig is a real store with terminal documents built from real sample files,
// and the output directory an Exporter writes to.
type rig struct {
	st    *store.Store
	out   string
	inbox string
	logs  *logBuf
	wake  chan struct{}
	now   atomic.Pointer[time.Time]
	seq   atomic.Int64
	files []samples.File // good samples (no fail marker), used in order
	next  int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{out: filepath.Join(dir, "out"), inbox: filepath.Join(dir, "inbox"), logs: &logBuf{}, wake: make(chan struct{}, 1)}
	r.setNow(day0)
	st, err := store.Open(context.Background(), filepath.Join(dir, "state.db"), store.Options{
		// Every reading of the clock moves it on by a millisecond, so
		// completion times are distinct and ordered.
		Now: func() time.Time { return r.now.Load().Add(time.Duration(r.seq.Add(1)) * time.Millisecond) },
		OnTransition: func(store.Transition) {
			select {
			case r.wake <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.st = st
	for _, f := range samples.Generate(40, 5) {
		if !bytes.Contains(f.Content, []byte(samples.FailMarker)) {
			r.files = append(r.files, f)
		}
	}
	return r
}

func (r *rig) setNow(t time.Time) { r.now.Store(&t) }

// exporter returns an Exporter over the rig; mod adjusts its config.
func (r *rig) exporter(mod func(*Config)) *Exporter {
	cfg := Config{Store: r.st, Layout: output.Layout{Root: r.out, Location: time.UTC},
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg)
}

// sample returns the next good sample file. Its name tells the simulator
// how to read it; the path it is stored under may differ.
func (r *rig) sample() samples.File {
	f := r.files[r.next%len(r.files)]
	r.next++
	return f
}

// write puts content at inbox/rel and returns what intake would record.
func (r *rig) write(t *testing.T, rel string, content []byte, dedupe bool) store.NewFile {
	t.Helper()
	p := filepath.Join(r.inbox, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return store.NewFile{Source: "inbox", Path: p, FileName: filepath.Base(p), Size: fi.Size(), ModTime: fi.ModTime(),
		SHA256: hex.EncodeToString(sum[:]), Dedupe: dedupe}
}

// submit takes a file in and records it submitted under a fresh API id.
func (r *rig) submit(t *testing.T, rel string, content []byte) (int64, string) {
	t.Helper()
	return r.submitFile(t, r.write(t, rel, content, false))
}

// submitFile takes f in and records it submitted under a fresh API id.
func (r *rig) submitFile(t *testing.T, f store.NewFile) (int64, string) {
	t.Helper()
	ctx := t.Context()
	res, err := r.st.Intake(ctx, f)
	if err != nil || res.State != store.StateQueued {
		t.Fatalf("intake %s: %+v, %v", f.Path, res, err)
	}
	b, err := r.st.CreateBatch(ctx, store.ModeBatch, []int64{res.ID})
	if err != nil {
		t.Fatal(err)
	}
	docID := fmt.Sprintf("doc_test%04d", res.ID)
	if err := r.st.RecordSubmitted(ctx, b.ID, fmt.Sprintf("batch_test%04d", b.ID), []byte("{}"),
		[]store.Submitted{{DocID: res.ID, DocumentID: docID}}); err != nil {
		t.Fatal(err)
	}
	return res.ID, docID
}

func (r *rig) apply(t *testing.T, res store.Result) {
	t.Helper()
	outcome, err := r.st.ApplyResult(t.Context(), res)
	if err != nil || outcome != store.Applied {
		t.Fatalf("apply result for %s: %q, %v", res.DocumentID, outcome, err)
	}
}

// completed records f as completed with the data the simulator extracts
// from it, at inbox/rel, and returns its local id and that data.
func (r *rig) completed(t *testing.T, rel string, f samples.File) (int64, *docuparse.Data) {
	t.Helper()
	data, eerr := sim.Extract(f.Name, f.Content)
	if eerr != nil {
		t.Fatalf("the simulator cannot extract %s: %v", f.Name, eerr)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	id, docID := r.submit(t, rel, f.Content)
	r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: raw, Via: store.ViaWebhook,
		APITimestamp: "2026-11-28T10:00:00Z"})
	return id, data
}

// completedRaw records a completed document whose data is raw as given.
func (r *rig) completedRaw(t *testing.T, rel string, content []byte, raw string) int64 {
	t.Helper()
	id, docID := r.submit(t, rel, content)
	r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: json.RawMessage(raw), Via: store.ViaPoll})
	return id
}

func (r *rig) failed(t *testing.T, rel string, content []byte) int64 {
	t.Helper()
	id, docID := r.submit(t, rel, content)
	r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
		ErrorMessage: "Document extraction failed for this file.", Via: store.ViaWebhook})
	return id
}

func (r *rig) rejected(t *testing.T, rel string) int64 {
	t.Helper()
	f := r.write(t, rel, []byte("not a document"), false)
	f.SHA256 = ""
	id, err := r.st.Reject(t.Context(), f, docuparse.CodeUnsupportedMedia, `file type ".txt" is not supported (PDF and CSV only)`)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (r *rig) duplicate(t *testing.T, rel string, content []byte) int64 {
	t.Helper()
	res, err := r.st.Intake(t.Context(), r.write(t, rel, content, true))
	if err != nil || res.State != store.StateDuplicate {
		t.Fatalf("intake of duplicate %s: %+v, %v", rel, res, err)
	}
	return res.ID
}

func (r *rig) get(t *testing.T, id int64) store.Document {
	t.Helper()
	d, err := r.st.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return *d
}

func (r *rig) runOnce(t *testing.T, e *Exporter, want int) {
	t.Helper()
	n, err := e.RunOnce(t.Context())
	if err != nil || n != want {
		t.Fatalf("RunOnce = %d, %v; want %d exported", n, err, want)
	}
}

func (r *rig) documentsCSV() string {
	return filepath.Join(r.out, "csv", "documents-"+dayName+".csv")
}

func (r *rig) lineItemsCSV() string {
	return filepath.Join(r.out, "csv", "line_items-"+dayName+".csv")
}

// readCSV parses a whole CSV file, failing the test on any malformed or
// partial row, and checks its header.
func readCSV(t *testing.T, path string, header []string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end with a complete row", path)
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = len(header)
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s is not clean CSV: %v\n%s", path, err, b)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("%s header = %v, want %v", path, recs, header)
	}
	return recs[1:]
}

// col returns the named column of a documents-*.csv row.
func col(rec []string, name string) string {
	return rec[slices.Index(output.DocumentsHeader, name)]
}

// rowsByFile indexes documents rows by file name, failing on a repeat.
func rowsByFile(t *testing.T, recs [][]string) map[string][]string {
	t.Helper()
	m := map[string][]string{}
	for _, rec := range recs {
		name := col(rec, "file_name")
		if _, ok := m[name]; ok {
			t.Errorf("%s has two rows", name)
		}
		m[name] = rec
	}
	return m
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func (r *rig) resultPath(name string) string {
	return filepath.Join(r.out, "results", dayName, name+".json")
}

func TestExportWritesEveryKindOfTerminalDocumentToJSONAndCSV(t *testing.T) {
	r := newRig(t)
	good1, good2, other := r.sample(), r.sample(), r.sample()
	c1, data1 := r.completed(t, good1.Name, good1)
	c2, data2 := r.completed(t, good2.Name, good2)
	f := r.failed(t, "unreadable scan.pdf", other.Content)
	rj := r.rejected(t, "notes.txt")
	dup := r.duplicate(t, "copy of "+good1.Name, good1.Content)

	e := r.exporter(func(c *Config) { c.Chunk = 2 }) // three chunks
	r.runOnce(t, e, 5)

	for _, id := range []int64{c1, c2, f, rj, dup} {
		if d := r.get(t, id); d.State != store.StateExported || d.ExportedAt.IsZero() || d.Outcome == "" {
			t.Errorf("document %d (%s) is %s with outcome %q after export", id, d.FileName, d.State, d.Outcome)
		}
	}
	d1, d2, df, drj, ddup := r.get(t, c1), r.get(t, c2), r.get(t, f), r.get(t, rj), r.get(t, dup)

	rows := rowsByFile(t, readCSV(t, r.documentsCSV(), output.DocumentsHeader))
	if len(rows) != 5 {
		t.Fatalf("documents CSV has %d rows, want 5", len(rows))
	}
	for _, c := range []struct {
		d    store.Document
		data *docuparse.Data
	}{{d1, data1}, {d2, data2}} {
		row := rows[c.d.FileName]
		want := map[string]string{
			"document_id": c.d.DocumentID, "status": "completed", "source": c.d.Path, "sha256": c.d.SHA256,
			"size_bytes": fmt.Sprint(c.d.SizeBytes), "batch_id": c.d.APIBatchID, "result_via": "webhook",
			"merchant": output.Neutralise(c.data.Merchant), "invoice_id": c.data.InvoiceID, "currency": c.data.Currency,
			"subtotal": c.data.Subtotal, "tax": c.data.Tax, "total": c.data.Total,
			"line_item_count": fmt.Sprint(len(c.data.LineItems)), "error_code": "",
		}
		for k, v := range want {
			if got := col(row, k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.d.FileName, k, got, v)
			}
		}
	}
	for name, want := range map[string]map[string]string{
		df.FileName:   {"document_id": df.DocumentID, "status": "failed", "error_code": docuparse.CodeExtractionFailed, "total": "", "merchant": ""},
		drj.FileName:  {"document_id": "", "status": "rejected", "error_code": docuparse.CodeUnsupportedMedia, "batch_id": "", "sha256": ""},
		ddup.FileName: {"document_id": d1.DocumentID, "status": "duplicate", "total": "", "merchant": "", "line_item_count": "", "sha256": d1.SHA256},
	} {
		for k, v := range want {
			if got := col(rows[name], k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}

	items := readCSV(t, r.lineItemsCSV(), output.LineItemsHeader)
	perDoc := map[string]int{}
	for _, it := range items {
		perDoc[it[0]]++
	}
	if len(items) != len(data1.LineItems)+len(data2.LineItems) || perDoc[d1.DocumentID] != len(data1.LineItems) ||
		perDoc[d2.DocumentID] != len(data2.LineItems) {
		t.Errorf("line items per document = %v, want %d for %s and %d for %s", perDoc,
			len(data1.LineItems), d1.DocumentID, len(data2.LineItems), d2.DocumentID)
	}

	j := readJSON(t, r.resultPath(d1.DocumentID))
	if j["status"] != "completed" || j["document_id"] != d1.DocumentID || j["local_ref"] != d1.ClientReference ||
		j["data"].(map[string]any)["total"] != data1.Total || j["error"] != nil {
		t.Errorf("result file of %s = %v", d1.DocumentID, j)
	}
	if j := readJSON(t, r.resultPath(df.DocumentID)); j["status"] != "failed" || j["error"].(map[string]any)["code"] != docuparse.CodeExtractionFailed {
		t.Errorf("result file of the failed document = %v", j)
	}
	if j := readJSON(t, r.resultPath(drj.ClientReference)); j["status"] != "rejected" || j["document_id"] != "" ||
		j["error"].(map[string]any)["code"] != docuparse.CodeUnsupportedMedia {
		t.Errorf("result file of the rejected document = %v", j)
	}
	if j := readJSON(t, r.resultPath(ddup.ClientReference)); j["status"] != "duplicate" || j["document_id"] != d1.DocumentID ||
		j["duplicate_of"] != d1.Path || j["data"] != nil {
		t.Errorf("result file of the duplicate = %v", j)
	}

	// Nothing left: a second pass writes nothing.
	before, _ := os.ReadFile(r.documentsCSV())
	r.runOnce(t, e, 0)
	if after, _ := os.ReadFile(r.documentsCSV()); !bytes.Equal(before, after) {
		t.Error("a pass with nothing to export changed the documents CSV")
	}
	if n, err := r.st.CSVCommitted(t.Context(), "csv/documents-"+dayName+".csv"); err != nil || n != int64(len(before)) {
		t.Errorf("committed size = %d, %v; want the file's %d bytes", n, err, len(before))
	}
}

func TestExportWritesEachDayToItsOwnFilesInTheConfiguredZone(t *testing.T) {
	r := newRig(t)
	zone := time.FixedZone("UTC+10", 10*3600)
	a := r.sample()
	r.completed(t, a.Name, a) // 10:00 UTC is 20:00 on the 28th in UTC+10
	r.setNow(day0.Add(5 * time.Hour))
	b := r.sample()
	r.completed(t, b.Name, b) // 15:00 UTC is 01:00 on the 29th
	r.runOnce(t, r.exporter(func(c *Config) { c.Layout.Location = zone }), 2)
	for file, want := range map[string]string{"documents-2026-11-28.csv": a.Name, "documents-2026-11-29.csv": b.Name} {
		rows := readCSV(t, filepath.Join(r.out, "csv", file), output.DocumentsHeader)
		if len(rows) != 1 || col(rows[0], "file_name") != want {
			t.Errorf("%s = %v, want one row for %s", file, rows, want)
		}
	}
}

func TestExportOfUnusableResultDataDoesNotBlockLaterDocuments(t *testing.T) {
	r := newRig(t)
	const bad = `{"document_type":"invoice","merchant":"Float Co","total":3850.5,"line_items":[]}`
	badID := r.completedRaw(t, "float.pdf", []byte("%PDF float money"), bad)
	good := r.sample()
	goodID, goodData := r.completed(t, good.Name, good)

	r.runOnce(t, r.exporter(func(c *Config) { c.Chunk = 1 }), 2)

	rows := rowsByFile(t, readCSV(t, r.documentsCSV(), output.DocumentsHeader))
	row := rows["float.pdf"]
	if row == nil || col(row, "status") != "completed" || col(row, "error_code") != "INVALID_RESULT" ||
		col(row, "error_message") == "" || col(row, "total") != "" || col(row, "merchant") != "" {
		t.Errorf("row of the bad document = %v, want completed with INVALID_RESULT and no extracted fields", row)
	}
	if g := rows[good.Name]; g == nil || col(g, "total") != goodData.Total || col(g, "error_code") != "" {
		t.Errorf("row of the good document = %v", g)
	}
	bd := r.get(t, badID)
	j := readJSON(t, r.resultPath(bd.DocumentID))
	if j["data"] != nil || j["error"].(map[string]any)["code"] != "INVALID_RESULT" {
		t.Errorf("result file of the bad document = %v", j)
	}
	if bd.State != store.StateExported || r.get(t, goodID).State != store.StateExported {
		t.Error("both documents must be exported")
	}
	if !strings.Contains(string(bd.Result), "3850.5") {
		t.Errorf("the raw result was not kept in the store: %s", bd.Result)
	}
	if !strings.Contains(r.logs.String(), "result data unusable") {
		t.Errorf("the bad data was not logged:\n%s", r.logs.String())
	}
}

func TestExporterStartExportsAndWakesOnNotify(t *testing.T) {
	r := newRig(t)
	first := r.sample()
	a, _ := r.completed(t, first.Name, first)
	e := r.exporter(func(c *Config) { c.Interval = time.Hour }) // only Start and Notify can run a pass
	e.Start(t.Context())
	t.Cleanup(e.Stop)
	waitExported(t, r, a)

	second := r.sample()
	b, _ := r.completed(t, second.Name, second)
	e.Notify()
	waitExported(t, r, b)

	e.Stop()
	e.Stop()
	if rows := readCSV(t, r.documentsCSV(), output.DocumentsHeader); len(rows) != 2 {
		t.Errorf("documents CSV has %d rows, want 2", len(rows))
	}
}

// Stop returns, before Start and twice, and a stopped exporter has no
// goroutine left to run a pass.
func TestExporterStopIsSafeBeforeStartAndTwice(t *testing.T) {
	const frame = "(*Exporter)."
	before := teststop.Goroutines(frame)
	r := newRig(t)
	e := r.exporter(nil)
	teststop.Within(t, "Stop before Start", e.Stop)
	teststop.Within(t, "a second Stop", e.Stop)

	f := r.sample()
	id, _ := r.completed(t, f.Name, f)
	e = r.exporter(func(c *Config) { c.Interval = time.Hour })
	e.Start(t.Context())
	t.Cleanup(e.Stop)
	waitExported(t, r, id)
	if teststop.Count(frame, before) == 0 {
		t.Fatal("no exporter goroutine found while it runs: the check below could not see one")
	}
	teststop.Within(t, "Stop", e.Stop)
	teststop.Within(t, "a second Stop", e.Stop)
	e.Notify() // nothing to wake: must not block
	if left := teststop.Left(frame, before); left != "" {
		t.Fatalf("exporter goroutines still running after Stop:\n%s", left)
	}
}

// waitExported waits, on the store's transition signal, for a document to
// be exported.
func waitExported(t *testing.T, r *rig, id int64) {
	t.Helper()
	testwait.OnSignal(t, r.wake, fmt.Sprintf("document %d to be exported", id), func() bool {
		return r.get(t, id).State == store.StateExported
	})
}
