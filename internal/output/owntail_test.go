package output

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeFile writes content to path, creating its folder.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestAppendRecordsNeverCutsWhatItDidNotWrite(t *testing.T) {
	ours := string(EncodeCSV(testHeader, rowsA))
	tests := []struct {
		name      string
		content   string // the file before the append
		committed int64
	}{
		{"nothing committed, a file not starting with the header", "id;name;total\n1;alpha;10.00\n", 0},
		{"nothing committed, a header in another quoting", "id,name,total\n\"1\",\"alpha\",\"10.00\"\n", 0},
		{"a row added by hand after the committed rows", ours + "3,gamma,7.50\n", int64(len(ours))},
		{"a row of another width after the committed rows", ours + `"3","gamma"` + "\n", int64(len(ours))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "documents-2026-05-19.csv")
			writeFile(t, path, tt.content)
			_, err := AppendRecords(path, tt.committed, testHeader, rowsB)
			if !errors.Is(err, ErrNotOurs) {
				t.Fatalf("got %v, want ErrNotOurs", err)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Errorf("the file was changed to %q", got)
			}
		})
	}
}

func TestAppendCommittedRefusesAFileEditedOutsideTheDaemon(t *testing.T) {
	edits := map[string]func(b []byte) []byte{
		// A spreadsheet saved it: no quotes, one row more.
		"rewritten longer": func([]byte) []byte {
			return []byte("id,name,total\n1,alpha,10.00\n2,beta,-5.00\n9,added by hand,1.00\n10,another,2.00\n")
		},
		// A value changed in place, the length kept.
		"edited in place": func(b []byte) []byte {
			b = append([]byte(nil), b...)
			b[len(b)-4] = '9'
			return b
		},
		// Someone's own rows, in our quoting, after a changed row.
		"edited, then rows in our encoding added": func(b []byte) []byte {
			b = append([]byte(nil), b...)
			b[len(b)-4] = '9'
			return append(b, EncodeCSV(nil, rowsB)...)
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			path := filepath.Join(l.Root, "csv", "documents-2026-05-19.csv")
			c, err := l.AppendCommitted(path, Committed{}, testHeader, rowsA)
			if err != nil || c.Tail == "" {
				t.Fatalf("first append: %+v, %v", c, err)
			}
			b, _ := os.ReadFile(path)
			edited := edit(b)
			writeFile(t, path, string(edited))

			_, err = l.AppendCommitted(path, c, testHeader, rowsB)
			if !errors.Is(err, ErrNotOurs) {
				t.Fatalf("got %v, want ErrNotOurs", err)
			}
			if got, _ := os.ReadFile(path); string(got) != string(edited) {
				t.Errorf("the edited file was changed to %q", got)
			}
		})
	}
}

func TestAppendCommittedCutsItsOwnInterruptedAppend(t *testing.T) {
	next := EncodeCSV(nil, rowsB)
	for name, leftover := range map[string][]byte{
		"half a row":                 next[:9],
		"a whole row":                next,
		"half a row, then NUL bytes": append(append([]byte(nil), next[:9]...), 0, 0, 0, 0),
	} {
		t.Run(name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			path := filepath.Join(l.Root, "csv", "d.csv")
			c, err := l.AppendCommitted(path, Committed{}, testHeader, rowsA)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(leftover)
			f.Close()

			c2, err := l.AppendCommitted(path, c, testHeader, rowsB)
			if err != nil {
				t.Fatal(err)
			}
			want := append([][]string{testHeader}, append(append([][]string{}, rowsA...), rowsB...)...)
			if got := readRows(t, path); !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n got %q\nwant %q", got, want)
			}
			if c2.Size != fileSize(t, path) || c2.Tail == c.Tail {
				t.Errorf("committed %+v after %+v, file size %d", c2, c, fileSize(t, path))
			}
		})
	}
}

func TestCheckUnrecorded(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	path := filepath.Join(l.Root, "csv", "documents-2026-05-19.csv")
	if err := l.CheckUnrecorded(path); err != nil {
		t.Fatalf("missing folder: %v", err)
	}
	writeFile(t, path, "")
	if err := l.CheckUnrecorded(path); err != nil {
		t.Fatalf("empty file: %v", err)
	}
	writeFile(t, path, string(EncodeCSV(testHeader, rowsA)))
	if err := l.CheckUnrecorded(path); !errors.Is(err, ErrUnrecorded) {
		t.Fatalf("file with rows: %v, want ErrUnrecorded", err)
	}
	os.Remove(path)
	if err := os.Symlink("/etc/passwd", path); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckUnrecorded(path); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("symlink: %v, want ErrUnsafePath", err)
	}
}
