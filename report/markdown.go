package report

// The report's Markdown form, for people: it is mailed, so it must read
// well as plain text too. A headline and what needs attention first, then
// one section per subject, tables only for counts, file lists capped.

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/counters"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// maxListed caps every list in the Markdown form; the JSON and CSV forms
// are complete.
const maxListed = 50

// mdTimeLayout shows times in the report's zone, to the minute. The zone
// is named once, at the top (see zoneName): abbreviations such as "CET"
// beside a zone named otherwise read as two zones.
const mdTimeLayout = "2006-01-02 15:04"

// Markdown renders the report for people. Names and ids are shown in code
// spans and free text is escaped, so a file name can neither break the
// layout nor inject markup; control characters are shown as escapes.
func (r *Report) Markdown() []byte {
	var b bytes.Buffer
	a := r.Accounting
	fmt.Fprintf(&b, "# Reconciliation report for %s\n\n", r.Day)
	fmt.Fprintf(&b, "Files discovered from %s to %s. All times are in %s (report.timezone).", r.mdTime(r.From), r.mdTime(r.To),
		mdText(zoneName(r.Location, r.From)))
	if h := r.To.Sub(r.From); h != 24*time.Hour {
		fmt.Fprintf(&b, " This day had %d hours: the clocks changed.", int(h/time.Hour))
	}
	fmt.Fprintf(&b, " Generated %s.\n\n", r.mdTime(r.GeneratedAt))
	line := fmt.Sprintf("%s discovered: %d completed, %d failed, %d rejected, %d duplicate, %d vanished, %d pending",
		plural(a.Discovered, "file"), a.Completed, a.Failed, a.Rejected, a.Duplicate, a.Vanished, a.Pending)
	if a.Unclassified > 0 {
		line += fmt.Sprintf(", %d unclassified", a.Unclassified)
	}
	if r.Partial {
		fmt.Fprintf(&b, "Partial report: the day is not over; files discovered after %s are not in it.\n\n", r.mdTime(r.GeneratedAt))
		line += " so far"
	}
	if a.Balanced {
		fmt.Fprintf(&b, "**%s. Balanced.**\n\n", line)
	} else {
		fmt.Fprintf(&b, "**%s. NOT BALANCED: the buckets add up to %d.**\n\n", line, a.Sum())
	}
	r.mdAttention(&b)
	r.mdFiles(&b)
	r.mdWebhooks(&b)
	r.mdBatches(&b)
	r.mdMoney(&b)
	r.mdPruned(&b)
	return b.Bytes()
}

func (r *Report) mdAttention(b *bytes.Buffer) {
	var items []string
	add := func(format string, args ...any) { items = append(items, fmt.Sprintf(format, args...)) }
	if n := len(r.Stuck); n > 0 {
		add("%s stuck: still without a result more than %s after submission, or stopped at submission (see Stuck; `retry --stuck` resubmits them).", plural(n, "file"), mdSetting(r.StuckAfter))
	}
	if n := len(r.Pending) - len(r.Stuck); n > 0 {
		add("%s still pending.", plural(n, "file"))
	}
	if n := r.Accounting.Failed + r.Accounting.Rejected; n > 0 {
		add("%s failed or rejected (see Failures).", plural(n, "file"))
	}
	if n := r.Accounting.Unclassified; n > 0 {
		add("%s in a state this version does not know.", plural(n, "file"))
	}
	w := r.Webhooks
	var odd []string
	for _, c := range []struct {
		n    int
		noun string
	}{{w.Dead, "dead letter"}, {w.Conflict, "conflict"}, {w.Orphan, "orphan"}} {
		if c.n > 0 {
			odd = append(odd, plural(c.n, c.noun))
		}
	}
	if len(odd) > 0 {
		add("%s among %s.", joinAnd(odd), plural(w.Received, "webhook delivery"))
	}
	if n := r.refusedTotal(); n > 0 {
		add("%s refused before they were stored (see Refused deliveries).", plural64(n, "delivery"))
	}
	if n := len(r.SummaryMismatches); n > 0 {
		add("%s whose batch.completed summary disagrees with our counts.", plural(n, "batch"))
	}
	if n := len(r.SummaryMissing); n > 0 {
		add("%s done without a batch.completed event.", plural(n, "batch"))
	}
	if n := len(r.Money.Problems); n > 0 {
		add("%s could not be read and %s not in the totals.", plural(n, "amount"), isAre(n))
	}
	if len(items) == 0 {
		b.WriteString("Nothing needs attention.\n\n")
	} else {
		b.WriteString("Needs attention:\n\n")
		for _, it := range items {
			fmt.Fprintf(b, "- %s\n", it)
		}
		b.WriteString("\n")
	}
	r.mdResultsVia(b)
}

