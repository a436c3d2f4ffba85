package chaos

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Violation is one break of the promise, about one file or one content.
type Violation struct {
	Kind   string `json:"kind"`
	File   string `json:"file"`
	Detail string `json:"detail"`
}

// Violation kinds.
const (
	VLost        = "lost"          // no row, not pending
	VStuck       = "stuck"         // still pending after the drain bound
	VTwoRows     = "two-rows"      // one dropped content, several rows
	VForeignRow  = "foreign-row"   // a row for a path or content never dropped there
	VEmptyRow    = "empty-row"     // a placeholder's empty content got its own row
	VWrongFields = "wrong-fields"  // a row disagrees with the simulator's truth
	VRejected    = "rejected"      // a good, non-empty file was refused
	VAPITwice    = "api-duplicate" // one content, several API documents
	VAPIOrphan   = "api-orphan"    // an API document no row or pending document accounts for
	VDupNoOrig   = "duplicate-without-original"
	VDaemon      = "daemon"      // the daemon hung on SIGTERM
	VCSVCorrupt  = "csv-corrupt" // a documents CSV record does not parse
	VTemporary   = "temporary"   // an interrupted write's temporary file left in the output after the drain
)

// row is one documents-*.csv row by column name.
type row map[string]string

// readRows reads every documents-*.csv under outDir/csv. A record that
// does not parse is skipped and described in bad (a CSV cut mid-row or
// written by two processes at once); reading goes on at the next one.
func readRows(outDir string) (rows []row, bad []string, err error) {
	paths, err := filepath.Glob(filepath.Join(outDir, "csv", "documents-*.csv"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		rd := csv.NewReader(bytes.NewReader(b))
		rd.FieldsPerRecord = -1
		var header []string
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", filepath.Base(p), err))
				if len(bad) > 1000 {
					return rows, bad, nil
				}
				continue
			}
			if header == nil {
				header = rec
				continue
			}
			if len(rec) != len(header) {
				bad = append(bad, fmt.Sprintf("%s: a record of %d fields, the header has %d", filepath.Base(p), len(rec), len(header)))
			}
			r := row{}
			for j, h := range header {
				if j < len(rec) {
					r[h] = rec[j]
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, bad, nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pendingStates are the states of documents the daemon still works on.
var pendingStates = map[store.State]bool{
	store.StateQueued: true, store.StateSubmitting: true, store.StateSubmitted: true,
	store.StateCompleted: true, store.StateFailed: true, store.StateRejected: true, store.StateDuplicate: true,
}

// checkInput is what the checker compares.
type checkInput struct {
	ledger map[string]*entry
	rows   []row
	docs   []store.Document // every document in the store
	stats  sim.Stats
	truth  *sim.Server // Extract only
}

// check returns every violation of the promise, sorted by file.
func check(in checkInput) []Violation {
	var vs []Violation
	add := func(kind, file, format string, args ...any) {
		vs = append(vs, Violation{Kind: kind, File: file, Detail: fmt.Sprintf(format, args...)})
	}
	bySource := map[string][]row{}
	terminalBySHA := map[string]bool{}
	for _, r := range in.rows {
		src := localPath(r["source"])
		bySource[src] = append(bySource[src], r)
		if r["status"] == "completed" || r["status"] == "failed" {
			terminalBySHA[r["sha256"]] = true
		}
	}
	pending := map[string]store.Document{} // path + sha → document
	pendingSHA := map[string]bool{}
	for _, d := range in.docs {
		if pendingStates[d.State] {
			pending[localPath(d.Path)+"\x00"+d.SHA256] = d
			pendingSHA[d.SHA256] = true
		}
	}
	for path, e := range in.ledger {
		if len(e.contents) == 0 {
			continue
		}
		checkPath(add, path, e, bySource[path], pending, terminalBySHA, in.truth)
		delete(bySource, path)
	}
	for path, rs := range bySource {
		add(VForeignRow, path, "%d row(s) for a path the suite never wrote (status %s)", len(rs), rs[0]["status"])
	}
	for h, n := range in.stats.CreatedBySHA256 {
		if n > 1 {
			add(VAPITwice, h[:12], "content submitted as %d API documents", n)
		}
		if !terminalBySHA[h] && !pendingSHA[h] {
			add(VAPIOrphan, h[:12], "the API created it; no completed/failed row and nothing pending has it")
		}
	}
	sort.Slice(vs, func(a, b int) bool {
		if vs[a].File != vs[b].File {
			return vs[a].File < vs[b].File
		}
		return vs[a].Kind < vs[b].Kind
	})
	return vs
}

// localPath returns the file a row's or a document's path names: a
// file:// bucket object's path is its file's with "file://" before it.
func localPath(p string) string { return strings.TrimPrefix(p, "file://") }

type addFunc func(kind, file, format string, args ...any)

// checkPath checks the rows of one path against what was written there.
func checkPath(add addFunc, path string, e *entry, rows []row, pending map[string]store.Document, terminal map[string]bool, truth *sim.Server) {
	written := map[string][]byte{}
	for _, c := range e.contents {
		written[sha(c)] = c
	}
	perSHA := map[string]int{}
	for _, r := range rows {
		h := rowSHA(r)
		perSHA[h]++
		content, ok := written[h]
		switch {
		case !ok:
			add(VForeignRow, path, "row %s for content %.12s never written here", r["status"], h)
		case len(content) == 0 && len(e.final()) > 0:
			add(VEmptyRow, path, "the empty placeholder got a %s row (%s) before it was filled", r["status"], r["error_code"])
		default:
			checkRow(add, path, r, content, terminal, truth)
		}
	}
	for h, n := range perSHA {
		if n > 1 {
			add(VTwoRows, path, "%d rows for content %.12s", n, h)
		}
	}
	final := sha(e.final())
	if perSHA[final] > 0 {
		return
	}
	if d, ok := pending[path+"\x00"+final]; ok {
		add(VStuck, path, "still %s after the drain bound (%s %s)", d.State, d.ErrorCode, d.ErrorMessage)
		return
	}
	add(VLost, path, "no row and nothing pending for its final content %.12s (delivered by %s, %d write(s))", final, kindName(e.how), len(e.contents))
}

// rowSHA is a row's content hash; an empty file's row has none.
func rowSHA(r row) string {
	if r["sha256"] == "" && r["size_bytes"] == "0" {
		return sha(nil)
	}
	return r["sha256"]
}

func kindName(k Kind) string {
	if k == "" {
		return "write"
	}
	return string(k)
}

// checkRow compares one row with the simulator's truth for its content.
func checkRow(add addFunc, path string, r row, content []byte, terminal map[string]bool, truth *sim.Server) {
	data, apiErr := truth.Extract(filepath.Base(path), content)
	switch r["status"] {
	case "completed":
		if apiErr != nil {
			add(VWrongFields, path, "completed, but the simulator fails it (%s)", apiErr.Code)
		} else if r["merchant"] != neutral(data.Merchant) || r["total"] != data.Total ||
			r["currency"] != data.Currency || r["invoice_id"] != neutral(data.InvoiceID) {
			add(VWrongFields, path, "row %s/%s/%s/%s, truth %s/%s/%s/%s", r["merchant"], r["invoice_id"], r["total"], r["currency"],
				data.Merchant, data.InvoiceID, data.Total, data.Currency)
		}
	case "failed":
		if apiErr == nil || r["error_code"] != apiErr.Code {
			add(VWrongFields, path, "failed %s %q, but the simulator extracts it", r["error_code"], r["error_message"])
		}
	case "duplicate":
		if !terminal[r["sha256"]] {
			add(VDupNoOrig, path, "duplicate row, but no completed/failed row has its content")
		}
	case "rejected":
		add(VRejected, path, "rejected %s: %s", r["error_code"], r["error_message"])
	default:
		add(VWrongFields, path, "unknown status %q", r["status"])
	}
}

// neutral mirrors the CSV formula neutralisation.
func neutral(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
