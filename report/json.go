package report

// The report's JSON form, for machines. Its shape is fixed by the wire
// types below, not by the Go model, so that the model can change without
// breaking readers: snake_case names, every list present (possibly empty)
// and sorted, no maps, times RFC 3339 in UTC (null when unknown), money as
// decimal strings, durations in whole seconds.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// SchemaVersion is the JSON form's schema_version. It changes only
// when a field changes meaning or disappears; new fields may be added.
//
// Version 2: accounting counts files, not attempts (a retry is no longer a
// file discovered; a retried file counts by its latest attempt), and so do
// pending, stuck, unclassified, failures and results_via; the retries
// made that day are in "retries".
const SchemaVersion = 2

type jsonReport struct {
	SchemaVersion     int              `json:"schema_version"`
	Day               string           `json:"day"`
	TimeZone          string           `json:"time_zone"`
	From              *string          `json:"from"`
	To                *string          `json:"to"`
	GeneratedAt       *string          `json:"generated_at"`
	Partial           bool             `json:"partial"`
	StuckAfterSeconds int64            `json:"stuck_after_seconds"`
	Accounting        jsonAccounting   `json:"accounting"`
	Pending           []jsonFile       `json:"pending"`
	Stuck             []jsonFile       `json:"stuck"`
	Unclassified      []jsonFile       `json:"unclassified"`
	Failures          []jsonFailures   `json:"failures"`
	ResultsVia        jsonResultsVia   `json:"results_via"`
	Webhooks          jsonWebhooks     `json:"webhooks"`
	Counters          []jsonCounter    `json:"counters"`
	Batches           jsonBatches      `json:"batches"`
	Money             jsonMoney        `json:"money"`
	Files             jsonFilesSummary `json:"files"`
	Uploads           jsonUploads      `json:"uploads"`
	Retries           []jsonFile       `json:"retries"`
	Pruned            *jsonPruned      `json:"pruned,omitempty"`
}

// jsonUploads is Report.Uploads; the attempts are in counters.
type jsonUploads struct {
	Batches     int `json:"batches"`
	BatchFiles  int `json:"batch_files"`
	SingleFiles int `json:"single_files"`
}

type jsonAccounting struct {
	Discovered   int  `json:"discovered"`
	Completed    int  `json:"completed"`
	Failed       int  `json:"failed"`
	Rejected     int  `json:"rejected"`
	Duplicate    int  `json:"duplicate"`
	Vanished     int  `json:"vanished"`
	Pending      int  `json:"pending"`
	Unclassified int  `json:"unclassified"`
	Balanced     bool `json:"balanced"`
}

type jsonFile struct {
	Path          string  `json:"path"`
	FileName      string  `json:"file_name"`
	DocumentID    string  `json:"document_id"`
	Bucket        string  `json:"bucket"`
	State         string  `json:"state"`
	ErrorCode     string  `json:"error_code"`
	ErrorMessage  string  `json:"error_message"`
	ResultVia     string  `json:"result_via"`
	DiscoveredAt  *string `json:"discovered_at"`
	SubmittedAt   *string `json:"submitted_at"`
	CompletedAt   *string `json:"completed_at"`
	LastPollError string  `json:"last_poll_error"`
	AgeSeconds    int64   `json:"age_seconds"`
	Stuck         bool    `json:"stuck"`
	ID            int64   `json:"id"`
	Attempts      int     `json:"attempts,omitempty"` // files: 1 when never retried
	RetryOf       int64   `json:"retry_of,omitempty"` // retries: the document retried
}

// jsonFilesSummary points to the per-file list: it is the CSV, not repeated
// in the JSON, which stays small on a busy day.
type jsonFilesSummary struct {
	Count int    `json:"count"`
	CSV   string `json:"csv"`
}

type jsonFailures struct {
	ErrorCode string     `json:"error_code"`
	Count     int        `json:"count"`
	Files     []jsonFile `json:"files"`
}

type jsonResultsVia struct {
	Webhook int `json:"webhook"`
	Poll    int `json:"poll"`
	Other   int `json:"other"`
}

type jsonDelivery struct {
	ID         int64   `json:"id"`
	Type       string  `json:"type"`
	DocumentID string  `json:"document_id"`
	BatchID    string  `json:"batch_id"`
	Path       string  `json:"path"`
	ReceivedAt *string `json:"received_at"`
	Note       string  `json:"note"`
}

type jsonWebhooks struct {
	Received    int            `json:"received"`
	Applied     int            `json:"applied"`
	Duplicate   int            `json:"duplicate"`
	Conflict    int            `json:"conflict"`
	Orphan      int            `json:"orphan"`
	Dead        int            `json:"dead"`
	Pending     int            `json:"pending"`
	Other       int            `json:"other"`
	DeadLetters []jsonDelivery `json:"dead_letters"`
	Conflicts   []jsonDelivery `json:"conflicts"`
	Orphans     []jsonDelivery `json:"orphans"`
}

type jsonCounter struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

type jsonMismatch struct {
	BatchID    int64   `json:"batch_id"`
	APIBatchID string  `json:"api_batch_id"`
	Check      string  `json:"check"`
	CheckedAt  *string `json:"checked_at"`
}

type jsonMissing struct {
	BatchID    int64   `json:"batch_id"`
	APIBatchID string  `json:"api_batch_id"`
	FileCount  int     `json:"file_count"`
	DoneAt     *string `json:"done_at"`
}

type jsonBatches struct {
	SummaryMismatches []jsonMismatch `json:"summary_mismatches"`
	SummaryMissing    []jsonMissing  `json:"summary_missing"`
}

