package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// plantSymlink replaces path (a folder or file the exporter writes) with a
// symbolic link to a fresh folder outside the output directory, and returns
// a function that removes the link, as an operator would.
func plantSymlink(t *testing.T, path string) (remove func()) {
	t.Helper()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	return func() { mustRemove(t, path) }
}

// countRows counts the documents rows of a day's CSV per file name.
func countRows(t *testing.T, r *rig, day string) map[string]int {
	t.Helper()
	path := filepath.Join(r.out, "csv", "documents-"+day+".csv")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return map[string]int{}
	}
	n := map[string]int{}
	for _, rec := range readCSV(t, path, output.DocumentsHeader) {
		n[col(rec, "file_name")]++
	}
	return n
}

// countItems counts the line-item rows of a day's CSV per document id.
func countItems(t *testing.T, r *rig, day string) map[string]int {
	t.Helper()
	path := filepath.Join(r.out, "csv", "line_items-"+day+".csv")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return map[string]int{}
	}
	n := map[string]int{}
	for _, rec := range readCSV(t, path, output.LineItemsHeader) {
		n[rec[0]]++
	}
	return n
}

// TestAnUnsafeOutputPathHoldsOnlyItsDocuments plants each hazard an
// operator or another user can leave in the output directory, in the
// oldest day's place, and checks that only the documents written there are
// held (with the reason in the store and one ERROR line each), that the
// others are exported, that a held document is retried with backoff, and
// that once the hazard is gone it is exported with every row exactly once.
func TestAnUnsafeOutputPathHoldsOnlyItsDocuments(t *testing.T) {
	const day1 = "2026-11-29"
	tests := []struct {
		name string
		// plant puts the hazard in place; the first document of day0 is a,
		// the second b; heldB says whether b is held along with a.
		plant func(t *testing.T, r *rig, a store.Document) (remove func())
		heldB bool
	}{
		{"a symlinked day folder of results", func(t *testing.T, r *rig, _ store.Document) func() {
			return plantSymlink(t, filepath.Join(r.out, "results", dayName))
		}, true},
		{"a symlink at the day's documents CSV", func(t *testing.T, r *rig, _ store.Document) func() {
			return plantSymlink(t, r.documentsCSV())
		}, true},
		{"a symlink at the day's line items CSV", func(t *testing.T, r *rig, _ store.Document) func() {
			return plantSymlink(t, r.lineItemsCSV())
		}, true},
		{"a folder at one document's JSON path", func(t *testing.T, r *rig, a store.Document) func() {
			p := r.resultPath(a.DocumentID)
			if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			fa, fb, fc := r.sample(), r.sample(), r.sample()
			a, da := r.completed(t, fa.Name, fa)
			b, db := r.completed(t, fb.Name, fb)
			if len(da.LineItems) == 0 || len(db.LineItems) == 0 {
				t.Fatal("the samples have no line items: the line items CSV would not be written")
			}
			r.setNow(day0.Add(24 * time.Hour))
			c, _ := r.completed(t, fc.Name, fc) // the next day
			r.setNow(day0.Add(25 * time.Hour))
			remove := tt.plant(t, r, r.get(t, a))
			held := map[int64]bool{a: true, b: tt.heldB}
			nHeld := 1 + boolInt(tt.heldB)

			e := r.exporter(func(c *Config) { c.HoldRetry = time.Minute; c.HoldRetryMax = 4 * time.Minute })
			r.runOnce(t, e, 3-nHeld)
			for _, id := range []int64{a, b, c} {
				d := r.get(t, id)
				switch {
				case held[id] && (d.State != store.StateCompleted || d.ExportError == "" || d.ExportAttempts != 1):
					t.Errorf("document %d is %s with export error %q after %d attempts; want held with a reason", id, d.State, d.ExportError, d.ExportAttempts)
				case !held[id] && (d.State != store.StateExported || d.ExportError != ""):
					t.Errorf("document %d is %s (export error %q); want exported", id, d.State, d.ExportError)
				}
			}
			if got := strings.Count(r.logs.String(), "level=ERROR"); got != nHeld {
				t.Errorf("%d ERROR lines, want one per held document:\n%s", got, r.logs.String())
			}
			if st, err := r.st.Status(t.Context()); err != nil || st.ExportHeld != nHeld {
				t.Errorf("status counts %+v held, %v; want %d", st, err, nHeld)
			}

			// Before the backoff has passed nothing is tried again; after it,
			// the hazard still there, the document is held again, quietly.
			r.runOnce(t, e, 0)
			r.setNow(day0.Add(25*time.Hour + 2*time.Minute))
			r.runOnce(t, e, 0)
			if d := r.get(t, a); d.ExportAttempts != 2 || !d.NextExportAt.After(day0.Add(25*time.Hour+3*time.Minute)) {
				t.Errorf("after the second try: %d attempts, next at %s; want 2 and a doubled wait", d.ExportAttempts, d.NextExportAt)
			}
			if got := strings.Count(r.logs.String(), "level=ERROR"); got != nHeld {
				t.Errorf("a retry logged at ERROR again:\n%s", r.logs.String())
			}

			remove()
			r.setNow(day0.Add(26 * time.Hour))
			r.runOnce(t, e, nHeld)
			for _, id := range []int64{a, b, c} {
				if d := r.get(t, id); d.State != store.StateExported || d.ExportError != "" {
					t.Errorf("document %d is %s (export error %q) once the hazard is gone", id, d.State, d.ExportError)
				}
			}
			if st, err := r.st.Status(t.Context()); err != nil || st.ExportHeld != 0 {
				t.Errorf("status counts %+v held once all are exported, %v", st, err)
			}
			rows := countRows(t, r, dayName)
			if rows[fa.Name] != 1 || rows[fb.Name] != 1 || len(rows) != 2 {
				t.Errorf("rows of %s = %v, want one each for %s and %s", dayName, rows, fa.Name, fb.Name)
			}
			if rows := countRows(t, r, day1); rows[fc.Name] != 1 || len(rows) != 1 {
				t.Errorf("rows of %s = %v, want one for %s", day1, rows, fc.Name)
			}
			items := countItems(t, r, dayName)
			for id, n := range map[int64]int{a: len(da.LineItems), b: len(db.LineItems)} {
				d := r.get(t, id)
				if items[d.DocumentID] != n {
					t.Errorf("%d line items for %s, want %d", items[d.DocumentID], d.DocumentID, n)
				}
				if _, err := os.Stat(r.resultPath(d.DocumentID)); err != nil {
					t.Errorf("result file of %s: %v", d.DocumentID, err)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
