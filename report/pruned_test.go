package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The report of a day on which the retention job pruned documents says
// how many, how many in all, and since when (documents exported before
// the cutoff); the count is not shown as an API call, and a day's report
// from a store that never pruned says nothing of it.
func TestReportSaysWhatWasPruned(t *testing.T) {
	f := newRepFixture(t)
	day1 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	f.at(day1)
	a, b := f.intake("/in/a.pdf"), f.intake("/in/b.pdf")
	f.submit(store.ModeBatch, "bat_1", []int64{a, b}, "doc_a", "doc_b")
	f.webhookCompleted("doc_a", "EUR", "10.00", "1.00")
	f.webhookCompleted("doc_b", "EUR", "20.00", "2.00")
	f.apply()
	f.export(a, b)
	if md := string(f.report(day1, Options{Now: day1.Add(time.Hour)}).Markdown()); strings.Contains(md, "retention") {
		t.Errorf("a store never pruned: the report speaks of retention:\n%s", md)
	}

	pruneDay := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)
	cutoff := pruneDay.Add(-30 * 24 * time.Hour)
	f.at(pruneDay)
	if _, err := f.st.Prune(f.ctx, cutoff, "2026-02-01"); err != nil {
		t.Fatal(err)
	}
	r := f.report(pruneDay, Options{Now: pruneDay.Add(24 * time.Hour)})
	md := string(r.Markdown())
	for _, want := range []string{"## State database retention", "Pruned this day: the detail of 2 documents",
		"Pruned in all: 2. Documents exported before 2026-01-02 03:00"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report does not say %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, store.CounterPruned) {
		t.Errorf("the pruning counter is listed as a counter:\n%s", md)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Pruned struct {
			Documents, Total int64
			ExportedBefore   string `json:"exported_before"`
		}
	}
	if err := json.Unmarshal(js, &j); err != nil {
		t.Fatal(err)
	}
	if j.Pruned.Documents != 2 || j.Pruned.Total != 2 || !strings.HasPrefix(j.Pruned.ExportedBefore, "2026-01-02T03:00:00") {
		t.Errorf("JSON pruned = %+v\n%s", j.Pruned, js)
	}
}
