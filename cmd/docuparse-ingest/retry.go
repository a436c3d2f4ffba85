package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// progressEvery is how many documents pass between progress lines.
const progressEvery = 1000

// retryStore is what the retry command needs from the state store: the
// documents chosen (by id or by a query), and the retry itself, which
// checks and creates the new queued attempt in one transaction.
type retryStore interface {
	GetByDocumentID(ctx context.Context, documentID string) (*store.Document, error)
	SelectForRetry(ctx context.Context, q store.RetryQuery) ([]store.Document, error)
	CheckRetry(ctx context.Context, id int64, opts store.RetryOptions) (*store.Document, error)
	Retry(ctx context.Context, id int64, opts store.RetryOptions) (int64, error)
}

// retryTarget is one document the retry command was asked about: by the
// user's id (arg) and, once resolved, its local id.
type retryTarget struct {
	arg string
	id  int64 // 0: no such document
}

// runRetry resubmits chosen documents: each becomes a new queued document
// linked to the old one, which the running daemon's submitter picks up. It
// only writes the store; SQLite in WAL mode lets it run beside the daemon.
func (m *Main) runRetry(ctx context.Context, args []string) error {
	flags := m.newFlags("retry")
	path := flags.String("config", config.DefaultPath, "configuration file")
	failed := flags.Bool("failed", false, "retry every failed file once: failed documents not retried yet, leaving out retries that failed too (retry those by id or with --again)")
	code := flags.String("code", "", "only documents with this error_code (implies --failed; a rejection code chooses rejected documents too)")
	stuck := flags.Bool("stuck", false, "retry every document submitted longer than reconcile.stuck_after ago")
	source := flags.String("source", "", "with --failed or --stuck: only documents of this source")
	again := flags.Bool("again", false, "with --failed or --code: also retry failed retries, each file through its newest attempt; with ids: retry a document even if it was retried before")
	dryRun := flags.Bool("dry-run", false, "print what would happen and change nothing")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "Usage: docuparse-ingest retry --config FILE [--failed] [--stuck] [--code CODE] [--source NAME] [--again] [--dry-run] [ID ...]")
		fmt.Fprintln(flags.Output(), "IDs are local document ids (as in status and report) or the API's doc_… ids.")
		flags.PrintDefaults()
	}
	args, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	for _, a := range args {
		if !validDocumentRef(a) {
			return usageError{fmt.Sprintf("retry: %q is not a document id (a local number or the API's doc_… id)", a)}
		}
	}
	selecting := *failed || *code != "" || *stuck
	if !selecting && len(args) == 0 {
		return usageError{"retry: choose documents: --failed, --stuck, --code CODE or document ids"}
	}
	if *source != "" && !selecting {
		return usageError{"retry: --source narrows --failed, --stuck or --code; it does not apply to ids"}
	}
	cfg, err := config.LoadWithoutSecrets(*path, m.Getenv)
	if err != nil {
		return err
	}
	if err := knownSource(cfg, *source); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	targets, err := resolveTargets(ctx, st, args)
	if err != nil {
		return err
	}
	if selecting {
		q := store.RetryQuery{Failed: *failed, Code: *code, Stuck: *stuck, Source: *source, Again: *again}
		if *stuck {
			q.StuckBefore = time.Now().Add(-cfg.Reconcile.StuckAfter.D())
		}
		if targets, err = addSelected(ctx, st, q, targets); err != nil {
			return err
		}
		if len(targets) == 0 {
			return m.nothingToRetry(q, cfg.Reconcile.StuckAfter.D())
		}
	}

	roots, closeRoots := sourceRoots(ctx, cfg)
	defer closeRoots()
	retried, err := m.retryAll(ctx, st, roots, targets, store.RetryOptions{Again: *again}, *dryRun)
	if err != nil {
		return err
	}
	skipped := len(targets) - retried
	verb := "retried"
	if *dryRun {
		verb = "would be retried"
	}
	if len(targets) > 1 {
		fmt.Fprintf(m.Stdout, "%d of %d document(s) %s, %d skipped\n", retried, len(targets), verb, skipped)
	}
	if retried == 0 {
		return fmt.Errorf("nothing %s: %d document(s) skipped", verb, skipped)
	}
	return nil
}

