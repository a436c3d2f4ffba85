// Package report writes the nightly reconciliation report: for one
// calendar day, every file discovered that day and where it ended up
// (stuck and lost documents included), results via webhook versus
// polling, refused and dead deliveries, failures by code, batch
// cross-checks, money totals, and an accounting line that proves every
// file discovered that day is in exactly one bucket.
//
// Build reads the store (one snapshot) and classifies; Markdown, JSON and
// CSV render; Write writes the three files; RecordWritten and Last keep
// the newest day reported. Reporter runs it every night once report.at
// has passed, catching up days missed while the daemon was down; the
// `report` command runs it by hand. It reads and writes the store through
// Store alone, and never changes a document.
package report

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Options tune Build. The zero value is ready to use.
type Options struct {
	// Location is the time zone whose calendar days are reported
	// (config report.timezone). Defaults to UTC, as output.Layout does.
	Location *time.Location
	// StuckAfter is how long a submitted document may wait for its result
	// before it is listed as stuck (config reconcile.stuck_after).
	// Defaults to 24 hours.
	StuckAfter time.Duration
	// Now is the report time: pending ages and stuck-ness are measured
	// at it. Defaults to time.Now().
	Now time.Time
}

// DefaultStuckAfter is Options.StuckAfter's default.
const DefaultStuckAfter = 24 * time.Hour

// Bucket is where a discovered file stands in the accounting line.
type Bucket string

// Buckets of the accounting line. Every state of the store maps to exactly
// one; an exported document counts under its outcome. Unclassified exists
// only so that a state this version does not know (a newer store, a hand
// edit) is shown rather than lost; it is normally zero.
const (
	BucketCompleted    Bucket = "completed"
	BucketFailed       Bucket = "failed"
	BucketRejected     Bucket = "rejected"
	BucketDuplicate    Bucket = "duplicate"
	BucketVanished     Bucket = "vanished"
	BucketPending      Bucket = "pending" // queued, submitting or submitted
	BucketUnclassified Bucket = "unclassified"
)

// BucketOf returns the bucket of a document in state with outcome (the
// outcome matters only once the document is exported).
func BucketOf(state, outcome store.State) Bucket {
	switch state {
	case store.StateQueued, store.StateSubmitting, store.StateSubmitted:
		return BucketPending
	case store.StateExported:
		state = outcome
	}
	switch state {
	case store.StateCompleted, store.StateFailed, store.StateRejected, store.StateDuplicate, store.StateVanished:
		return Bucket(state)
	}
	return BucketUnclassified
}

// Accounting is the report's promise in one line: every file discovered
// that day is in exactly one bucket.
type Accounting struct {
	// Discovered is counted by the store on its own, not summed from the
	// buckets, so Balanced checks the classification.
	Discovered   int
	Completed    int
	Failed       int
	Rejected     int
	Duplicate    int
	Vanished     int
	Pending      int
	Unclassified int
	// Balanced is Discovered == the sum of the buckets.
	Balanced bool
}

// Sum returns the sum of the buckets.
func (a Accounting) Sum() int {
	return a.Completed + a.Failed + a.Rejected + a.Duplicate + a.Vanished + a.Pending + a.Unclassified
}

func (a *Accounting) add(b Bucket) {
	switch b {
	case BucketCompleted:
		a.Completed++
	case BucketFailed:
		a.Failed++
	case BucketRejected:
		a.Rejected++
	case BucketDuplicate:
		a.Duplicate++
	case BucketVanished:
		a.Vanished++
	case BucketPending:
		a.Pending++
	default:
		a.Unclassified++
	}
}

// countedAsRetry is FileLine.CountedAs of a retry.
const countedAsRetry = "retry"

// FileLine is one file discovered that day, or one attempt at a file: a
// document.
type FileLine struct {
	ID            int64 // the local document id (of the file's first document, for a file)
	Path          string
	FileName      string
	DocumentID    string // the API's id; empty when it has none
	Bucket        Bucket
	State         store.State
	ErrorCode     string
	ErrorMessage  string
	ResultVia     string // vocab.ViaWebhook, vocab.ViaPoll or empty
	DiscoveredAt  time.Time
	SubmittedAt   time.Time
	CompletedAt   time.Time
	LastPollError string
	// Age is the time since discovery at report time (pending files).
	Age time.Duration
	// Stuck: submitted, and waiting for its result longer than StuckAfter;
	// or stuck at submission (vocab.CodeSubmitStuck, reason in
	// ErrorMessage).
	Stuck bool
	// Attempts counts a file's documents: 1 when never retried. For a
	// retried file the other fields but ID, Path, FileName and
	// DiscoveredAt are its latest attempt's.
	Attempts int
	// RetryOf is the document a retry retries; 0 for a file.
	RetryOf int64
	// CountedAs is, in Files, what the row counts as: the bucket of its
	// file (by the latest attempt) or "retry".
	CountedAs string
}

