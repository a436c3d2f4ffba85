package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// Summary is what a run did and found; Write saves it as summary.json and
// summary.md in the run's folder.
type Summary struct {
	Seed     int64  `json:"seed"`
	Profile  string `json:"profile"`
	Duration string `json:"duration"`
	Kinds    string `json:"kinds"`
	Replay   string `json:"replay"`
	Dir      string `json:"dir"`

	Files     int `json:"files"`     // paths written
	Writes    int `json:"writes"`    // contents written (replacements count)
	Contents  int `json:"contents"`  // distinct contents
	CSVRows   int `json:"csv_rows"`  // documents-*.csv rows
	Documents int `json:"documents"` // documents the API created

	Inputs   map[Kind]int    `json:"inputs"`   // files by way of delivery
	Injected map[Kind]int    `json:"injected"` // faults by kind
	Skipped  map[Kind]string `json:"skipped,omitempty"`
	Sim      map[string]int  `json:"sim"` // what the simulator counted

	Kills           int      `json:"kills"`
	SIGTERMs        int      `json:"sigterms"`
	DaemonStarts    int      `json:"daemon_starts"`
	UnexpectedExits int      `json:"unexpected_exits"`
	Drained         bool     `json:"drained"`
	DrainTook       string   `json:"drain_took"`
	Notes           []string `json:"notes,omitempty"`
	FaultErrors     []string `json:"fault_errors,omitempty"`

	Violations []Violation    `json:"violations"`
	ByKind     map[string]int `json:"violations_by_kind"`
}

func newSummary(r *rig, sc scenario, drop *dropper, in *injector, stats sim.Stats, rows int, drained bool, took time.Duration, vs []Violation) *Summary {
	s := &Summary{
		Seed: r.o.Seed, Profile: r.o.Profile, Duration: r.o.Duration.String(), Kinds: r.o.Kinds.String(),
		Replay: fmt.Sprintf("go run ./cmd/docuparse-chaos --seed %d --profile %s --kinds %s --files %d --duration %s --kills %d --sigterms %d --bursts %d",
			r.o.Seed, r.o.Profile, r.o.Kinds, r.o.Files, r.o.Duration, r.o.Kills, r.o.SIGTERMs, r.o.Bursts),
		Dir: r.dir, CSVRows: rows, Documents: stats.DocumentsCreated,
		Inputs: map[Kind]int{}, Injected: in.injected, Skipped: in.skipped,
		Kills: in.injected[Kill9], SIGTERMs: in.injected[SIGTERM],
		DaemonStarts: r.sup.starts, UnexpectedExits: r.sup.unexpected,
		Drained: drained, DrainTook: took.Round(time.Second).String(),
		Notes: r.notes, FaultErrors: in.errs, Violations: vs, ByKind: map[string]int{},
		Sim: map[string]int{
			"injected_429": stats.Injected429, "injected_503": stats.Injected503,
			"connections_dropped": stats.ConnectionsDropped, "refused_while_down": stats.RefusedWhileDown,
			"responses_delayed": stats.ResponsesDelayed, "webhooks_dropped": stats.WebhooksDropped,
			"webhooks_duplicated": stats.WebhooksDuplicated, "idempotent_replays": stats.IdempotentReplays,
			"idempotency_conflicts": stats.IdempotencyConflicts,
		},
	}
	distinct := map[string]bool{}
	for _, e := range drop.ledger {
		if len(e.contents) == 0 {
			continue
		}
		s.Files++
		s.Writes += len(e.contents)
		for _, c := range e.contents {
			distinct[sha(c)] = true
		}
	}
	s.Contents = len(distinct)
	for k, n := range drop.counts {
		s.Inputs[Kind(kindName(k))] = n
	}
	for _, v := range vs {
		s.ByKind[v.Kind]++
	}
	if s.Violations == nil {
		s.Violations = []Violation{}
	}
	return s
}

// OK reports whether the run found no violation.
func (s *Summary) OK() bool { return len(s.Violations) == 0 }

// Write saves summary.json and summary.md in dir.
func (s *Summary) Write(dir string) error {
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "summary.md"), []byte(s.Markdown()), 0o644)
}

// Markdown renders the summary for people; violations are listed at most
// 50, then counted.
func (s *Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# docuparse-chaos seed %d (%s, %s)\n\n", s.Seed, s.Profile, s.Duration)
	fmt.Fprintf(&b, "Replay: `%s`\n\n", s.Replay)
	fmt.Fprintf(&b, "- files: %d paths, %d writes, %d distinct contents; %d CSV rows; %d API documents\n",
		s.Files, s.Writes, s.Contents, s.CSVRows, s.Documents)
	fmt.Fprintf(&b, "- kills: %d kill -9, %d SIGTERM; daemon started %d times, %d unexpected exits\n",
		s.Kills, s.SIGTERMs, s.DaemonStarts, s.UnexpectedExits)
	fmt.Fprintf(&b, "- drained: %v after %s\n- violations: %d\n\n", s.Drained, s.DrainTook, len(s.Violations))
	b.WriteString("| kind | injected |\n|---|---|\n")
	for _, k := range AllKinds {
		if n, ok := s.Injected[k]; ok {
			fmt.Fprintf(&b, "| %s | %d |\n", k, n)
		} else if n, ok := s.Inputs[k]; ok {
			fmt.Fprintf(&b, "| %s (files) | %d |\n", k, n)
		} else if why, ok := s.Skipped[k]; ok {
			fmt.Fprintf(&b, "| %s | skipped: %s |\n", k, why)
		}
	}
	b.WriteString("\n| simulator counter | value |\n|---|---|\n")
	keys := make([]string, 0, len(s.Sim))
	for k := range s.Sim {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %d |\n", k, s.Sim[k])
	}
	for _, n := range append(s.Notes, s.FaultErrors...) {
		fmt.Fprintf(&b, "\n- %s", n)
	}
	if len(s.Violations) > 0 {
		b.WriteString("\n\n## Violations\n\n")
		for i, v := range s.Violations {
			if i == 50 {
				fmt.Fprintf(&b, "- … and %d more (summary.json)\n", len(s.Violations)-50)
				break
			}
			fmt.Fprintf(&b, "- **%s** %q: %s\n", v.Kind, v.File, v.Detail)
		}
	}
	b.WriteString("\n")
	return b.String()
}
