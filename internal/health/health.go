// Package health tracks the daemon's current problems — the API
// unreachable, the API key refused, exports failing — so that /readyz,
// the logs and `status` (another process) tell the same story.
//
// A problem is logged at ERROR, with its fix, when it starts and at INFO
// when it ends; never in between. The set of current problems is written
// to a small JSON file in state_dir (FileName) only on such a change: by
// a write to a temporary file and a rename, so a reader sees the old set or
// the new one, whole. The daemon writes an empty set when it starts, and
// the file says which process wrote it, so that `status` can tell a
// running daemon's problems from a stopped one's.
package health

import (
	"context"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// FileName is the problems file's name inside state_dir.
const FileName = "problems.json"

// The problems the daemon reports.
const (
	APIUnreachable = "api_unreachable"
	APIKey         = "api_key"
	Export         = "export"
	Mirror         = "mirror"
)

// fixes is what an operator does about each problem.
var fixes = map[string]string{
	APIUnreachable: "check api.base_url, the network and proxy between this host and the API, and the API's status page; uploads resume by themselves",
	APIKey:         "the API refuses the API key (401/403): check DOCUPARSE_API_KEY or api.api_key_file and restart the daemon; uploads are paused and tried again every 30 s, so a key re-enabled at the API resumes by itself",
	Export:         "check that output_dir and its folders exist, are folders, are writable by the daemon's user and the disk is not full; export retries by itself",
	Mirror:         "check output_url's bucket, the network to it and the credentials (they must read, list and write); the backlog is kept in the state database and uploaded by itself once the bucket answers",
}

// maxDetail caps a problem's detail, in bytes.
const maxDetail = 400

// Fix returns what an operator does about the problem what.
func Fix(what string) string { return fixes[what] }

// Problem is one current problem.
type Problem struct {
	What   string    `json:"what"`
	Since  time.Time `json:"since"`
	Detail string    `json:"detail"`
	Fix    string    `json:"fix"`
}

// Snapshot is the problems file's content.
type Snapshot struct {
	PID      int       `json:"pid"`
	Problems []Problem `json:"problems"`
}

// Tracker holds the current problems. Its methods are safe for concurrent
// use and do nothing on a nil *Tracker.
type Tracker struct {
	path     string // "" keeps the problems in memory only
	log      *slog.Logger
	now      func() time.Time
	onChange func(what string, on bool)

	mu  sync.Mutex
	cur map[string]Problem
}

// Options configure a Tracker.
type Options struct {
	// Dir is where FileName is written (state_dir); empty: not written.
	Dir    string
	Logger *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// OnChange, when set, is told of each problem starting or ending (for
	// metrics). It must not block.
	OnChange func(what string, on bool)
}

// New returns a Tracker with no problem, and writes that empty set, so
// that problems a previous run left are not shown as current.
func New(opts Options) *Tracker {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Tracker{log: opts.Logger, now: opts.Now, onChange: opts.OnChange, cur: map[string]Problem{}}
	if opts.Dir != "" {
		t.path = filepath.Join(opts.Dir, FileName)
	}
	t.mu.Lock()
	t.save()
	t.mu.Unlock()
	return t
}

// Set records that the problem what is current, with detail (one line,
// secrets already removed). Only its start is logged and written: a later
// Set of the same problem changes nothing.
func (t *Tracker) Set(what, detail string) {
	if t == nil {
		return
	}
	detail = safetext.OneLine(detail, maxDetail)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.cur[what]; ok {
		return
	}
	p := Problem{What: what, Since: t.now().UTC().Truncate(time.Second), Detail: detail, Fix: Fix(what)}
	t.cur[what] = p
	t.log.Error("problem: "+what, "detail", detail, "fix", p.Fix)
	t.save()
	if t.onChange != nil {
		t.onChange(what, true)
	}
}

// Clear records that the problem what is over.
func (t *Tracker) Clear(what string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.cur[what]
	if !ok {
		return
	}
	delete(t.cur, what)
	t.log.Info("problem over: "+what, "since", p.Since.Format(time.RFC3339))
	t.save()
	if t.onChange != nil {
		t.onChange(what, false)
	}
}

// Has reports whether the problem what is current.
func (t *Tracker) Has(what string) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.cur[what]
	return ok
}

// Check returns a readiness check that fails while the problem what is
// current, saying since when, why, and the fix.
func (t *Tracker) Check(what string) func(context.Context) error {
	return func(context.Context) error {
		if t == nil {
			return nil
		}
		t.mu.Lock()
		p, ok := t.cur[what]
		t.mu.Unlock()
		if !ok {
			return nil
		}
		return fmt.Errorf("since %s: %s; fix: %s", p.Since.Format(time.RFC3339), p.Detail, p.Fix)
	}
}

// Problems returns the current problems, sorted by name.
func (t *Tracker) Problems() []Problem {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.list()
}

func (t *Tracker) list() []Problem {
	ps := make([]Problem, 0, len(t.cur))
	for _, p := range t.cur {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Problem) int { return strings.Compare(a.What, b.What) })
	return ps
}

// save writes the current set (t.mu held). A failure is logged: the
// problems stay in /readyz and the log even when the file cannot be
// written.
func (t *Tracker) save() {
	if t.path == "" {
		return
	}
	if err := output.WriteStatusFile(t.path, Snapshot{PID: os.Getpid(), Problems: t.list()}); err != nil {
		t.log.Warn("cannot write the problems file for `status`", "err", err)
	}
}

// Close removes the problems file: a daemon that stopped has no current
// problem. (One that crashed leaves its last set, replaced at its next
// start.)
func (t *Tracker) Close() {
	if t == nil || t.path == "" {
		return
	}
	if err := os.Remove(t.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.log.Warn("cannot remove the problems file", "err", err)
	}
}

// Read returns the problems the daemon last wrote in stateDir; an absent
// file is an empty snapshot.
func Read(stateDir string) (Snapshot, error) {
	var s Snapshot
	if _, err := output.ReadStatusFile(filepath.Join(stateDir, FileName), &s); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}
