package report

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

func TestDecimalSumIsExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want string
	}{
		{"nothing is zero", nil, "0"},
		{"mixed scales keep the finest", []string{"3850.00", "-12.5", "0.005", "100"}, "3937.505"},
		{"a credit note cancels its invoice", []string{"1234.56", "-1234.56"}, "0.00"},
		{"ten tenths are one, unlike in floats", strings.Split(strings.Repeat("0.1,", 10)[:39], ","), "1.0"},
		{"beyond float64 precision", []string{"12345678901234567890.12", "0.01"}, "12345678901234567890.13"},
		{"negative below one", []string{"-0.25", "0.2"}, "-0.05"},
		{"a plus sign and leading zeros", []string{"+007.50", "1"}, "8.50"},
		{"negative zero is zero", []string{"-0.00"}, "0.00"},
	} {
		var s decimalSum
		for _, v := range tc.in {
			if !s.add(v) {
				t.Fatalf("%s: %q refused", tc.name, v)
			}
		}
		if got := s.String(); got != tc.want {
			t.Errorf("%s: sum of %q = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestDecimalSumRefusesWhatIsNotADecimalString(t *testing.T) {
	for _, v := range []string{"", "12,50", "1e3", "1.", ".5", "--1", "+-1", " 1", "1 ", "NaN", "Inf", "0x10", "1/2",
		"١٢", "1_000", "€5", strings.Repeat("9", maxDecimalLen+1)} {
		var s decimalSum
		s.add("1.5")
		if s.add(v) {
			t.Errorf("%q was added", v)
		}
		if s.String() != "1.5" {
			t.Errorf("refusing %q changed the sum to %s", v, s.String())
		}
	}
}

// Totals per currency over a day's completed files: credit notes subtract,
// duplicates and failures never count, unreadable amounts are listed and
// left out, never guessed.
func TestReportMoneyTotalsPerCurrency(t *testing.T) {
	f := newRepFixture(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.at(day.Add(time.Hour))
	names := []string{"inv1", "inv2", "credit", "usd", "nodata", "array", "nocur", "numtotal", "fail", "exported"}
	ids := make([]int64, len(names))
	docIDs := make([]string, len(names))
	for i, n := range names {
		ids[i] = f.intake("/in/"+n+".pdf", "sha-"+n)
		docIDs[i] = "doc_" + n
	}
	f.submit(store.ModeBatch, "batch_m", ids, docIDs...)
	f.webhookCompleted("doc_inv1", "EUR", "3850.00", "731.50")
	f.webhookCompleted("doc_inv2", "EUR", "99.999", "0")
	f.webhookCompleted("doc_credit", "EUR", "-12.5", "-2.38")
	f.webhookCompleted("doc_usd", " usd ", "100", "19")
	f.webhookCompletedRaw("doc_nodata", `null`)
	f.webhookCompletedRaw("doc_array", `[1, 2]`)
	f.webhookCompletedRaw("doc_nocur", `{"total": "5.00", "tax": "1.00"}`)
	f.webhookCompletedRaw("doc_numtotal", `{"currency": "EUR", "total": 12.5, "tax": "2.5"}`)
	f.webhookFailed("doc_fail", "EXTRACTION_FAILED", "")
	f.webhookCompleted("doc_exported", "EUR", "1.00", "0.19")
	f.export(ids[len(ids)-1])
	// A copy of inv1: a duplicate, which must not count again.
	f.intake("/in/copy.pdf", "sha-inv1")

	r := f.report(day, Options{Now: day.Add(3 * time.Hour)})
	if r.Accounting.Duplicate != 1 || r.Accounting.Completed != 9 {
		t.Fatalf("accounting = %+v, want 9 completed and the copy a duplicate", r.Accounting)
	}
	want := []CurrencyTotal{
		{Currency: "", Documents: 1, Total: "5.00", Tax: "1.00"},
		{Currency: "EUR", Documents: 5, Total: "3938.499", Tax: "731.81"},
		{Currency: "USD", Documents: 1, Total: "100", Tax: "19"},
	}
	if !reflect.DeepEqual(r.Money.Currencies, want) {
		t.Errorf("currencies = %+v\nwant %+v", r.Money.Currencies, want)
	}
	var problems []string
	for _, p := range r.Money.Problems {
		problems = append(problems, fmt.Sprintf("%s %s %q: %s", p.DocumentID, p.Field, p.Value, p.Reason))
	}
	wantProblems := []string{
		`doc_array data "[1,2]": ` + ReasonBadData,
		`doc_nodata data "": ` + ReasonNoData,
		`doc_numtotal total "12.5": ` + ReasonNotString,
	}
	if !reflect.DeepEqual(problems, wantProblems) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(wantProblems, "\n"))
	}
	var counted int
	for _, c := range r.Money.Currencies {
		counted += c.Documents
	}
	if counted+2 != r.Accounting.Completed { // nodata and array have no currency to count under
		t.Errorf("%d documents in the currency totals, want %d", counted, r.Accounting.Completed-2)
	}
}
