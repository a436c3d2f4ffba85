package export

// Exporter tests of CSV files that are not as the daemon left them: a state
// database lost while the outputs were kept, and files edited by someone
// else. The rig lives in export_test.go.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// snapshot reads every file of the output CSV folder.
func snapshot(t *testing.T, r *rig) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []string{r.documentsCSV(), r.lineItemsCSV()} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	return out
}

// heldOnce runs two passes and checks that both are held by the file,
// change nothing, export nothing and log one ERROR naming the file.
func heldOnce(t *testing.T, r *rig, e *Exporter, file string, before map[string]string) {
	t.Helper()
	for range 2 {
		if n, err := e.RunOnce(t.Context()); n != 0 || err != nil {
			t.Fatalf("RunOnce = %d, %v; want 0 exported, the row held", n, err)
		}
	}
	held, err := r.st.ExportHeld(t.Context(), 0)
	if err != nil || len(held) != 1 || !strings.Contains(held[0].ExportError, filepath.Base(file)) {
		t.Fatalf("held documents %+v (%v), want one held naming %s", held, err, filepath.Base(file))
	}
	if after := snapshot(t, r); after[file] != before[file] {
		t.Fatalf("%s was changed:\nbefore %q\nafter  %q", file, before[file], after[file])
	}
	logs := r.logs.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 || !strings.Contains(logs, file) {
		t.Errorf("want one ERROR naming %s, got %d:\n%s", file, n, logs)
	}
	if err := e.Held(t.Context()); err == nil || !strings.Contains(err.Error(), filepath.Base(file)) {
		t.Errorf("Held() = %v, want it to name %s", err, filepath.Base(file))
	}
}

func TestExportNeverCutsACSVTheStateDatabaseHasNoRecordOf(t *testing.T) {
	old := newRig(t)
	for range 2 {
		f := old.sample()
		old.completed(t, f.Name, f)
	}
	old.runOnce(t, old.exporter(nil), 2)

	// state.db is lost; out/ is kept. A new database, the same outputs.
	r := newRig(t)
	r.out = old.out
	r.next = old.next
	before := snapshot(t, r)
	if err := CheckOutputs(t.Context(), r.st, output.Layout{Root: r.out}); !errors.Is(err, ErrUnrecordedOutputs) ||
		!strings.Contains(err.Error(), r.documentsCSV()) || !strings.Contains(err.Error(), "backup") {
		t.Fatalf("CheckOutputs = %v, want a refusal naming %s and how to recover", err, r.documentsCSV())
	}
	f := r.sample()
	id, _ := r.completed(t, f.Name, f)
	e := r.exporter(nil)
	heldOnce(t, r, e, r.documentsCSV(), before)
	if d := r.get(t, id); d.State != store.StateCompleted {
		t.Fatalf("document is %s, want it held as completed", d.State)
	}

	// The operator moves the old outputs aside: the rows go to new files.
	csvDir := filepath.Join(r.out, "csv")
	if err := os.Rename(csvDir, csvDir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := CheckOutputs(t.Context(), r.st, output.Layout{Root: r.out}); err != nil {
		t.Fatalf("CheckOutputs after moving the files aside: %v", err)
	}
	r.setNow(day0.Add(time.Hour)) // past the held document's next try
	r.runOnce(t, e, 1)
	if rows := readCSV(t, r.documentsCSV(), output.DocumentsHeader); len(rows) != 1 {
		t.Fatalf("new file has %d rows, want 1", len(rows))
	}
	if err := e.Held(t.Context()); err != nil {
		t.Errorf("still held: %v", err)
	}
}

func TestExportHoldsRowsForACSVEditedOutsideTheDaemon(t *testing.T) {
	edits := map[string]func(t *testing.T, path string){
		"a row added by hand": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("doc_manual,completed,/somewhere/else.pdf\n"); err != nil {
				t.Fatal(err)
			}
		},
		"saved by a spreadsheet, one row longer": func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Excel drops the quotes and adds a total row at the end.
			s := strings.ReplaceAll(string(b), `"`, "") + strings.Repeat(",", len(output.DocumentsHeader)-1) + strings.Repeat("total,", 40) + "\n"
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			e := r.exporter(nil)
			for range 2 {
				f := r.sample()
				r.completed(t, f.Name, f)
			}
			r.runOnce(t, e, 2)
			edit(t, r.documentsCSV())
			before := snapshot(t, r)

			f := r.sample()
			r.completed(t, f.Name, f)
			heldOnce(t, r, e, r.documentsCSV(), before)

			// Moved aside, the file is started anew with the held row.
			if err := os.Rename(r.documentsCSV(), r.documentsCSV()+".edited"); err != nil {
				t.Fatal(err)
			}
			r.setNow(day0.Add(time.Hour)) // past the held document's next try
			r.runOnce(t, e, 1)
			if rows := readCSV(t, r.documentsCSV(), output.DocumentsHeader); len(rows) != 1 {
				t.Fatalf("new file has %d rows, want 1", len(rows))
			}
		})
	}
}
