package output

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

var (
	testHeader = []string{"id", "name", "total"}
	rowsA      = [][]string{{"1", "alpha", "10.00"}, {"2", "beta", "-5.00"}}
	rowsB      = [][]string{{"3", "gamma, \"the third\"\nline two", "7.50"}}
)

// readRows parses the CSV file at path.
func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseCSV(t, b, len(testHeader))
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestAppendRecordsWritesTheHeaderOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "csv", "nested", "documents-2026-05-19.csv")
	n1, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	if n1 != fileSize(t, path) {
		t.Fatalf("newSize %d, file size %d", n1, fileSize(t, path))
	}
	n2, err := AppendRecords(path, n1, testHeader, rowsB)
	if err != nil {
		t.Fatal(err)
	}
	if n2 <= n1 || n2 != fileSize(t, path) {
		t.Fatalf("newSize %d after %d, file size %d", n2, n1, fileSize(t, path))
	}
	want := append([][]string{testHeader}, append(append([][]string{}, rowsA...), rowsB...)...)
	if got := readRows(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("file rows:\n got %q\nwant %q", got, want)
	}
}

func TestAppendRecordsHeaderOnlyAndNoRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	n, err := AppendRecords(path, 0, testHeader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readRows(t, path); !reflect.DeepEqual(got, [][]string{testHeader}) {
		t.Errorf("rows = %q, want the header only", got)
	}
	// Nothing to append: the size stays, nothing is written.
	n2, err := AppendRecords(path, n, testHeader, nil)
	if err != nil || n2 != n {
		t.Errorf("AppendRecords(no records) = %d, %v; want %d, nil", n2, err, n)
	}
}

func TestAppendRecordsRepairsAPartialTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	n1, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of the next append left half a row: a prefix
	// of what that append writes.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(EncodeCSV(nil, rowsB)[:17]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	n2, err := AppendRecords(path, n1, testHeader, rowsB)
	if err != nil {
		t.Fatal(err)
	}
	want := append([][]string{testHeader}, append(append([][]string{}, rowsA...), rowsB...)...)
	if got := readRows(t, path); !reflect.DeepEqual(got, want) {
		t.Errorf("file rows:\n got %q\nwant %q", got, want)
	}
	if n2 != fileSize(t, path) {
		t.Errorf("newSize %d, file size %d", n2, fileSize(t, path))
	}
}

// TestAppendRecordsNeverWritesARowTwice plays the crash between "rows
// appended" and "new size recorded": the caller retries from the size it
// had recorded, and the file ends as if the append had happened once.
func TestAppendRecordsNeverWritesARowTwice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.csv")
	once := filepath.Join(dir, "once.csv")

	n1, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AppendRecords(path, n1, testHeader, rowsB); err != nil {
		t.Fatal(err)
	}
	// The store never learned the size above; the exporter retries rowsB.
	n3, err := AppendRecords(path, n1, testHeader, rowsB)
	if err != nil {
		t.Fatal(err)
	}

	m1, err := AppendRecords(once, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := AppendRecords(once, m1, testHeader, rowsB)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want, _ := os.ReadFile(once)
	if !bytes.Equal(got, want) || n3 != m2 {
		t.Errorf("after retry the file is\n%s\nwant\n%s", got, want)
	}

	// A file that was written but whose creation was never recorded
	// (committed 0) starts over with one header.
	n4, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	if n4 != m1 {
		t.Errorf("restart from 0: size %d, want %d", n4, m1)
	}
	if rows := readRows(t, path); len(rows) != 1+len(rowsA) {
		t.Errorf("restart from 0: %d rows, want %d", len(rows), 1+len(rowsA))
	}
}

func TestAppendRecordsShrunkFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.csv")
	n1, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, n1-3); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err = AppendRecords(path, n1, testHeader, rowsB)
	if !errors.Is(err, ErrShrunk) {
		t.Fatalf("err = %v, want ErrShrunk", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a shrunk file was changed")
	}

	missing := filepath.Join(dir, "gone.csv")
	_, err = AppendRecords(missing, n1, testHeader, rowsB)
	if !errors.Is(err, ErrShrunk) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want ErrShrunk and ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a missing file was re-created")
	}
}

func TestAppendRecordsRefusesBadInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	n1, err := AppendRecords(path, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for name, call := range map[string]func() error{
		"wrong width": func() error {
			_, err := AppendRecords(path, n1, testHeader, [][]string{{"4", "delta"}})
			return err
		},
		"empty record": func() error {
			_, err := AppendRecords(path, n1, nil, [][]string{{}})
			return err
		},
		"negative committed": func() error {
			_, err := AppendRecords(path, -1, testHeader, rowsB)
			return err
		},
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", name, err)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("refused input changed the file")
	}
}

func TestAppendRecordsNeutralisesAndQuotes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	recs := [][]string{{"=1+1", "name\nwith newline, comma and \"quotes\"", "-50.00"}}
	if _, err := AppendRecords(path, 0, testHeader, recs); err != nil {
		t.Fatal(err)
	}
	got := readRows(t, path)
	want := [][]string{testHeader, {"'=1+1", "name\nwith newline, comma and \"quotes\"", "-50.00"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	if recs[0][0] != "=1+1" {
		t.Error("AppendRecords modified the caller's records")
	}
}

// A CSV append the file system refuses (the file size limit standing for
// a full disk, as in TestWriteFailureNamesTheFileOnceAndLeavesNoTemporary)
// names the file once, with the system's reason: status shows this error
// to the operator. Not parallel (withFileSizeLimit).
func TestAppendFailureNamesTheFileOnce(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	path := filepath.Join(l.Root, "csv", "documents-2026-05-19.csv")
	var err error
	withFileSizeLimit(t, 16, func() {
		_, err = l.AppendCSV(path, Committed{}, Format{Header: testHeader}, rowsA)
	})
	if err == nil || !errors.Is(err, syscall.EFBIG) || strings.Count(err.Error(), "documents-2026-05-19.csv") != 1 {
		t.Fatalf("error = %v: want the file named once and EFBIG", err)
	}
}
