package export

// Exporter tests of recovery and of the input files: a crash between the
// CSV append and the exported mark, CSV files shortened from outside, and
// the after-actions. The rig lives in export_test.go.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

func TestExportAfterACrashWritesNoRowTwiceAndNoPartialRow(t *testing.T) {
	tests := []struct {
		name string
		// crash leaves the output as a crash between appending and marking
		// exported would; pending are the documents not marked.
		crash func(t *testing.T, r *rig, pending []store.Document)
	}{
		{
			name: "rows appended but never marked exported are not written again",
			crash: func(t *testing.T, r *rig, pending []store.Document) {
				// The exporter's own steps for the chunk, stopping short of MarkExported.
				var docs, items [][]string
				for _, sd := range pending {
					d := toOutput(sd)
					rec, err := output.DocumentRecord(d)
					if err != nil {
						t.Fatal(err)
					}
					docs = append(docs, rec)
					li, err := output.LineItemRecords(d)
					if err != nil {
						t.Fatal(err)
					}
					items = append(items, li...)
				}
				for path, recs := range map[string][][]string{r.documentsCSV(): docs, r.lineItemsCSV(): items} {
					rel, _ := filepath.Rel(r.out, path)
					committed, err := r.st.CSVCommitted(t.Context(), filepath.ToSlash(rel))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := output.AppendRecords(path, committed, nil, recs); err != nil {
						t.Fatal(err)
					}
				}
			},
		},
		{
			name: "half a row left by a crash is cut off",
			crash: func(t *testing.T, r *rig, pending []store.Document) {
				r.tearTails(t, pending[0])
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			e := r.exporter(nil)
			var ids []int64
			items := 0
			for range 2 {
				f := r.sample()
				id, data := r.completed(t, f.Name, f)
				ids = append(ids, id)
				items += len(data.LineItems)
			}
			r.runOnce(t, e, 2)

			var pending []store.Document
			for range 2 {
				f := r.sample()
				id, data := r.completed(t, f.Name, f)
				ids = append(ids, id)
				items += len(data.LineItems)
				pending = append(pending, r.get(t, id))
			}
			tt.crash(t, r, pending)

			r.runOnce(t, e, 2)
			rows := rowsByFile(t, readCSV(t, r.documentsCSV(), output.DocumentsHeader))
			if len(rows) != 4 {
				t.Errorf("documents CSV has %d rows, want 4", len(rows))
			}
			for _, id := range ids {
				d := r.get(t, id)
				if row, ok := rows[d.FileName]; !ok || col(row, "document_id") != d.DocumentID {
					t.Errorf("no row for %s", d.FileName)
				}
				if d.State != store.StateExported {
					t.Errorf("%s is %s, want exported", d.FileName, d.State)
				}
			}
			if got := readCSV(t, r.lineItemsCSV(), output.LineItemsHeader); len(got) != items {
				t.Errorf("line items CSV has %d rows, want %d", len(got), items)
			}
		})
	}
}