// FailureGroup is the failed and rejected files of one error code.
type FailureGroup struct {
	ErrorCode string // empty when none was recorded
	Files     []FileLine
}

// ResultsVia counts how the API's results (completed and failed files) for
// the day's files arrived.
type ResultsVia struct {
	Webhook int
	Poll    int // the webhook never came (or came late): recovered by polling
	Other   int // a result with no channel recorded
}

// Delivery is one journaled webhook delivery the report lists.
type Delivery struct {
	ID         int64
	Type       string // empty when the body could not be parsed
	DocumentID string
	BatchID    string
	Path       string // of the document it names, when recorded
	ReceivedAt time.Time
	Note       string
}

// Webhooks is the day's webhook deliveries (received that day) by status.
type Webhooks struct {
	Received                                            int
	Applied, Duplicate, Conflict, Orphan, Dead, Pending int
	Other                                               int // a status this version does not know
	DeadLetters                                         []Delivery
	Conflicts                                           []Delivery
	Orphans                                             []Delivery // still waiting for a document never recorded
}

// Uploads counts the day's uploads to the API: batches sent (POST
// /batches) with their files, and files sent one by one (POST /extract).
type Uploads struct {
	Batches, BatchFiles, SingleFiles int
}

// Counter is one daily counter (see internal/counters and store.AddCounters).
type Counter struct {
	Name  string
	Count int64
}

// ErrFutureDay is returned by Build for a day that has not begun at
// the report time: there is nothing to report yet.
var ErrFutureDay = errors.New("that day has not begun")

// Report is one day's reconciliation report.
type Report struct {
	Day         string // "2006-01-02" in Location
	Location    *time.Location
	From, To    time.Time // the day's instants: [From, To)
	GeneratedAt time.Time
	StuckAfter  time.Duration
	// Partial is set when the day was not over at GeneratedAt: files
	// discovered later that day are not in the report.
	Partial bool

	// Accounting counts files, not attempts: a retried file once, by
	// the outcome of its latest attempt.
	Accounting Accounting
	// Files lists every document discovered that day, retries included,
	// in discovery order, each with its own state (see CountedAs).
	Files []FileLine
	// Retries lists the retries made that day (of files discovered that
	// day or before), in discovery order, each with its own state.
	Retries []FileLine
	// Pending lists the pending files, oldest first; Stuck the stuck ones
	// among them, longest waiting first.
	Pending, Stuck []FileLine
	// Unclassified lists files in a state this version does not know.
	Unclassified []FileLine
	// Failures groups the failed and rejected files by error code, the
	// largest group first.
	Failures   []FailureGroup
	ResultsVia ResultsVia
	Webhooks   Webhooks
	// Counters are the day's counters by name, such as deliveries refused
	// before they were journaled (counters.WebhookBadSignature, …) and API
	// calls (counters.APICallsPrefix).
	Counters []Counter
	// SummaryMismatches are batches whose batch.completed summary, checked
	// that day, disagreed with the daemon's own counts.
	SummaryMismatches []store.BatchCheck
	// SummaryMissing are batches done that day with no batch.completed.
	SummaryMissing []store.MissingSummary
	Money          Money
	// Uploads are the batches and single files first sent that day; the
	// attempts it took are the api_calls_submit_batch and
	// api_calls_extract counters.
	Uploads Uploads
	// Pruned is what the retention job had pruned (state.retention).
	Pruned Pruned
}