// retryAll retries (or, dry, checks) each target in turn, showing progress
// on a terminal, and returns how many were (or would be) retried.
func (m *Main) retryAll(ctx context.Context, st retryStore, roots *ingest.Roots, targets []retryTarget,
	opts store.RetryOptions, dry bool) (int, error) {
	var prog *progress
	if isTerminal(m.Stdout) {
		prog = &progress{w: m.Stderr, every: progressEvery, total: len(targets)}
	}
	retried := 0
	for i, t := range targets {
		if err := ctx.Err(); err != nil {
			return retried, fmt.Errorf("interrupted after %d of %d document(s), %d retried: %w", i, len(targets), retried, err)
		}
		ok, err := m.retryOne(ctx, st, roots, t, opts, dry)
		if err != nil {
			return retried, fmt.Errorf("%w (%d document(s) retried before it)", err, retried)
		}
		if ok {
			retried++
		}
		prog.step(retried)
	}
	return retried, nil
}

// nothingToRetry says that q chose nothing. Nothing to do is not a
// failure: a cron job's retry --stuck on a healthy day exits 0.
func (m *Main) nothingToRetry(q store.RetryQuery, stuckAfter time.Duration) error {
	fmt.Fprintf(m.Stdout, "nothing to retry: %s\n", safetext.Visible(describeQuery(q, stuckAfter)))
	return nil
}

// addSelected appends the documents q selects to targets, each once.
func addSelected(ctx context.Context, st retryStore, q store.RetryQuery, targets []retryTarget) ([]retryTarget, error) {
	docs, err := st.SelectForRetry(ctx, q)
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(targets))
	for _, t := range targets {
		seen[t.id] = true
	}
	for _, d := range docs {
		if !seen[d.ID] {
			seen[d.ID] = true
			targets = append(targets, retryTarget{arg: strconv.FormatInt(d.ID, 10), id: d.ID})
		}
	}
	return targets, nil
}

// knownSource refuses a --source that names no configured source, so a
// typing error is not taken for "nothing to retry".
func knownSource(cfg *config.Config, name string) error {
	if name == "" {
		return nil
	}
	names := make([]string, 0, len(cfg.Sources))
	for _, src := range cfg.Sources {
		if src.Name == name {
			return nil
		}
		names = append(names, src.Name)
	}
	return usageError{fmt.Sprintf("retry: --source: no [[source]] has name = %q (configured: %s)",
		name, safetext.Visible(strings.Join(names, ", ")))}
}

// sourceRoots pins the configured source folders and opens the buckets of
// bucket sources, as the daemon does, for checking files and objects the
// way an upload will (see fileProblem). The returned function releases
// them. A bucket that cannot be opened leaves its objects to be checked
// as files, which finds them missing: said, not retried.
func sourceRoots(ctx context.Context, cfg *config.Config) (*ingest.Roots, func()) {
	pins := safedir.NewSet(nil)
	folders := map[string]string{}
	buckets := map[string]*bucket.Bucket{}
	for _, src := range cfg.Sources {
		switch {
		case src.Path != "":
			folders[src.Name] = src.Path
		case src.URL != "":
			if b, err := bucket.Open(ctx, src.URL); err == nil {
				buckets[src.Name] = b
			}
		}
	}
	roots := ingest.NewRoots(folders, pins)
	roots.SetBuckets(buckets)
	return roots, func() {
		pins.Close()
		for _, b := range buckets {
			_ = b.Close()
		}
	}
}

// retryOne retries (or, dry, checks) one target and prints its line. It
// reports whether the document was (or would be) retried; an error is one
// the next document would run into too.
func (m *Main) retryOne(ctx context.Context, st retryStore, roots *ingest.Roots, t retryTarget, opts store.RetryOptions, dry bool) (bool, error) {
	if t.id == 0 {
		fmt.Fprintf(m.Stdout, "skip %s: no such document\n", safetext.Visible(t.arg))
		return false, nil
	}
	d, err := st.CheckRetry(ctx, t.id, opts)
	if err == nil {
		if problem := fileProblem(roots, d); problem != "" {
			fmt.Fprintf(m.Stdout, "skip %d: %s (%s)\n", t.id, safetext.Visible(problem), safetext.Visible(d.Path))
			return false, nil
		}
		if dry {
			fmt.Fprintf(m.Stdout, "would retry %d (%s)%s\n", t.id, safetext.Visible(d.Path), resubmitNote(d))
			return true, nil
		}
		var newID int64
		if newID, err = st.Retry(ctx, t.id, opts); err == nil {
			fmt.Fprintf(m.Stdout, "retry %d → %d (%s)\n", t.id, newID, safetext.Visible(d.Path))
			return true, nil
		}
	}
	var nr *store.NotRetryableError
	switch {
	case errors.As(err, &nr):
		hint := ""
		if nr.RetriedAs != 0 {
			hint = " (--again retries it anyway)"
		}
		fmt.Fprintf(m.Stdout, "skip %d: %s%s\n", t.id, safetext.Visible(nr.Reason), hint)
		return false, nil
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(m.Stdout, "skip %s: no such document\n", safetext.Visible(t.arg))
		return false, nil
	default:
		return false, err
	}
}

