package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

type statusJSON struct {
	Documents       map[string]int            `json:"documents"`
	Sources         map[string]map[string]int `json:"sources"`
	Events          map[string]int            `json:"webhook_events"`
	OldestPending   *time.Time                `json:"oldest_pending"`
	LastWebhook     *time.Time                `json:"last_webhook"`
	LastReport      string                    `json:"last_report_day,omitempty"`
	BatchMismatches int                       `json:"batch_mismatches"`
	ExportHeld      []heldJSON                `json:"export_held"`
	SubmitStuck     []stuckJSON               `json:"submit_stuck"`
	Problems        []health.Problem          `json:"problems"` // see status_health.go
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
	st, err := m.openState(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Status(ctx)
	if err != nil {
		return err
	}
	out := statusJSON{Documents: map[string]int{}, Sources: map[string]map[string]int{}, Events: s.Events}
	for _, state := range store.States {
		out.Documents[string(state)] = s.Counts[state]
	}
	perSource, err := st.SourceCounts(ctx)
	if err != nil {
		return err
	}
	for src, counts := range perSource {
		out.Sources[src] = map[string]int{}
		for state, n := range counts {
			out.Sources[src][string(state)] = n
		}
	}
	if day, ok, err := st.Meta(ctx, "last_report_day"); err != nil {
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
	if out.SubmitStuck, err = submitStuck(ctx, st); err != nil {
		return err
	}
	if out.Problems, err = readProblems(st); err != nil {
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
	m.printStatus(s, out)
	return nil
}

// printStatus prints the status as text: a table of states by source, then
// the times and what needs an operator's eye.
func (m *Main) printStatus(s *store.Status, out statusJSON) {
	sources := make([]string, 0, len(out.Sources))
	for src := range out.Sources {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "STATE\tALL\t")
	for _, src := range sources {
		fmt.Fprintf(tw, "%s\t", safetext.Visible(src))
	}
	fmt.Fprintln(tw)
	for _, state := range store.States {
		fmt.Fprintf(tw, "%s\t%d\t", state, s.Counts[state])
		for _, src := range sources {
			fmt.Fprintf(tw, "%d\t", out.Sources[src][string(state)])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	now := time.Now()
	if out.OldestPending != nil {
		fmt.Fprintf(m.Stdout, "oldest pending: %s (%s ago)\n", s.OldestPending.Local().Format(time.RFC3339), now.Sub(s.OldestPending).Round(time.Second))
	} else {
		fmt.Fprintln(m.Stdout, "oldest pending: none")
	}
	if out.LastWebhook != nil {
		fmt.Fprintf(m.Stdout, "last webhook:   %s (%s ago)\n", s.LastEvent.Local().Format(time.RFC3339), now.Sub(s.LastEvent).Round(time.Second))
	} else {
		fmt.Fprintln(m.Stdout, "last webhook:   none yet")
	}
	if out.LastReport != "" {
		fmt.Fprintf(m.Stdout, "last report:    %s\n", out.LastReport)
	} else {
		fmt.Fprintln(m.Stdout, "last report:    none yet")
	}
	if out.BatchMismatches > 0 {
		fmt.Fprintf(m.Stdout, "batch mismatches: %d (see the reconciliation report)\n", out.BatchMismatches)
	}
	printHeld(m.Stdout, s.ExportHeld, out.ExportHeld)
	printStuck(m.Stdout, s.SubmitStuck, out.SubmitStuck)
	printProblems(m.Stdout, out.Problems)
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
func printHeld(w io.Writer, n int, held []heldJSON) {
	printDocList(w, n, "held from export: %d (their output path is unsafe; tried again with backoff)", len(held), func(i int) string {
		h := held[i]
		return fmt.Sprintf("%d %s: %s (next try %s)", h.ID, safetext.Visible(h.Path), safetext.Visible(h.Reason), h.NextRetry.Local().Format(time.RFC3339))
	})
}

// openState opens the store of the configuration at path, for commands
// that run beside the daemon (SQLite in WAL mode allows it). They need no
// secrets: under systemd only the service is given them.
func (m *Main) openState(ctx context.Context, path string) (*store.Store, error) {
	cfg, err := config.LoadWithoutSecrets(path, m.Getenv)
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.StateDir, daemon.StateFile)
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("no state at %s (has the daemon run yet?): %w", dbPath, err)
	}
	return store.Open(ctx, dbPath, store.Options{})
}
