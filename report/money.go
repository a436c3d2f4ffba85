package report

// Money totals of the day's completed files, per currency, in exact decimal
// arithmetic: amounts are the API's decimal strings, summed as integers
// scaled by a power of ten (math/big), never as floats.

import (
	"bytes"
	"encoding/json"
	"math/big"
	"sort"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Money is the day's extracted totals over completed files (duplicates
// never count: they carry no result of their own).
type Money struct {
	// Currencies are the sums per currency, by currency code.
	Currencies []CurrencyTotal
	// Problems are amounts that could not be read, so are not in the sums,
	// by path and field.
	Problems []AmountProblem
}

// CurrencyTotal is the sum of one currency's totals and taxes.
type CurrencyTotal struct {
	// Currency is the code the API sent, trimmed and upper-cased; empty
	// when the result names none.
	Currency string
	// Documents counts the completed files in this currency.
	Documents int
	// Total and Tax are exact decimal sums, with as many decimals as the
	// most precise amount summed ("3850.00" + "-12.5" = "3837.50").
	Total, Tax string
}

// AmountProblem is an amount left out of the sums, and why.
type AmountProblem struct {
	Path       string
	FileName   string
	DocumentID string
	Currency   string
	Field      string // "total", "tax", "currency" or "data"
	Value      string // as found, shortened to maxShownValue bytes
	Reason     string
}

// Reasons of an AmountProblem.
const (
	ReasonMissing    = "missing"
	ReasonNotDecimal = "not a decimal string"
	ReasonNotString  = "not a JSON string"
	ReasonNoData     = "no result data"
	ReasonBadData    = "result is not a JSON object"
)

// maxDecimalLen bounds the amounts read: no invoice needs more digits, and
// a hostile result cannot make the sum expensive.
const maxDecimalLen = 64

// maxShownValue bounds how much of an unreadable value the report repeats.
const maxShownValue = 64

// amounts are the fields of a result the sums read. They are decoded as
// raw JSON so that a number where a string belongs is reported, not
// guessed at.
type amounts struct {
	Currency json.RawMessage `json:"currency"`
	Total    json.RawMessage `json:"total"`
	Tax      json.RawMessage `json:"tax"`
}

func sumMoney(docs []store.ReportDocument) Money {
	type sums struct {
		docs       int
		total, tax decimalSum
	}
	by := map[string]*sums{}
	m := Money{}
	for _, d := range docs {
		if BucketOf(d.State, d.Outcome) != BucketCompleted {
			continue
		}
		problem := func(cur, field, value, reason string) {
			m.Problems = append(m.Problems, AmountProblem{Path: d.Path, FileName: d.FileName, DocumentID: d.DocumentID,
				Currency: cur, Field: field, Value: safetext.Shorten(value, maxShownValue), Reason: reason})
		}
		var a amounts
		switch {
		case len(d.Result) == 0:
			problem("", "data", "", ReasonNoData)
			continue
		case !isJSONObject(d.Result) || json.Unmarshal(d.Result, &a) != nil:
			problem("", "data", string(d.Result), ReasonBadData)
			continue
		}
		cur, ok, raw := jsonString(a.Currency)
		if !ok && raw != "" {
			problem("", "currency", raw, ReasonNotString)
		}
		cur = strings.ToUpper(strings.TrimSpace(cur))
		s := by[cur]
		if s == nil {
			s = &sums{}
			by[cur] = s
		}
		s.docs++
		for _, f := range []struct {
			name string
			raw  json.RawMessage
			sum  *decimalSum
		}{{"total", a.Total, &s.total}, {"tax", a.Tax, &s.tax}} {
			v, ok, raw := jsonString(f.raw)
			switch {
			case raw == "":
				problem(cur, f.name, "", ReasonMissing)
			case !ok:
				problem(cur, f.name, raw, ReasonNotString)
			case !f.sum.add(v):
				problem(cur, f.name, v, ReasonNotDecimal)
			}
		}
	}
	for cur, s := range by {
		m.Currencies = append(m.Currencies, CurrencyTotal{Currency: cur, Documents: s.docs, Total: s.total.String(), Tax: s.tax.String()})
	}
	sort.Slice(m.Currencies, func(i, j int) bool { return m.Currencies[i].Currency < m.Currencies[j].Currency })
	sort.SliceStable(m.Problems, func(i, j int) bool {
		a, b := m.Problems[i], m.Problems[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Field < b.Field
	})
	return m
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// jsonString decodes raw as a JSON string. It returns ok false when raw is
// something else, and raw's text ("" when absent or null) either way.
func jsonString(raw json.RawMessage) (v string, ok bool, text string) {
	text = strings.TrimSpace(string(raw))
	if text == "" || text == "null" {
		return "", false, ""
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, text
	}
	return v, true, text
}

// decimalSum is an exact sum of decimal strings: unscaled / 10^scale.
type decimalSum struct {
	unscaled big.Int
	scale    int
}

// add adds the decimal s to the sum, reporting false (and adding nothing)
// when s is not of the form [+-]digits[.digits], at most maxDecimalLen
// bytes.
func (d *decimalSum) add(s string) bool {
	u, scale, ok := parseDecimal(s)
	if !ok {
		return false
	}
	switch {
	case scale > d.scale:
		d.unscaled.Mul(&d.unscaled, pow10(scale-d.scale))
		d.scale = scale
	case scale < d.scale:
		u.Mul(u, pow10(d.scale-scale))
	}
	d.unscaled.Add(&d.unscaled, u)
	return true
}

// String formats the sum with its scale: "3837.50", "-0.5", "0".
func (d *decimalSum) String() string {
	digits := new(big.Int).Abs(&d.unscaled).String()
	if d.scale > 0 {
		if len(digits) <= d.scale {
			digits = strings.Repeat("0", d.scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-d.scale] + "." + digits[len(digits)-d.scale:]
	}
	if d.unscaled.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

// parseDecimal reads [+-]digits[.digits] as unscaled / 10^scale.
func parseDecimal(s string) (*big.Int, int, bool) {
	if len(s) == 0 || len(s) > maxDecimalLen {
		return nil, 0, false
	}
	body := s
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	intPart, frac, hasDot := strings.Cut(body, ".")
	if !allDigits(intPart) || hasDot && !allDigits(frac) {
		return nil, 0, false
	}
	u, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, 0, false
	}
	if neg {
		u.Neg(u)
	}
	return u, len(frac), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
