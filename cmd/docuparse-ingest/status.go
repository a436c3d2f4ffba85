package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/report"
)

// statusJSON is what `status --json` prints (docs/operations.md, "status
// --json").
type statusJSON struct {
	// Documents counts documents by their current state: an exported
	// document counts only as exported (Total says how it ended). Kept for
	// tools that read where documents are in the pipeline.
	Documents map[string]int `json:"documents"`
	// TodayDate is today's date in Timezone (config report.timezone), the
	// day Today counts.
	TodayDate string                  `json:"today_date"`
	Timezone  string                  `json:"timezone"`
	Total     statusTally             `json:"total"`
	Today     statusTally             `json:"today"`
	Sources   map[string]statusSource `json:"sources"`

	Events          map[string]int   `json:"webhook_events"`
	OldestPending   *time.Time       `json:"oldest_pending"`
	LastWebhook     *time.Time       `json:"last_webhook"`
	LastReport      string           `json:"last_report_day,omitempty"`
	BatchMismatches int              `json:"batch_mismatches"`
	ExportHeld      []heldJSON       `json:"export_held"`
	SubmitStuck     []stuckJSON      `json:"submit_stuck"`
	Problems        []health.Problem `json:"problems"` // see status_health.go
}

// statusTally is how documents ended — whether exported since or not —
// and what is still in flight.
type statusTally struct {
	Completed int            `json:"completed"`
	Failed    int            `json:"failed"`
	Rejected  int            `json:"rejected"`
	Duplicate int            `json:"duplicate"`
	Vanished  int            `json:"vanished"`
	InFlight  statusInFlight `json:"in_flight"`
}

// statusInFlight is what has not reached the outputs yet: documents on
// their way to an outcome, and those that ended but are not exported yet
// (also counted by their outcome).
type statusInFlight struct {
	Queued         int `json:"queued"`
	Submitting     int `json:"submitting"`
	Submitted      int `json:"submitted"`
	AwaitingExport int `json:"awaiting_export"`
}

// statusSource is one source's tallies and, for a bucket source, its
// listings (see status_sources.go).
type statusSource struct {
	Total   statusTally          `json:"total"`
	Today   statusTally          `json:"today"`
	Listing *sourcestate.Listing `json:"listing,omitempty"`
}

// newStatusTally converts the store's tally.
func newStatusTally(t store.Tally) statusTally {
	return statusTally{
		Completed: t.Ended[store.StateCompleted], Failed: t.Ended[store.StateFailed], Rejected: t.Ended[store.StateRejected],
		Duplicate: t.Ended[store.StateDuplicate], Vanished: t.Ended[store.StateVanished],
		InFlight: statusInFlight{Queued: t.InFlight[store.StateQueued], Submitting: t.InFlight[store.StateSubmitting],
			Submitted: t.InFlight[store.StateSubmitted], AwaitingExport: t.AwaitingExport},
	}
}

// stuckJSON is a document whose upload stopped, and why.
type stuckJSON struct {
	ID     int64  `json:"id"`
	Path   string `json:"path"`
	Batch  int64  `json:"batch"`
	Reason string `json:"reason"`
}

// heldJSON is a document the exporter holds, and why.
type heldJSON struct {
	ID        int64     `json:"id"`
	Path      string    `json:"path"`
	State     string    `json:"state"`
	Reason    string    `json:"reason"`
	Attempts  int       `json:"attempts"`
	NextRetry time.Time `json:"next_retry"`
}

// maxHeldShown bounds the held documents status lists.
const maxHeldShown = 20

