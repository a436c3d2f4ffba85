package chaos

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// testLog writes the run's progress to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestChaosShort runs the short profile against the built binaries: about
// 200 files, a few kills, a SIGTERM and one burst of each fault kind of
// ShortKinds, then checks the promise. The seed is new each run (or
// DOCUPARSE_CHAOS_SEED); a failure says how to replay it.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos suite runs the real binaries for about a minute")
	}
	seed := time.Now().UnixNano() % 1_000_000_000
	if v := os.Getenv("DOCUPARSE_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("DOCUPARSE_CHAOS_SEED: %v", err)
		}
	}
	o, err := Profile("short", seed)
	if err != nil {
		t.Fatal(err)
	}
	o.Dir = t.TempDir()
	t.Logf("seed %d (replay: DOCUPARSE_CHAOS_SEED=%d go test -run TestChaosShort ./internal/chaos/, or go run ./cmd/docuparse-chaos --seed %d)", seed, seed, seed)
	sum, err := Run(context.Background(), o, testLog{t})
	if err != nil {
		t.Fatalf("seed %d: the run could not be made: %v", seed, err)
	}
	t.Log("\n" + sum.Markdown())
	if sum.Kills == 0 || sum.Files < o.Files || sum.CSVRows == 0 {
		t.Errorf("seed %d: the run did too little: %+v", seed, sum)
	}
	if !sum.OK() {
		t.Errorf("seed %d: %d violation(s) of the promise (listed above); replay with: go run ./cmd/docuparse-chaos --seed %d", seed, len(sum.Violations), seed)
	}
}

func TestScenarioIsTheSameForTheSameSeed(t *testing.T) {
	o, err := Profile("short", 7)
	if err != nil {
		t.Fatal(err)
	}
	o.Kinds = NewKindSet(AllKinds)
	a, b := newScenario(o), newScenario(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two scenarios of seed 7 differ")
	}
	o.Seed = 8
	if reflect.DeepEqual(a, newScenario(o)) {
		t.Fatal("seeds 7 and 8 gave the same scenario")
	}
	seen := map[Kind]int{}
	for _, f := range a.faults {
		seen[f.Kind]++
	}
	for _, f := range a.files {
		seen[f.How]++
		for _, k := range f.Tags {
			seen[k]++
		}
	}
	for _, k := range AllKinds {
		if seen[k] == 0 {
			t.Errorf("kind %s never drawn with every kind on", k)
		}
	}
}

func TestParseKinds(t *testing.T) {
	s, err := ParseKinds("all,-second-daemon, -kill9")
	if err != nil || s[SecondDaemon] || s[Kill9] || !s[APIDown] || len(s) != len(AllKinds)-2 {
		t.Fatalf("all minus two: %v, %v", s, err)
	}
	if s, err := ParseKinds("short"); err != nil || !reflect.DeepEqual(s, NewKindSet(ShortKinds)) {
		t.Fatalf("short: %v, %v", s, err)
	}
	if _, err := ParseKinds("kill9,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown kind: %v", err)
	}
}

// TestCheckFindsEveryViolation feeds the checker outputs with one fault of
// each kind, so that a suite that finds nothing is known to be able to.
func TestCheckFindsEveryViolation(t *testing.T) {
	truth, err := sim.New(sim.Config{APIKey: apiKey})
	if err != nil {
		t.Fatal(err)
	}
	fs := samples.Generate(8, 3) // index 3 fails extraction
	good := func(i int) (string, []byte) { return "/in/" + fs[i].Name, fs[i].Content }
	mk := func(path string, content []byte, status string) row {
		r := map[string]string{"source": path, "sha256": sha(content), "status": status}
		if d, _ := truth.Extract(path, content); status == "completed" && d != nil {
			r["merchant"], r["total"], r["currency"], r["invoice_id"] = neutral(d.Merchant), d.Total, d.Currency, neutral(d.InvoiceID)
		}
		return r
	}
	ledger := map[string]*entry{}
	var rows []row
	var docs []store.Document
	put := func(path string, contents ...[]byte) { ledger[path] = &entry{contents: contents} }

	p0, c0 := good(0) // fine: one completed row
	put(p0, c0)
	rows = append(rows, mk(p0, c0, "completed"))
	p1, c1 := good(1) // lost
	put(p1, c1)
	p2, c2 := good(2) // two rows
	put(p2, c2)
	rows = append(rows, mk(p2, c2, "completed"), mk(p2, c2, "completed"))
	p3, c3 := good(3) // completed, but the truth fails it
	put(p3, c3)
	rows = append(rows, mk(p3, c3, "completed"))
	p4, c4 := good(4) // an empty placeholder's row, then the filled file's
	put(p4, nil, c4)
	empty := mk(p4, nil, "rejected")
	empty["sha256"], empty["size_bytes"] = "", "0" // as the daemon writes it
	rows = append(rows, empty, mk(p4, c4, "completed"))
	p5, c5 := good(5) // stuck
	put(p5, c5)
	docs = append(docs, store.Document{Path: p5, SHA256: sha(c5), State: store.StateSubmitted})
	p6, c6 := good(6) // rejected though good; a duplicate of nothing
	put(p6, c6)
	rows = append(rows, mk(p6, c6, "rejected"), mk("/in/copy", c6, "duplicate"))
	put("/in/copy", c6)
	rows = append(rows, mk("/in/never", c0, "completed"))
	stats := sim.Stats{CreatedBySHA256: map[string]int{sha(c2): 2, sha(fs[7].Content): 1}}

	vs := check(checkInput{ledger: ledger, rows: rows, docs: docs, stats: stats, truth: truth})
	got := map[string]string{}
	for _, v := range vs {
		got[v.Kind+" "+v.File] = v.Detail
	}
	for _, want := range []string{
		VLost + " " + p1, VTwoRows + " " + p2, VWrongFields + " " + p3, VEmptyRow + " " + p4,
		VStuck + " " + p5, VRejected + " " + p6, VDupNoOrig + " /in/copy", VForeignRow + " /in/never",
		VAPITwice + " " + sha(c2)[:12], VAPIOrphan + " " + sha(fs[7].Content)[:12],
	} {
		if _, ok := got[want]; !ok {
			t.Errorf("no violation %q", want)
		}
	}
	for k := range got {
		if strings.HasSuffix(k, " "+p0) {
			t.Errorf("a good file was reported: %s: %s", k, got[k])
		}
	}
}

// A temporary file of an interrupted write left in the output after the
// drain is a violation; a result and a look-alike are not.
func TestLeftTemporariesAreViolations(t *testing.T) {
	out := t.TempDir()
	day := filepath.Join(out, "results", "2026-12-04")
	if err := os.MkdirAll(day, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"doc_a.json", ".doc_b.json.tmp-12345", "doc_c.json.tmp-1"} {
		if err := os.WriteFile(filepath.Join(day, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vs := leftTemporaries(out)
	if len(vs) != 1 || vs[0].Kind != VTemporary || filepath.Base(vs[0].File) != ".doc_b.json.tmp-12345" {
		t.Errorf("violations = %+v, want the one temporary", vs)
	}
}