// mdResultsVia says how the API's results reached the daemon. Polling is
// the daemon asking the API itself, which it does for every file whose
// webhook has not come within reconcile.poll_after: nothing is lost then.
func (r *Report) mdResultsVia(b *bytes.Buffer) {
	v := r.ResultsVia
	total := v.Webhook + v.Poll + v.Other
	switch {
	case total == 0:
		b.WriteString("No results from the API yet for these files.")
	case total == v.Webhook:
		fmt.Fprintf(b, "All %s from the API came by webhook.", plural(total, "result"))
	default:
		fmt.Fprintf(b, "Of %s from the API, %d came by webhook and %d %s fetched by polling (the daemon asks the API when a webhook has not come in time)",
			plural(total, "result"), v.Webhook, v.Poll, wasWere(v.Poll))
		if v.Other > 0 {
			fmt.Fprintf(b, "; %d arrived by a way not recorded", v.Other)
		}
		b.WriteString(".")
	}
	b.WriteString("\n\n")
}

// countRow is one row of a Markdown count table: a name and its count.
type countRow struct {
	name string
	n    int
}

// mdCountRows writes the rows of a two-column count table, every one of
// rows, then ifAny only when its count is above zero (a catch-all that is
// news only when it is not empty).
func mdCountRows(b *bytes.Buffer, rows []countRow, ifAny countRow) {
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %d |\n", row.name, row.n)
	}
	if ifAny.n > 0 {
		fmt.Fprintf(b, "| %s | %d |\n", ifAny.name, ifAny.n)
	}
}

func (r *Report) mdFiles(b *bytes.Buffer) {
	a := r.Accounting
	b.WriteString("## Files\n\n| outcome | files |\n|---|---:|\n")
	mdCountRows(b, []countRow{{"completed", a.Completed}, {"failed", a.Failed}, {"rejected", a.Rejected},
		{"duplicate", a.Duplicate}, {"vanished", a.Vanished}, {"pending", a.Pending}},
		countRow{"unclassified", a.Unclassified})
	fmt.Fprintf(b, "| **discovered** | **%d** |\n\n", a.Discovered)
	b.WriteString("Each file is counted once: a file sent again with `retry` counts by the outcome of its latest attempt. Every file and every retry is listed in the CSV file of this report.\n\n")
	r.mdRetries(b)

	if len(r.Stuck) > 0 {
		fmt.Fprintf(b, "## Stuck (%d)\n\nSubmitted more than %s ago and still without a result, or stopped at submission because the API's answers could not be recorded (`retry --stuck` resubmits both):\n\n", len(r.Stuck), mdSetting(r.StuckAfter))
		mdList(b, len(r.Stuck), func(i int) string {
			f := r.Stuck[i]
			if f.State == store.StateSubmitting {
				return fmt.Sprintf("%s — stopped at submission: %s", mdCode(f.Path), mdText(f.ErrorMessage))
			}
			s := fmt.Sprintf("%s — document %s, submitted %s", mdCode(f.Path), mdCode(f.DocumentID), r.mdTime(f.SubmittedAt))
			if f.LastPollError != "" {
				s += ", last poll: " + mdText(f.LastPollError)
			}
			return s
		})
	}
	if len(r.Pending) > 0 {
		fmt.Fprintf(b, "## Pending (%d)\n\n", len(r.Pending))
		mdList(b, len(r.Pending), func(i int) string {
			f := r.Pending[i]
			s := fmt.Sprintf("%s — %s, waiting %s", mdCode(f.Path), f.State, mdDuration(f.Age))
			if f.Stuck {
				s += " (stuck)"
			}
			return s
		})
	}
	if len(r.Unclassified) > 0 {
		fmt.Fprintf(b, "## Unclassified (%d)\n\n", len(r.Unclassified))
		mdList(b, len(r.Unclassified), func(i int) string {
			f := r.Unclassified[i]
			return fmt.Sprintf("%s — state %s", mdCode(f.Path), mdCode(string(f.State)))
		})
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(b, "## Failures (%d)\n\n", a.Failed+a.Rejected)
		for _, g := range r.Failures {
			code := "(no error code)"
			if g.ErrorCode != "" {
				code = mdCode(g.ErrorCode)
			}
			fmt.Fprintf(b, "### %s: %d\n\n", code, len(g.Files))
			mdList(b, len(g.Files), func(i int) string {
				f := g.Files[i]
				s := fmt.Sprintf("%s (%s)", mdCode(f.Path), f.Bucket)
				if f.ErrorMessage != "" {
					s += ": " + mdText(safetext.Shorten(f.ErrorMessage, 200))
				}
				return s
			})
		}
	}
}

