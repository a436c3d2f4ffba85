package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

func TestReportOfADayWithNothingIsEmptyAndBalanced(t *testing.T) {
	f := newRepFixture(t)
	// Files on the days around it only.
	f.at(time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)).intake("/in/before.pdf")
	f.at(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)).intake("/in/after.pdf")
	r := f.report(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Options{Now: time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)})
	if r.Accounting != (Accounting{Balanced: true}) {
		t.Fatalf("accounting = %+v, want all zero and balanced", r.Accounting)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(js, []byte("null")) {
		t.Errorf("an empty report's JSON has a null (lists must be [], times are all known):\n%s", js)
	}
	cs, err := r.CSV()
	if err != nil {
		t.Fatal(err)
	}
	checkReportGolden(t, "empty.md", r.Markdown())
	checkReportGolden(t, "empty.json", js)
	checkReportGolden(t, "empty.csv", cs)
}

// oddNames are file names a scanner, a mail rule or a user can produce.
var oddNames = []string{
	`a,b "quoted".pdf`,
	"line1\nline2.pdf",
	`=HYPERLINK("http://evil.example","click").pdf`,
	"+SUM(A1).pdf",
	"-2+3.pdf",
	"@cmd.pdf",
	"\tTAB.pdf",
	"`rm -rf`.pdf",
	"a|b *bold* [link](x) <b>_x_.pdf",
	`C:\dir\f.pdf`,
	"\u202Efdp.exe",
	"caf\xe9.pdf",
}