// resubmitNote tells, in a dry run, that a stuck document would end failed.
func resubmitNote(d *store.Document) string {
	if d.State != store.StateSubmitted {
		return ""
	}
	return fmt.Sprintf("; it would end failed as %s", vocab.CodeResubmitted)
}

// fileProblem says why the document's input file cannot be sent again, or
// "" when it is still there as it was taken in. The file is checked as its
// upload will check it (ingest.Roots.Verify: through its source folder's
// pin, following no symbolic link, by size and SHA-256), so a file
// replaced by another with the same size and modification time is not
// promised a retry. Bucket objects are left to the submitter, which checks
// them when it uploads.
func fileProblem(roots *ingest.Roots, d *store.Document) string {
	what := "file"
	if strings.Contains(d.Path, "://") {
		if !roots.HasBucket(d.Source) {
			return "" // its source is no longer configured: the upload will say
		}
		what = "object"
	}
	err := roots.Verify(*d)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return what + " is gone"
	case errors.Is(err, ingest.ErrChanged):
		return what + " has changed since it was taken in (its new content is a document of its own)"
	}
	return fmt.Sprintf("cannot check the %s: %v", what, err)
}

// validDocumentRef accepts a positive local id or an API document id.
func validDocumentRef(a string) bool {
	if strings.HasPrefix(a, "doc_") {
		return len(a) > len("doc_")
	}
	id, err := strconv.ParseInt(a, 10, 64)
	return err == nil && id > 0
}

// resolveTargets turns the user's ids into local ids, in the order given,
// each document once. An id that names no document stays, with id 0.
func resolveTargets(ctx context.Context, st retryStore, args []string) ([]retryTarget, error) {
	out := make([]retryTarget, 0, len(args))
	seen := map[int64]bool{}
	for _, a := range args {
		t := retryTarget{arg: a}
		if strings.HasPrefix(a, "doc_") {
			d, err := st.GetByDocumentID(ctx, a)
			switch {
			case err == nil:
				t.id = d.ID
			case !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
		} else {
			t.id, _ = strconv.ParseInt(a, 10, 64) // checked by validDocumentRef
		}
		if t.id != 0 && seen[t.id] {
			continue
		}
		seen[t.id] = true
		out = append(out, t)
	}
	return out, nil
}

// describeQuery says in words what a selection looked for.
func describeQuery(q store.RetryQuery, stuckAfter time.Duration) string {
	var parts []string
	if q.Failed || q.Code != "" {
		s := "failed documents"
		if q.Code != "" {
			s = "failed or rejected documents with error_code " + q.Code
		}
		parts = append(parts, s)
	}
	if q.Stuck {
		parts = append(parts, fmt.Sprintf("documents submitted more than %s ago (reconcile.stuck_after)", stuckAfter))
	}
	s := "no " + strings.Join(parts, " and no ")
	if q.Source != "" {
		s += " in source " + q.Source
	}
	s += " that were not retried already"
	if (q.Failed || q.Code != "") && !q.Again {
		s += " (a retry that failed too is retried by its id or with --again)"
	}
	return s
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns the positional ones.
func parseInterleaved(flags *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = flags.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// isTerminal reports whether w is a character device (a terminal), using
// only the standard library.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress prints a line every so many documents of a long run. A nil
// progress prints nothing.
type progress struct {
	w            io.Writer
	every, total int
	done         int
}

func (p *progress) step(retried int) {
	if p == nil {
		return
	}
	p.done++
	if p.done%p.every == 0 && p.done < p.total {
		fmt.Fprintf(p.w, "… %d of %d document(s) done, %d retried\n", p.done, p.total, retried)
	}
}