// mdRetries lists the retries made that day, each with its own outcome.
func (r *Report) mdRetries(b *bytes.Buffer) {
	if len(r.Retries) == 0 {
		return
	}
	fmt.Fprintf(b, "## Retries (%d)\n\nFiles sent again this day with `retry`; each is counted with its file above, not as a file of its own:\n\n", len(r.Retries))
	mdList(b, len(r.Retries), func(i int) string {
		f := r.Retries[i]
		s := fmt.Sprintf("%s — document %d, a retry of document %d: %s", mdCode(f.Path), f.ID, f.RetryOf, f.Bucket)
		if f.ErrorCode != "" {
			s += " (" + mdCode(f.ErrorCode) + ")"
		}
		return s
	})
}

func (r *Report) mdWebhooks(b *bytes.Buffer) {
	w := r.Webhooks
	fmt.Fprintf(b, "## Webhook deliveries (%d)\n\n", w.Received)
	if w.Received > 0 {
		b.WriteString("| status | deliveries |\n|---|---:|\n")
		mdCountRows(b, []countRow{{"applied", w.Applied}, {"duplicate", w.Duplicate}, {"conflict", w.Conflict},
			{"orphan", w.Orphan}, {"dead", w.Dead}, {"pending", w.Pending}},
			countRow{"other", w.Other})
		b.WriteString("\n")
	} else {
		b.WriteString("None received.\n\n")
	}
	delivery := func(ds []Delivery) func(int) string {
		return func(i int) string {
			d := ds[i]
			typ := "(unparseable)"
			if d.Type != "" {
				typ = mdCode(d.Type)
			}
			s := fmt.Sprintf("#%d %s, received %s", d.ID, typ, r.mdTime(d.ReceivedAt))
			if d.DocumentID != "" {
				s += ", document " + mdCode(d.DocumentID)
			}
			if d.Path != "" {
				s += " (" + mdCode(d.Path) + ")"
			}
			if d.BatchID != "" {
				s += ", batch " + mdCode(d.BatchID)
			}
			if d.Note != "" {
				s += ": " + mdText(d.Note)
			}
			return s
		}
	}
	for _, sec := range []struct {
		title, about string
		ds           []Delivery
	}{
		{"Dead letters", "Kept but not understood; `webhook list` and `webhook replay` act on them.", w.DeadLetters},
		{"Conflicts", "Contradict the document's first outcome, which stands.", w.Conflicts},
		{"Orphans", "Name a document or batch this daemon has not recorded.", w.Orphans},
	} {
		if len(sec.ds) == 0 {
			continue
		}
		fmt.Fprintf(b, "### %s (%d)\n\n%s\n\n", sec.title, len(sec.ds), sec.about)
		mdList(b, len(sec.ds), delivery(sec.ds))
	}
	var refused, other []Counter
	for _, c := range r.Counters {
		if isRefusal(c.Name) {
			refused = append(refused, c)
		} else {
			other = append(other, c)
		}
	}
	if len(refused) > 0 {
		b.WriteString("## Refused deliveries\n\nRefused before anything was stored, so counted only:\n\n")
		for _, c := range refused {
			label := counterLabels[c.Name]
			if label == "" {
				label = mdCode(c.Name)
			} else {
				label += " (" + mdCode(c.Name) + ")"
			}
			fmt.Fprintf(b, "- %s: %d\n", label, c.Count)
		}
		b.WriteString("\n")
	}
	r.mdAPICalls(b, other)
}