func TestReportWithOddFileNamesMatchesTheGoldenFiles(t *testing.T) {
	f := newRepFixture(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.at(day.Add(time.Hour))
	var ids []int64
	for _, n := range oddNames {
		ids = append(ids, f.intake("/in/"+n))
	}
	// A path that itself starts with a formula character (a source may
	// give relative paths or URLs).
	ids = append(ids, f.intake("=cmd|' /C calc'!A0"))
	f.at(day.Add(2*time.Hour)).submit(store.ModeSingle, "", ids[:4], "doc_1", "doc_2", "=doc_3", "doc_4")
	f.webhookFailed("doc_2", "EXTRACTION_FAILED", "bad *input* <script>alert(1)</script> & more\nsecond line")
	f.webhookFailed("=doc_3", "=EVIL()", "")
	f.webhookCompleted("doc_1", "EUR|X", "1.00", "0.10")
	f.finish(store.StateRejected, "UNREADABLE", "permission denied: `x`", ids[4], ids[5])
	r := f.report(day, Options{Now: day.Add(3 * time.Hour)})
	if !r.Accounting.Balanced || r.Accounting.Discovered != len(oddNames)+1 {
		t.Fatalf("accounting = %+v", r.Accounting)
	}
	md := r.Markdown()
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.CSV()
	if err != nil {
		t.Fatal(err)
	}
	checkReportGolden(t, "odd.md", md)
	checkReportGolden(t, "odd.json", js)
	checkReportGolden(t, "odd.csv", cs)

	// The CSV reads back: one row per file, nine cells each, no cell a
	// spreadsheet would run.
	rows, err := csv.NewReader(bytes.NewReader(cs)).ReadAll()
	if err != nil {
		t.Fatalf("report CSV does not parse: %v", err)
	}
	if len(rows) != 1+len(r.Files) {
		t.Fatalf("%d CSV rows, want a header and %d files", len(rows), len(r.Files))
	}
	for _, row := range rows[1:] {
		if len(row) != len(CSVHeader) {
			t.Fatalf("row %q has %d cells", row, len(row))
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	// The JSON keeps every name exactly (valid UTF-8 aside).
	var back struct {
		Pending []struct {
			Path string `json:"path"`
		} `json:"pending"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Pending) != len(oddNames)+1-5 || back.Pending[0].Path != "/in/"+oddNames[6] {
		t.Errorf("pending in JSON = %+v", back.Pending)
	}
	// The Markdown has no raw control characters, and each pending file is
	// on one line of its own.
	for _, c := range []string{"\t", "\r", "\u202E", "\xe9"} {
		if bytes.Contains(md, []byte(c)) {
			t.Errorf("Markdown contains raw %q", c)
		}
	}
	if got := bytes.Count(md, []byte("— queued, waiting")); got != len(oddNames)+1-6 {
		t.Errorf("%d queued lines in the Markdown, want %d", got, len(oddNames)+1-6)
	}
}

func TestReportDaysFollowTheTimeZoneAcrossDSTChanges(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name       string
		day        time.Time // any time in the day, in Berlin
		from, to   time.Time
		in, out    []time.Time // discovery times inside and outside the day
		wantLength time.Duration
	}{
		{
			name: "spring forward: 23 hours", day: time.Date(2026, 3, 29, 12, 0, 0, 0, berlin),
			from: utc(2026, 3, 28, 23, 0), to: utc(2026, 3, 29, 22, 0), wantLength: 23 * time.Hour,
			in:  []time.Time{utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 21, 59)},
			out: []time.Time{utc(2026, 3, 28, 22, 59), utc(2026, 3, 29, 22, 0)},
		},
		{
			name: "fall back: 25 hours, 02:30 happens twice", day: time.Date(2026, 10, 25, 1, 0, 0, 0, berlin),
			from: utc(2026, 10, 24, 22, 0), to: utc(2026, 10, 25, 23, 0), wantLength: 25 * time.Hour,
			in:  []time.Time{utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 22, 59)},
			out: []time.Time{utc(2026, 10, 24, 21, 59), utc(2026, 10, 25, 23, 0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRepFixture(t)
			for i, at := range append(append([]time.Time{}, tc.in...), tc.out...) {
				f.at(at).intake("/in/" + at.Format(time.RFC3339) + "-" + string(rune('a'+i)) + ".pdf")
			}
			r := f.report(tc.day, Options{Location: berlin, Now: tc.to.Add(time.Hour)})
			if r.Day != tc.day.Format(output.DayFormat) || !r.From.Equal(tc.from) || !r.To.Equal(tc.to) {
				t.Fatalf("day %s [%s, %s), want %s [%s, %s)", r.Day, r.From.UTC(), r.To.UTC(), tc.day.Format(output.DayFormat), tc.from, tc.to)
			}
			if got := r.To.Sub(r.From); got != tc.wantLength {
				t.Errorf("the day lasts %s, want %s", got, tc.wantLength)
			}
			if r.Accounting.Discovered != len(tc.in) || r.Accounting.Pending != len(tc.in) || !r.Accounting.Balanced {
				t.Errorf("accounting = %+v, want %d files", r.Accounting, len(tc.in))
			}
		})
	}
}

// Consecutive days tile time: each ends where the next begins, lasts 23 to
// 25 hours (24 ± the DST step), and every instant in it has that date.
func TestReportDaysTileTimeInEveryZone(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "America/Havana"} {
		loc := mustLocation(t, name)
		day := time.Date(2022, 1, 1, 12, 0, 0, 0, loc)
		for i := 0; i < 366; i++ {
			label, from, to := dayWindow(day, loc)
			nextLabel, nextFrom, _ := dayWindow(to, loc)
			if !nextFrom.Equal(to) || nextLabel == label {
				t.Fatalf("%s %s: ends %s, next day %s starts %s", name, label, to, nextLabel, nextFrom)
			}
			if l := to.Sub(from); l < 23*time.Hour || l > 25*time.Hour {
				t.Fatalf("%s %s lasts %s", name, label, l)
			}
			if got := from.In(loc).Format(output.DayFormat); got != label {
				t.Fatalf("%s %s starts at %s, a %s instant", name, label, from.In(loc), got)
			}
			if got := to.Add(-time.Nanosecond).In(loc).Format(output.DayFormat); got != label {
				t.Fatalf("%s %s ends at %s, after a %s instant", name, label, to.In(loc), got)
			}
			day = day.AddDate(0, 0, 1)
		}
	}
}

// Where a DST change skips midnight itself (Santiago, Havana), time.Date
// resolves the missing 00:00 to 23:00 of the day before; the day must start
// at the change instead. Where midnight happens twice, at the first.
func TestReportDayStartsWhereMidnightIsSkippedOrRepeated(t *testing.T) {
	for _, tc := range []struct {
		zone       string
		day        string
		from       time.Time
		wantLength time.Duration
	}{
		{"America/Santiago", "2022-09-11", time.Date(2022, 9, 11, 4, 0, 0, 0, time.UTC), 23 * time.Hour},
		{"America/Havana", "2022-03-13", time.Date(2022, 3, 13, 5, 0, 0, 0, time.UTC), 23 * time.Hour},
		{"America/Havana", "2022-11-06", time.Date(2022, 11, 6, 4, 0, 0, 0, time.UTC), 25 * time.Hour},
	} {
		loc := mustLocation(t, tc.zone)
		from, err := ParseDay(tc.day, loc)
		if err != nil {
			t.Fatal(err)
		}
		label, start, end := dayWindow(from, loc)
		if label != tc.day || !start.Equal(tc.from) || end.Sub(start) != tc.wantLength {
			t.Errorf("%s %s = %s [%s, %s), want it to start at %s and last %s", tc.zone, tc.day, label, start.UTC(), end.UTC(), tc.from, tc.wantLength)
		}
	}
}

func TestParseDayReadsTheReportFlag(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	got, err := ParseDay("2026-10-25", berlin)
	if err != nil || !got.Equal(time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseDay = %s, %v", got, err)
	}
	for _, bad := range []string{"", "2026-13-01", "25.10.2026", "2026-10-25T00:00:00Z"} {
		if _, err := ParseDay(bad, berlin); err == nil {
			t.Errorf("ParseDay(%q) succeeded", bad)
		}
	}
}

func TestWriteReportWritesTheThreeFilesAtomically(t *testing.T) {
	f, day, o := busyDay(t)
	r := f.report(day, o)
	layout := output.Layout{Root: filepath.Join(t.TempDir(), "out")}
	paths, err := Write(layout, r)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := r.JSON()
	cs, _ := r.CSV()
	want := map[string][]byte{"md": r.Markdown(), "json": js, "csv": cs}
	if len(paths) != 3 {
		t.Fatalf("paths = %v", paths)
	}
	for i, ext := range []string{"md", "json", "csv"} {
		if paths[i] != layout.ReportPath("2026-11-27", ext) {
			t.Errorf("path %d = %s, want %s", i, paths[i], layout.ReportPath("2026-11-27", ext))
		}
		got, err := os.ReadFile(paths[i])
		if err != nil || !bytes.Equal(got, want[ext]) {
			t.Errorf("%s: %v, or content differs", paths[i], err)
		}
	}
	// Writing again (a re-run the next morning) replaces the files and
	// leaves no temporary file behind, nor one a killed write left.
	killed := filepath.Join(filepath.Dir(paths[0]), ".reconciliation-2026-11-26.md.tmp-42")
	if err := os.WriteFile(killed, []byte("# half a rep"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-time.Hour)
	if err := os.Chtimes(killed, long, long); err != nil {
		t.Fatal(err)
	}
	f.at(o.Now).intake("/in/late.pdf")
	if _, err := Write(layout, f.report(day, o)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Dir(paths[0]))
	if err != nil || len(entries) != 3 {
		t.Fatalf("reports directory has %d entries (%v), want 3", len(entries), err)
	}
	if _, err := Write(layout, nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
}

func TestBuildReportRefusesNoStore(t *testing.T) {
	if _, err := Build(t.Context(), nil, time.Now(), Options{}); err == nil {
		t.Fatal("Build without a store succeeded")
	}
}

// A file whose upload stopped because the API's answers could not be
// recorded is listed as stuck with the reason, in every form of the report.
func TestTheReportListsFilesStuckAtSubmission(t *testing.T) {
	f := newRepFixture(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.at(day.Add(8 * time.Hour))
	id := f.intake("/in/unlisted.pdf")
	b, err := f.st.CreateBatch(f.ctx, store.ModeBatch, []int64{id})
	f.fatal(err)
	const reason = "batch batch_x: the API's answer lists 0 of the 1 files sent"
	f.fatal(f.st.StopSubmitting(f.ctx, b.ID, []int64{id}, reason))

	r, err := Build(f.ctx, f.st, day, Options{Location: time.UTC, Now: day.Add(20 * time.Hour)})
	f.fatal(err)
	if len(r.Stuck) != 1 || r.Stuck[0].Path != "/in/unlisted.pdf" || r.Stuck[0].ErrorMessage != reason {
		t.Fatalf("stuck = %+v, want /in/unlisted.pdf with the reason", r.Stuck)
	}
	if md := string(r.Markdown()); !strings.Contains(md, "stopped at submission: "+reason) {
		t.Errorf("the Markdown report does not give the reason:\n%s", md)
	}
}

// TestReportFilesHonourTheServiceUmask writes a report under the unit's
// UMask=0027: the files may be read by the group, never by others, and
// never be group-writable. The umask is the process's: not parallel.
func TestReportFilesHonourTheServiceUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	t.Cleanup(func() { syscall.Umask(old) })
	f, day, o := busyDay(t)
	layout := output.Layout{Root: filepath.Join(t.TempDir(), "out")}
	paths, err := Write(layout, f.report(day, o))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(paths, filepath.Dir(paths[0])) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o640)
		if fi.IsDir() {
			want = 0o750
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v (0%o under umask 0027)", p, fi.Mode().Perm(), want, want)
		}
	}
}