type jsonCurrency struct {
	Currency  string `json:"currency"`
	Documents int    `json:"documents"`
	Total     string `json:"total"`
	Tax       string `json:"tax"`
}

type jsonProblem struct {
	Path       string `json:"path"`
	FileName   string `json:"file_name"`
	DocumentID string `json:"document_id"`
	Currency   string `json:"currency"`
	Field      string `json:"field"`
	Value      string `json:"value"`
	Reason     string `json:"reason"`
}

type jsonMoney struct {
	Currencies []jsonCurrency `json:"currencies"`
	Problems   []jsonProblem  `json:"problems"`
}

// JSON renders the report for machines (see the field names in the wire
// types): indented, ending with a newline, byte-for-byte the same for the
// same report.
func (r *Report) JSON() ([]byte, error) {
	j := jsonReport{
		SchemaVersion:     SchemaVersion,
		Day:               r.Day,
		TimeZone:          locationName(r.Location),
		From:              jsonTime(r.From),
		To:                jsonTime(r.To),
		GeneratedAt:       jsonTime(r.GeneratedAt),
		Partial:           r.Partial,
		StuckAfterSeconds: int64(r.StuckAfter / time.Second),
		Accounting:        jsonAccounting(r.Accounting),
		Pending:           jsonFiles(r.Pending),
		Stuck:             jsonFiles(r.Stuck),
		Unclassified:      jsonFiles(r.Unclassified),
		Failures:          []jsonFailures{},
		ResultsVia:        jsonResultsVia{Webhook: r.ResultsVia.Webhook, Poll: r.ResultsVia.Poll, Other: r.ResultsVia.Other},
		Webhooks: jsonWebhooks{Received: r.Webhooks.Received, Applied: r.Webhooks.Applied, Duplicate: r.Webhooks.Duplicate,
			Conflict: r.Webhooks.Conflict, Orphan: r.Webhooks.Orphan, Dead: r.Webhooks.Dead, Pending: r.Webhooks.Pending,
			Other: r.Webhooks.Other, DeadLetters: jsonDeliveries(r.Webhooks.DeadLetters),
			Conflicts: jsonDeliveries(r.Webhooks.Conflicts), Orphans: jsonDeliveries(r.Webhooks.Orphans)},
		Counters: []jsonCounter{},
		Batches:  jsonBatches{SummaryMismatches: []jsonMismatch{}, SummaryMissing: []jsonMissing{}},
		Money:    jsonMoney{Currencies: []jsonCurrency{}, Problems: []jsonProblem{}},
		Files:    jsonFilesSummary{Count: len(r.Files), CSV: "reconciliation-" + r.Day + ".csv"},
		Uploads:  jsonUploads(r.Uploads),
		Retries:  jsonFiles(r.Retries),
		Pruned:   r.Pruned.json(),
	}
	for _, g := range r.Failures {
		j.Failures = append(j.Failures, jsonFailures{ErrorCode: g.ErrorCode, Count: len(g.Files), Files: jsonFiles(g.Files)})
	}
	for _, c := range r.Counters {
		j.Counters = append(j.Counters, jsonCounter(c))
	}
	for _, b := range r.SummaryMismatches {
		j.Batches.SummaryMismatches = append(j.Batches.SummaryMismatches, jsonMismatch{BatchID: b.ID, APIBatchID: b.APIBatchID,
			Check: b.Check, CheckedAt: jsonTime(b.CheckedAt)})
	}
	for _, b := range r.SummaryMissing {
		j.Batches.SummaryMissing = append(j.Batches.SummaryMissing, jsonMissing{BatchID: b.ID, APIBatchID: b.APIBatchID,
			FileCount: b.FileCount, DoneAt: jsonTime(b.DoneAt)})
	}
	for _, c := range r.Money.Currencies {
		j.Money.Currencies = append(j.Money.Currencies, jsonCurrency(c))
	}
	for _, p := range r.Money.Problems {
		j.Money.Problems = append(j.Money.Problems, jsonProblem(p))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, fmt.Errorf("report for %s as JSON: %w", r.Day, err)
	}
	return buf.Bytes(), nil
}

func jsonFiles(fs []FileLine) []jsonFile {
	out := make([]jsonFile, 0, len(fs))
	for _, f := range fs {
		out = append(out, jsonFile{
			Path: f.Path, FileName: f.FileName, DocumentID: f.DocumentID, Bucket: string(f.Bucket), State: string(f.State),
			ErrorCode: f.ErrorCode, ErrorMessage: f.ErrorMessage, ResultVia: f.ResultVia,
			DiscoveredAt: jsonTime(f.DiscoveredAt), SubmittedAt: jsonTime(f.SubmittedAt), CompletedAt: jsonTime(f.CompletedAt),
			LastPollError: f.LastPollError, AgeSeconds: int64(f.Age / time.Second), Stuck: f.Stuck,
			ID: f.ID, Attempts: f.Attempts, RetryOf: f.RetryOf,
		})
	}
	return out
}

func jsonDeliveries(ds []Delivery) []jsonDelivery {
	out := make([]jsonDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, jsonDelivery{ID: d.ID, Type: d.Type, DocumentID: d.DocumentID, BatchID: d.BatchID, Path: d.Path,
			ReceivedAt: jsonTime(d.ReceivedAt), Note: d.Note})
	}
	return out
}

// jsonTime is t as RFC 3339 in UTC (fractional seconds only when t has
// them, as in the documents CSV), or nil (null) for the zero time.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := reportTime(t)
	return &s
}

// reportTime is t as RFC 3339 in UTC, or "" for the zero time.
func reportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func locationName(loc *time.Location) string {
	if loc == nil {
		return time.UTC.String()
	}
	return loc.String()
}