// counterLabels name the receiver's counters in words.
var counterLabels = map[string]string{
	counters.WebhookBadSignature: "bad or missing signature",
	counters.WebhookTooLarge:     "body too large",
	counters.WebhookBadRequest:   "not a delivery (wrong path, method or content type)",
}

// isRefusal tells the counters of refused webhook deliveries (all named
// "webhook_…") from the others, such as API calls.
func isRefusal(name string) bool { return strings.HasPrefix(name, vocab.RefusalCounterPrefix) }

func (r *Report) refusedTotal() int64 {
	var n int64
	for _, c := range r.Counters {
		if isRefusal(c.Name) {
			n += c.Count
		}
	}
	return n
}

func (r *Report) mdBatches(b *bytes.Buffer) {
	if len(r.SummaryMismatches) == 0 && len(r.SummaryMissing) == 0 {
		return
	}
	b.WriteString("## Batches\n\n")
	if n := len(r.SummaryMismatches); n > 0 {
		fmt.Fprintf(b, "### Summary mismatches (%d)\n\n", n)
		mdList(b, n, func(i int) string {
			m := r.SummaryMismatches[i]
			return fmt.Sprintf("batch %d (%s), checked %s: %s", m.ID, mdCode(m.APIBatchID), r.mdTime(m.CheckedAt), mdText(m.Check))
		})
	}
	if n := len(r.SummaryMissing); n > 0 {
		fmt.Fprintf(b, "### Summary missing (%d)\n\nEvery document is done, but no batch.completed event came:\n\n", n)
		mdList(b, n, func(i int) string {
			m := r.SummaryMissing[i]
			return fmt.Sprintf("batch %d (%s), %s, done %s", m.ID, mdCode(m.APIBatchID), plural(m.FileCount, "file"), r.mdTime(m.DoneAt))
		})
	}
}

func (r *Report) mdMoney(b *bytes.Buffer) {
	m := r.Money
	if len(m.Currencies) == 0 && len(m.Problems) == 0 {
		return
	}
	b.WriteString("## Totals of completed files\n\nExact sums of the extracted amounts; duplicates are not counted.\n\n")
	if len(m.Currencies) > 0 {
		b.WriteString("| currency | files | total | tax |\n|---|---:|---:|---:|\n")
		for _, c := range m.Currencies {
			cur := "(none)"
			if c.Currency != "" {
				cur = strings.ReplaceAll(mdCode(c.Currency), "|", `\|`)
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s |\n", cur, c.Documents, c.Total, c.Tax)
		}
		b.WriteString("\n")
	}
	if n := len(m.Problems); n > 0 {
		fmt.Fprintf(b, "### Amounts not counted (%d)\n\n", n)
		mdList(b, n, func(i int) string {
			p := m.Problems[i]
			s := fmt.Sprintf("%s %s", mdCode(p.Path), p.Field)
			if p.Value != "" {
				s += " " + mdCode(p.Value)
			}
			return s + ": " + p.Reason
		})
	}
}

// mdList writes n items as a bullet list, at most maxListed of them.
func mdList(b *bytes.Buffer, n int, item func(int) string) {
	for i := 0; i < n && i < maxListed; i++ {
		fmt.Fprintf(b, "- %s\n", item(i))
	}
	if n > maxListed {
		fmt.Fprintf(b, "- … and %d more\n", n-maxListed)
	}
	b.WriteString("\n")
}

func (r *Report) mdTime(t time.Time) string {
	if t.IsZero() {
		return "(unknown)"
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(mdTimeLayout)
}

// mdDuration shows d coarsely: "2d 3h", "5h 12m", "12m", "40s".
func mdDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case mins > 0:
		return fmt.Sprintf("%dm", mins)
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

// mdSetting shows a configured duration: "24h", "1h30m", "90s".
func mdSetting(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func plural(n int, noun string) string { return plural64(int64(n), noun) }

func plural64(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "y"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	case strings.HasSuffix(noun, "ch"):
		noun += "es"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