func TestExportAppendsAfterTheEndOfACSVShortenedOutsideTheDaemon(t *testing.T) {
	tests := []struct {
		name    string
		shorten func(t *testing.T, path string)
		want    func(first string) []string // file names of the rows after the next pass
	}{
		{
			name: "a CSV cut back to its first row gets the new row after it",
			shorten: func(t *testing.T, path string) {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Keep the header and the first row: cut after the second newline.
				cut := bytes.IndexByte(b, '\n') + 1
				cut += bytes.IndexByte(b[cut:], '\n') + 1
				if err := os.Truncate(path, int64(cut)); err != nil {
					t.Fatal(err)
				}
			},
			want: func(first string) []string { return []string{first, "new.pdf"} },
		},
		{
			name:    "a CSV emptied to zero bytes starts again with its header",
			shorten: func(t *testing.T, path string) { os.Truncate(path, 0) },
			want:    func(string) []string { return []string{"new.pdf"} },
		},
		{
			name:    "a deleted CSV is created again with its header",
			shorten: func(t *testing.T, path string) { mustRemove(t, path) },
			want:    func(string) []string { return []string{"new.pdf"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			e := r.exporter(nil)
			a, b := r.sample(), r.sample()
			r.completed(t, a.Name, a)
			r.completed(t, b.Name, b)
			r.runOnce(t, e, 2)
			first := col(readCSV(t, r.documentsCSV(), output.DocumentsHeader)[0], "file_name")

			tt.shorten(t, r.documentsCSV())
			r.completed(t, "new.pdf", r.sample())
			r.runOnce(t, e, 1)

			var got []string
			for _, rec := range readCSV(t, r.documentsCSV(), output.DocumentsHeader) {
				got = append(got, col(rec, "file_name"))
			}
			if want := tt.want(first); !slices.Equal(got, want) {
				t.Errorf("rows after the pass = %v, want %v", got, want)
			}
			if !strings.Contains(r.logs.String(), "level=WARN") || !strings.Contains(r.logs.String(), "shrank") {
				t.Errorf("no warning about the shortened file in the log:\n%s", r.logs.String())
			}
			fi, err := os.Stat(r.documentsCSV())
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := r.st.CSVCommitted(t.Context(), "csv/documents-"+dayName+".csv"); n != fi.Size() {
				t.Errorf("committed size %d, file size %d; want them equal", n, fi.Size())
			}
		})
	}
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func TestExportAfterActions(t *testing.T) {
	const rel = "2026/acme/invoice.pdf"
	tests := []struct {
		name  string
		after func(r *rig) map[string]SourceAfter
		// prepare runs after the document is recorded, before the export.
		prepare func(t *testing.T, r *rig, path string)
		// wantAt is where the input file must be afterwards ("" = nowhere),
		// relative to the rig's parent directory; wantNew says it must hold
		// the replacement content.
		wantAt  func(r *rig) string
		wantNew bool
	}{
		{
			name:   "keep leaves the file where it is",
			after:  func(r *rig) map[string]SourceAfter { return map[string]SourceAfter{"inbox": {Action: vocab.AfterKeep}} },
			wantAt: func(r *rig) string { return filepath.Join(r.inbox, rel) },
		},
		{
			name: "a source without an after entry keeps its files",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"other": {Action: vocab.AfterDelete}}
			},
			wantAt: func(r *rig) string { return filepath.Join(r.inbox, rel) },
		},
		{
			name: "delete removes the file",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterDelete}}
			},
			wantAt: func(r *rig) string { return "" },
		},
		{
			name: "move puts the file under move_to, keeping its path below the source folder",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.out, "..", "done")}}
			},
			wantAt: func(r *rig) string { return filepath.Join(r.out, "..", "done", rel) },
		},
		{
			name: "move of a file outside the source folder keeps only its name",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterMove, Root: filepath.Join(r.inbox, "elsewhere"), MoveTo: filepath.Join(r.out, "..", "done")}}
			},
			wantAt: func(r *rig) string { return filepath.Join(r.out, "..", "done", filepath.Base(rel)) },
		},
		{
			name: "delete of a file already gone is not an error",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterDelete}}
			},
			prepare: func(t *testing.T, r *rig, path string) { mustRemove(t, path) },
			wantAt:  func(r *rig) string { return "" },
		},
		{
			name: "move of a file already moved (a crash before the exported mark) is not an error",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.out, "..", "done")}}
			},
			prepare: func(t *testing.T, r *rig, path string) {
				dst := filepath.Join(r.out, "..", "done", rel)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(path, dst); err != nil {
					t.Fatal(err)
				}
			},
			wantAt: func(r *rig) string { return filepath.Join(r.out, "..", "done", rel) },
		},
		{
			// The file now belongs to a new document: deleting it would lose
			// a file nobody has processed.
			name: "delete leaves a file replaced with new content since it was taken in",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterDelete}}
			},
			prepare: replaceInput,
			wantAt:  func(r *rig) string { return filepath.Join(r.inbox, rel) },
			wantNew: true,
		},
		{
			name: "move leaves a file replaced with new content since it was taken in",
			after: func(r *rig) map[string]SourceAfter {
				return map[string]SourceAfter{"inbox": {Action: vocab.AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.out, "..", "done")}}
			},
			prepare: replaceInput,
			wantAt:  func(r *rig) string { return filepath.Join(r.inbox, rel) },
			wantNew: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			f := r.sample()
			id, _ := r.completed(t, rel, f)
			path := r.get(t, id).Path
			if tt.prepare != nil {
				tt.prepare(t, r, path)
			}
			r.runOnce(t, r.exporter(func(c *Config) { c.After = tt.after(r) }), 1)
			if d := r.get(t, id); d.State != store.StateExported {
				t.Fatalf("document is %s, want exported", d.State)
			}
			want := tt.wantAt(r)
			if want != path {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("the input file is still at %s (stat error %v)", path, err)
				}
			}
			if want == "" {
				return
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("the input file is not at %s: %v", want, err)
			}
			wantContent := f.Content
			if tt.wantNew {
				wantContent = replacement
			}
			if !bytes.Equal(b, wantContent) {
				t.Errorf("%s holds other content than expected", want)
			}
			if strings.Contains(r.logs.String(), "after-export action failed") {
				t.Errorf("the after-action logged a failure:\n%s", r.logs.String())
			}
		})
	}
}

var replacement = []byte("%PDF-1.4 a new invoice saved under the same name")

// replaceInput overwrites the input file with new content and a new
// modification time, as a scanner saving under the same name would.
func replaceInput(t *testing.T, _ *rig, path string) {
	t.Helper()
	if err := os.WriteFile(path, replacement, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// tearTails leaves what a crash in the append of d's row does: a prefix of
// that row (its first 40 bytes) at the end of both CSV files.
func (r *rig) tearTails(t *testing.T, d store.Document) {
	t.Helper()
	rec, err := output.DocumentRecord(toOutput(d))
	if err != nil {
		t.Fatal(err)
	}
	half := output.EncodeCSV(nil, [][]string{rec})[:40]
	for _, path := range []string{r.documentsCSV(), r.lineItemsCSV()} {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(half); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// A kill -9 between writing a result's temporary file and renaming it
// leaves the temporary behind, and the document awaiting export. The next
// exporter sweeps the temporaries of the folders it writes into, once,
// and writes the result; a temporary newer than the exporter (another
// writer's) and anything else in the folder are left alone.
func TestExportAfterACrashSweepsTheInterruptedWritesTemporaries(t *testing.T) {
	r := newRig(t)
	f := r.sample()
	id, _ := r.completed(t, f.Name, f)
	result := output.Layout{Root: r.out, Location: time.UTC}.ResultPath(toOutput(r.get(t, id)))
	dir := filepath.Dir(result)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "."+filepath.Base(result)+".tmp-2718281828")
	if err := os.WriteFile(crashed, []byte(`{"half": `), 0o644); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	if err := os.Chtimes(crashed, before, before); err != nil {
		t.Fatal(err)
	}
	e := r.exporter(nil)
	other := filepath.Join(dir, ".someone-else.json.tmp-31415")
	if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(other, later, later); err != nil {
		t.Fatal(err)
	}
	r.runOnce(t, e, 1)

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{filepath.Base(other), filepath.Base(result)}; fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("the result folder holds %v, want %v", names, want)
	}
	if !strings.Contains(r.logs.String(), "removed temporary files an interrupted export left") {
		t.Errorf("the sweep is not logged:\n%s", r.logs.String())
	}
}
