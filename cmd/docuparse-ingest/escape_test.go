package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// hostile is what an inbox user puts in a file name, or a hostile API in a
// document_id or an event type: an OSC title change, a screen clear, a
// colour, a carriage return and a line break that starts a fake table row,
// a bidi override, a C1 CSI and a tab that would make a fake column.
const hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31m\rx\n42  fake-row  completed\u202egpj.exe\u009b1m\t|\u2066"

// checkVisible fails the test if out holds a byte that a terminal would
// act on (every control character but the line breaks the command itself
// writes, C1 controls, bidi overrides, invalid UTF-8), or a line that
// starts the fake row without the rest of the hostile text before it.
func checkVisible(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		bad := r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 ||
			r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == utf8.RuneError
		if bad {
			t.Errorf("%s: raw %U at byte %d reaches the terminal:\n%q", what, r, i, out)
			return
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "fake-row") && !strings.Contains(line, "owned") {
			t.Errorf("%s: a fake line appears: %q\nin:\n%s", what, line, out)
		}
	}
	if !strings.Contains(out, "fake-row") {
		t.Errorf("%s: the hostile text is not shown at all:\n%s", what, out)
	}
}

// TestHumanOutputEscapesControlCharactersFromFileNamesAndTheAPI runs the
// real commands on a store holding a file named by an inbox user and
// document ids and events from a hostile API: no control character reaches
// stdout or stderr, no fake row appears, and --json stays exact.
func TestHumanOutputEscapesControlCharactersFromFileNamesAndTheAPI(t *testing.T) {
	f := newRetryFixture(t)
	f.clock = time.Now().Add(-48 * time.Hour)
	failed := f.add("failed"+hostile+".pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	held := f.add("held"+hostile+".pdf", "rejected", docuparse.CodeUnsupportedMedia)
	stuck := f.add("stuck"+hostile+".pdf", "queued", "")
	f.clock = time.Now()
	ctx := t.Context()
	if _, err := f.st.HoldExport(ctx, []store.ExportHold{{ID: held, Reason: "reason" + hostile}}, time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	b, err := f.st.CreateBatch(ctx, store.ModeBatch, []int64{stuck})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.StopSubmitting(ctx, b.ID, []int64{stuck}, "answer"+hostile); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]string{"event": "document." + hostile, "document_id": "doc_" + hostile})
	for _, body := range [][]byte{ev, []byte("not json" + hostile)} {
		if _, err := f.st.JournalEvent(ctx, receiver.Identify(body, "")); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"status"},
		{"retry", "--dry-run", "--failed"},
		{"retry", "--dry-run", fmt.Sprint(failed), "doc_failed" + hostile + ".pdf", "doc_" + hostile},
		{"webhook", "list", "--status", "all"},
		{"report", "--date", time.Now().AddDate(0, 0, -2).Format("2006-01-02")},
	} {
		out, errOut, err := run(t, secretEnv, "", append(args, "--config", f.cfgPath)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out, errOut)
		}
		checkVisible(t, strings.Join(args[:min(2, len(args))], " "), out)
		if strings.ContainsAny(errOut, "\x1b\r") {
			t.Errorf("%v: stderr holds a control character: %q", args, errOut)
		}
	}
	checkJSONIsExact(t, f.cfgPath)
	// An error (printed by main, here through the real binary) shows the
	// hostile text escaped on its one line too.
	cmd := exec.Command(binPath, "retry", "--config", f.cfgPath, "--failed", "--again", "--source", "x"+hostile)
	errOut, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("retry of a source with no documents succeeded")
	}
	checkVisible(t, "an error", string(errOut))
}

// checkJSONIsExact: --json output carries the hostile text exactly (JSON
// escapes it), since programs, not terminals, read it.
func checkJSONIsExact(t *testing.T, cfgPath string) {
	t.Helper()
	out, _, err := run(t, secretEnv, "", "webhook", "list", "--status", "all", "--json", "--config", cfgPath)
	var evs []eventJSON
	if err != nil || json.Unmarshal([]byte(out), &evs) != nil || len(evs) != 2 {
		t.Fatalf("webhook list --json: %v\n%s", err, out)
	}
	if evs[0].DocumentID != "doc_"+hostile || evs[1].RawBody != "not json"+hostile {
		t.Errorf("webhook list --json changed the text: %q, %q", evs[0].DocumentID, evs[1].RawBody)
	}
	out, _, err = run(t, secretEnv, "", "status", "--json", "--config", cfgPath)
	var st statusJSON
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st.ExportHeld) != 1 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if st.ExportHeld[0].Reason != "reason"+hostile || !strings.HasSuffix(st.ExportHeld[0].Path, "held"+hostile+".pdf") {
		t.Errorf("status --json changed the text: %+v", st.ExportHeld[0])
	}
}

// TestCheckConfigEscapesAFolderName: check-config prints the folders it
// checks; a source folder whose name holds escape sequences is shown
// escaped.
func TestCheckConfigEscapesAFolderName(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "in"+strings.NewReplacer("\n", "", "\r", "").Replace(hostile)+"\nfake-row")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	f := newRetryFixture(t)
	text, err := os.ReadFile(f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(text), fmt.Sprintf("%q", f.inbox), tomlString(inbox), 1)
	if err := os.WriteFile(f.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, secretEnv, "", "check-config", "--offline", "--config", f.cfgPath)
	if err != nil {
		t.Fatalf("check-config: %v\n%s%s", err, out, errOut)
	}
	checkVisible(t, "check-config", out)
}

// tomlString quotes s as a TOML basic string, control characters as
// \uXXXX.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