func (m *Main) runStatus(ctx context.Context, args []string) error {
	fs := m.newFlags("status")
	path := fs.String("config", config.DefaultPath, "configuration file")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, st, err := m.loadState(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	now, loc := m.now(), cfg.Report.Location()
	s, err := st.Status(ctx)
	if err != nil {
		return err
	}
	out := statusJSON{Documents: map[string]int{}, Events: s.Events}
	for _, state := range store.States {
		out.Documents[string(state)] = s.Counts[state]
	}
	if err := outcomes(ctx, st, cfg.Sources, now, loc, &out); err != nil {
		return err
	}
	if err := problems(ctx, st, &out); err != nil {
		return err
	}
	if out.Problems, err = readProblems(st); err != nil {
		return err
	}
	if err := readListings(st, &out); err != nil {
		return err
	}
	if !s.OldestPending.IsZero() {
		out.OldestPending = &s.OldestPending
	}
	if !s.LastEvent.IsZero() {
		out.LastWebhook = &s.LastEvent
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	m.printStatus(s, out, now, loc)
	return nil
}

// outcomes fills out's tallies: how documents ended and what is in flight,
// today in loc (report.timezone) and in total, in all and for every source
// configured or in the store.
func outcomes(ctx context.Context, st *store.Store, sources []config.Source, now time.Time, loc *time.Location, out *statusJSON) error {
	lt := now.In(loc)
	dayStart := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	dayEnd := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
	counts, err := st.CountOutcomes(ctx, dayStart, dayEnd)
	if err != nil {
		return err
	}
	out.TodayDate, out.Timezone = dayStart.Format(time.DateOnly), loc.String()
	out.Total, out.Today = newStatusTally(counts.All.Total), newStatusTally(counts.All.Today)
	out.Sources = map[string]statusSource{}
	for _, src := range sources {
		out.Sources[src.Name] = statusSource{Total: newStatusTally(store.Tally{}), Today: newStatusTally(store.Tally{})}
	}
	for name, t := range counts.Sources {
		out.Sources[name] = statusSource{Total: newStatusTally(t.Total), Today: newStatusTally(t.Today)}
	}
	return nil
}

// problems fills what needs an operator's eye: the last report, batch
// mismatches, documents held from export or stuck at submission.
func problems(ctx context.Context, st *store.Store, out *statusJSON) error {
	if day, ok, err := report.Last(ctx, st); err != nil {
		return err
	} else if ok {
		out.LastReport = day
	}
	mism, err := st.BatchChecks(ctx, true)
	if err != nil {
		return err
	}
	out.BatchMismatches = len(mism)
	if out.ExportHeld, err = exportHeld(ctx, st); err != nil {
		return err
	}
	out.SubmitStuck, err = submitStuck(ctx, st)
	return err
}

// printStatus prints the status as text: how documents ended and what is
// in flight, then the times, then what needs an operator's eye. Times are
// shown in loc (report.timezone), like the day "today" counts.
func (m *Main) printStatus(s *store.Status, out statusJSON, now time.Time, loc *time.Location) {
	printOutcomes(m.Stdout, out)
	printTimes(m.Stdout, s, out, now, loc)
	printListings(m.Stdout, out, now, loc)
	if out.BatchMismatches > 0 {
		fmt.Fprintf(m.Stdout, "batch mismatches: %d (see the reconciliation report)\n", out.BatchMismatches)
	}
	printHeld(m.Stdout, s.ExportHeld, out.ExportHeld, loc)
	printStuck(m.Stdout, s.SubmitStuck, out.SubmitStuck)
	printEvents(m.Stdout, s.Events)
	printProblems(m.Stdout, out.Problems)
}

// eventLooks are the journal's statuses that an operator may need to look
// at, as status names them.
var eventLooks = []struct{ status, label string }{
	{vocab.EventDead, "dead (unknown type or unreadable body)"},
	{vocab.EventConflict, "conflicting (contradict a first outcome)"},
	{vocab.EventOrphan, "orphaned (for documents or batches this daemon has not recorded)"},
}

// printEvents prints the journaled webhook events still to be applied,
// and those an operator may need to look at, with the command that lists
// them; nothing when there are none.
func printEvents(w io.Writer, events map[string]int) {
	if n := events[vocab.EventPending]; n > 0 {
		fmt.Fprintf(w, "webhook events not yet applied: %d\n", n)
	}
	for _, l := range eventLooks {
		if n := events[l.status]; n > 0 {
			fmt.Fprintf(w, "webhook events %s: %d (docuparse-ingest webhook list --status %s)\n", l.label, n, l.status)
		}
	}
}

// tallyRow is one line of the outcome table: its label and its number in
// a tally.
type tallyRow struct {
	label string
	n     func(statusTally) int
}

// tallyRows are the outcome table's lines; a row without n is a heading.
var tallyRows = []tallyRow{
	{"ended", nil},
	{"  completed", func(t statusTally) int { return t.Completed }},
	{"  failed", func(t statusTally) int { return t.Failed }},
	{"  rejected", func(t statusTally) int { return t.Rejected }},
	{"  duplicate", func(t statusTally) int { return t.Duplicate }},
	{"  vanished", func(t statusTally) int { return t.Vanished }},
	{"in flight", nil},
	{"  queued", func(t statusTally) int { return t.InFlight.Queued }},
	{"  submitting", func(t statusTally) int { return t.InFlight.Submitting }},
	{"  submitted", func(t statusTally) int { return t.InFlight.Submitted }},
	{"  awaiting export", func(t statusTally) int { return t.InFlight.AwaitingExport }},
}

// printOutcomes prints how documents ended (exported since or not) and
// what is in flight: a table with today's and the total counts, in all and
// per source, then what "today" means.
func printOutcomes(w io.Writer, out statusJSON) {
	sources := make([]string, 0, len(out.Sources))
	for src := range out.Sources {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	header := []string{"documents", "all today", "all total"}
	tallies := []statusTally{out.Today, out.Total}
	for _, src := range sources {
		name := safetext.Visible(src)
		header = append(header, name+" today", name+" total")
		tallies = append(tallies, out.Sources[src].Today, out.Sources[src].Total)
	}
	table := [][]string{header}
	for _, r := range tallyRows {
		row := []string{r.label}
		if r.n != nil {
			for _, t := range tallies {
				row = append(row, strconv.Itoa(r.n(t)))
			}
		}
		table = append(table, row)
	}
	printTable(w, table)
	fmt.Fprintf(w, "today: %s (%s); ended: outcome recorded that day, exported since or not; in flight: taken in that day\n",
		out.TodayDate, safetext.Visible(out.Timezone))
}

// printTable prints rows as columns two spaces apart: the first left
// aligned, the others right aligned; a row may stop early.
func printTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0 && len(row) == 1:
				b.WriteString(cell)
			case i == 0:
				b.WriteString(cell + pad)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// printTimes prints the oldest pending document, the last webhook and the
// last report, in loc.
func printTimes(w io.Writer, s *store.Status, out statusJSON, now time.Time, loc *time.Location) {
	if out.OldestPending != nil {
		fmt.Fprintf(w, "oldest pending: %s (%s ago)\n", s.OldestPending.In(loc).Format(time.RFC3339), now.Sub(s.OldestPending).Round(time.Second))
	} else {
		fmt.Fprintln(w, "oldest pending: none")
	}
	if out.LastWebhook != nil {
		fmt.Fprintf(w, "last webhook:   %s (%s ago)\n", s.LastEvent.In(loc).Format(time.RFC3339), now.Sub(s.LastEvent).Round(time.Second))
	} else {
		fmt.Fprintln(w, "last webhook:   none yet")
	}
	if out.LastReport != "" {
		fmt.Fprintf(w, "last report:    %s\n", out.LastReport)
	} else {
		fmt.Fprintln(w, "last report:    none yet")
	}
}

// submitStuck lists the documents stuck at submission (at most
// maxHeldShown).
func submitStuck(ctx context.Context, st *store.Store) ([]stuckJSON, error) {
	docs, err := st.SubmitStuck(ctx, maxHeldShown)
	if err != nil {
		return nil, err
	}
	out := []stuckJSON{}
	for _, d := range docs {
		out = append(out, stuckJSON{ID: d.ID, Path: d.Path, Batch: d.BatchID, Reason: d.ErrorMessage})
	}
	return out, nil
}

// printStuck prints the documents stuck at submission: n in all, the first
// of them with their reasons, and what to do.
func printStuck(w io.Writer, n int, stuck []stuckJSON) {
	printDocList(w, n, "stuck at submission: %d (the API's answers could not be recorded; `retry --stuck` resubmits them)", len(stuck),
		func(i int) string {
			return fmt.Sprintf("%d %s (batch %d): %s", stuck[i].ID, safetext.Visible(stuck[i].Path), stuck[i].Batch, safetext.Visible(stuck[i].Reason))
		})
}

// printDocList prints a heading with n, then the shown documents' lines,
// then how many more there are; nothing when n is 0.
func printDocList(w io.Writer, n int, heading string, shown int, line func(i int) string) {
	if n == 0 {
		return
	}
	fmt.Fprintf(w, heading+"\n", n)
	for i := range shown {
		fmt.Fprintf(w, "  %s\n", line(i))
	}
	if n > shown {
		fmt.Fprintf(w, "  … and %d more\n", n-shown)
	}
}

// exportHeld lists the documents the exporter holds (at most maxHeldShown).
func exportHeld(ctx context.Context, st *store.Store) ([]heldJSON, error) {
	docs, err := st.ExportHeld(ctx, maxHeldShown)
	if err != nil {
		return nil, err
	}
	out := []heldJSON{}
	for _, d := range docs {
		out = append(out, heldJSON{ID: d.ID, Path: d.Path, State: string(d.State), Reason: d.ExportError,
			Attempts: d.ExportAttempts, NextRetry: d.NextExportAt})
	}
	return out, nil
}

// printHeld prints the documents held from export: n in all, the first of
// them with their reasons.
func printHeld(w io.Writer, n int, held []heldJSON, loc *time.Location) {
	printDocList(w, n, "held from export: %d (their output path is unsafe; tried again with backoff)", len(held), func(i int) string {
		h := held[i]
		return fmt.Sprintf("%d %s: %s (next try %s)", h.ID, safetext.Visible(h.Path), safetext.Visible(h.Reason), h.NextRetry.In(loc).Format(time.RFC3339))
	})
}

// openState opens the store of the configuration at path, for commands
// that run beside the daemon (SQLite in WAL mode allows it). They need no
// secrets: under systemd only the service is given them.
func (m *Main) openState(ctx context.Context, path string) (*store.Store, error) {
	_, st, err := m.loadState(ctx, path)
	return st, err
}

// loadState is openState that also returns the configuration.
func (m *Main) loadState(ctx context.Context, path string) (*config.Config, *store.Store, error) {
	cfg, err := config.LoadWithoutSecrets(path, m.Getenv)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openStore opens the store of a configuration the command has loaded
// already: a command reads its configuration once, so the store it opens
// and the folders it writes are those of one configuration.
func openStore(ctx context.Context, cfg *config.Config) (*store.Store, error) {
	dbPath := cfg.StatePath()
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("no state at %s (has the daemon run yet?): %w", dbPath, err)
	}
	return store.Open(ctx, dbPath, store.Options{})
}