// Build builds the report of the calendar day, in o.Location, that
// contains day, from the store alone. It covers the files discovered in
// that day (whatever happened to them since) and the deliveries received,
// batches checked and counters kept that day. A day that has not begun at
// o.Now is refused with an error matching ErrFutureDay; the report of the
// current day is built, marked Partial.
func Build(ctx context.Context, st Store, day time.Time, o Options) (*Report, error) {
	if st == nil {
		return nil, errors.New("build report: no store")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.StuckAfter <= 0 {
		o.StuckAfter = DefaultStuckAfter
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	r := &Report{Location: o.Location, GeneratedAt: o.Now, StuckAfter: o.StuckAfter}
	r.Day, r.From, r.To = dayWindow(day, o.Location)
	if o.Now.Before(r.From) {
		return nil, fmt.Errorf("build report for %s: %w (it is now %s in %s)", r.Day, ErrFutureDay,
			o.Now.In(o.Location).Format("2006-01-02 15:04"), locationName(o.Location))
	}
	r.Partial = o.Now.Before(r.To)
	data, err := st.ReportData(ctx, store.ReportWindow{Day: r.Day, From: r.From, To: r.To})
	if err != nil {
		return nil, fmt.Errorf("build report for %s: %w", r.Day, err)
	}
	latest := r.addFiles(data, o)
	r.Accounting.Discovered = data.Discovered
	r.Accounting.Balanced = r.Accounting.Discovered == r.Accounting.Sum()
	r.addWebhooks(data)
	for name, n := range data.Counters {
		r.Counters = append(r.Counters, Counter{Name: name, Count: n})
	}
	sort.Slice(r.Counters, func(i, j int) bool { return r.Counters[i].Name < r.Counters[j].Name })
	if err := r.takePruned(ctx, st); err != nil {
		return nil, fmt.Errorf("build report for %s: %w", r.Day, err)
	}
	r.SummaryMismatches, r.SummaryMissing = data.Mismatches, data.MissingSummaries
	r.Money = sumMoney(latest)
	b, one := data.Uploads[store.ModeBatch], data.Uploads[store.ModeSingle]
	r.Uploads = Uploads{Batches: b.Batches, BatchFiles: b.Files, SingleFiles: one.Files}
	return r, nil
}

// ParseDay parses a "2006-01-02" day (the `report --date` flag) as the
// first instant of that day in loc (UTC when nil), for Build.
func ParseDay(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	// Parsed in UTC, where every midnight exists: in loc it may not.
	t, err := time.Parse(output.DayFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse day %q: want YYYY-MM-DD", s)
	}
	y, m, d := t.Date()
	return dayStart(y, m, d, loc), nil
}

// dayWindow returns the name of t's calendar day in loc and the instants
// it starts and ends. A day is 23 or 25 hours long across a DST change.
func dayWindow(t time.Time, loc *time.Location) (string, time.Time, time.Time) {
	y, m, d := t.In(loc).Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), dayStart(y, m, d, loc), dayStart(y, m, d+1, loc)
}

// dayStart returns the first instant whose date in loc is the given day
// (d may overflow the month, as time.Date allows). That is local midnight,
// or, where a DST change skips midnight itself, the change; where midnight
// happens twice, the first. Found by bisection to the second (zone
// changes fall on whole seconds), as the date is not a function time.Date
// can invert at such changes.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	noon := time.Date(y, m, d, 12, 0, 0, 0, loc)
	day := dateKey(noon)
	lo, hi := noon.Add(-36*time.Hour).Unix(), noon.Unix() // before the day, within it
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if dateKey(time.Unix(mid, 0).In(loc)) < day {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}

// dateKey orders t's calendar dates (in t's location).
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// addFiles classifies the documents discovered that day. A file counts
// once, by the outcome of its latest attempt (its newest retry, whenever
// it was made); the retries made that day are listed apart. It returns the
// latest attempt of each file, whose amounts the totals sum.
func (r *Report) addFiles(data *store.ReportData, o Options) []store.ReportDocument {
	r.Files = make([]FileLine, 0, len(data.Documents))
	latest := make([]store.ReportDocument, 0, len(data.Documents))
	failures := map[string][]FileLine{}
	for _, d := range data.Documents {
		info := data.Retries[d.ID]
		row := fileLine(d, o)
		if info.RetryOf != 0 {
			row.RetryOf, row.CountedAs = info.RetryOf, countedAsRetry
			r.Retries = append(r.Retries, row)
			r.Files = append(r.Files, row)
			continue
		}
		eff := d
		if l, ok := data.Latest[d.ID]; ok {
			eff = l
			eff.DiscoveredAt = d.DiscoveredAt // the file's age runs from its discovery
		}
		f := fileLine(eff, o)
		f.ID, f.Attempts = d.ID, max(info.Attempts, 1)
		row.CountedAs = string(f.Bucket)
		r.Files = append(r.Files, row)
		latest = append(latest, eff)
		r.classify(f, failures)
	}
	r.sortLists(failures)
	return latest
}

// fileLine is document d as the report shows it, at o.Now.
func fileLine(d store.ReportDocument, o Options) FileLine {
	f := FileLine{
		ID: d.ID, Path: d.Path, FileName: d.FileName, DocumentID: d.DocumentID,
		Bucket: BucketOf(d.State, d.Outcome), State: d.State,
		ErrorCode: d.ErrorCode, ErrorMessage: d.ErrorMessage, ResultVia: d.ResultVia,
		DiscoveredAt: d.DiscoveredAt, SubmittedAt: d.SubmittedAt, CompletedAt: d.CompletedAt,
		LastPollError: d.LastPollError,
	}
	if f.Bucket == BucketPending {
		f.Age = nonNegative(o.Now.Sub(f.DiscoveredAt))
		f.Stuck = f.State == store.StateSubmitted && !f.SubmittedAt.IsZero() && o.Now.Sub(f.SubmittedAt) > o.StuckAfter ||
			f.State == store.StateSubmitting && f.ErrorCode == vocab.CodeSubmitStuck
	}
	return f
}

// classify counts file f in the accounting line and the lists.
func (r *Report) classify(f FileLine, failures map[string][]FileLine) {
	r.Accounting.add(f.Bucket)
	switch f.Bucket {
	case BucketPending:
		r.Pending = append(r.Pending, f)
		if f.Stuck {
			r.Stuck = append(r.Stuck, f)
		}
	case BucketFailed, BucketRejected:
		failures[f.ErrorCode] = append(failures[f.ErrorCode], f)
	case BucketUnclassified:
		r.Unclassified = append(r.Unclassified, f)
	}
	if f.Bucket == BucketCompleted || f.Bucket == BucketFailed {
		switch f.ResultVia {
		case vocab.ViaWebhook:
			r.ResultsVia.Webhook++
		case vocab.ViaPoll:
			r.ResultsVia.Poll++
		default:
			r.ResultsVia.Other++
		}
	}
}

func (r *Report) sortLists(failures map[string][]FileLine) {
	sort.SliceStable(r.Pending, func(i, j int) bool {
		return lessByTime(r.Pending[i], r.Pending[j], r.Pending[i].DiscoveredAt, r.Pending[j].DiscoveredAt)
	})
	sort.SliceStable(r.Stuck, func(i, j int) bool {
		return lessByTime(r.Stuck[i], r.Stuck[j], r.Stuck[i].SubmittedAt, r.Stuck[j].SubmittedAt)
	})
	for code, files := range failures {
		sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		r.Failures = append(r.Failures, FailureGroup{ErrorCode: code, Files: files})
	}
	sort.Slice(r.Failures, func(i, j int) bool {
		a, b := r.Failures[i], r.Failures[j]
		if len(a.Files) != len(b.Files) {
			return len(a.Files) > len(b.Files)
		}
		return a.ErrorCode < b.ErrorCode
	})
}

func lessByTime(a, b FileLine, ta, tb time.Time) bool {
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Path < b.Path
}

func nonNegative(d time.Duration) time.Duration {
	return max(d, 0)
}

func (r *Report) addWebhooks(data *store.ReportData) {
	w := &r.Webhooks
	for status, n := range data.EventCounts {
		w.Received += n
		switch status {
		case vocab.EventApplied:
			w.Applied += n
		case vocab.EventDuplicate:
			w.Duplicate += n
		case vocab.EventConflict:
			w.Conflict += n
		case vocab.EventOrphan:
			w.Orphan += n
		case vocab.EventDead:
			w.Dead += n
		case vocab.EventPending:
			w.Pending += n
		default:
			w.Other += n
		}
	}
	for _, e := range data.Events {
		d := Delivery{ID: e.ID, Type: e.Type, DocumentID: e.DocumentID, BatchID: e.BatchID, Path: e.Path,
			ReceivedAt: e.ReceivedAt, Note: e.Note}
		switch e.Status {
		case vocab.EventDead:
			w.DeadLetters = append(w.DeadLetters, d)
		case vocab.EventConflict:
			w.Conflicts = append(w.Conflicts, d)
		case vocab.EventOrphan:
			w.Orphans = append(w.Orphans, d)
		}
	}
}

// staleTemporary is how old a temporary file in the reports folder must
// be for Write to remove it: a report's write takes well under a second,
// so one this old was left by a write that was killed.
const staleTemporary = 10 * time.Minute

// Write writes r as reconciliation-<day>.md, .json and .csv under
// layout's reports directory, each atomically (a reader sees the old file
// or the new one, never a part), and returns the three paths. Everything is
// rendered before the first file is written.
func Write(layout output.Layout, r *Report) ([]string, error) {
	if r == nil {
		return nil, errors.New("write report: no report")
	}
	js, err := r.JSON()
	if err != nil {
		return nil, fmt.Errorf("write report for %s: %w", r.Day, err)
	}
	cs, err := r.CSV()
	if err != nil {
		return nil, fmt.Errorf("write report for %s: %w", r.Day, err)
	}
	files := []struct {
		ext  string
		data []byte
	}{{"md", r.Markdown()}, {"json", js}, {"csv", cs}}
	paths := make([]string, 0, len(files))
	// A write killed between its temporary and its rename left the
	// temporary: remove those older than any write still under way.
	_, _ = layout.SweepTemporaries(filepath.Dir(layout.ReportPath(r.Day, "md")), time.Now().Add(-staleTemporary))
	for _, f := range files {
		p := layout.ReportPath(r.Day, f.ext)
		if err := layout.WriteFileAtomic(p, f.data, output.FilePerm); err != nil {
			return paths, fmt.Errorf("write report for %s: %w", r.Day, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
