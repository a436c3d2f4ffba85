package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestMarkdownCodeSpansHoldAnyName(t *testing.T) {
	for in, want := range map[string]string{
		"plain.pdf":       "`plain.pdf`",
		"":                "(empty)",
		"a`b.pdf":         "``a`b.pdf``",
		"``x```":          "```` ``x``` ````",
		"`lead":           "`` `lead ``",
		" both ":          "`  both  `",
		"new\nline\r\tx":  "`new\\nline\\r\\tx`",
		"esc\x1b[31m":     "`esc\\x1b[31m`",
		"bad\xff":         "`bad\\xff`",
		"rtl\u202etxt":    "`rtl\\u202etxt`",
		"sep\u2028x":      "`sep\\u2028x`",
		`back\slash`:      "`back\\\\slash`",
		"ünïcødé ok.pdf":  "`ünïcødé ok.pdf`",
		"| pipe * star _": "`| pipe * star _`",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarkdownTextEscapesMarkupButReadsPlainly(t *testing.T) {
	for in, want := range map[string]string{
		"NOT_FOUND: gone":             "NOT_FOUND: gone",
		"_lead and trail_":            `\_lead and trail\_`,
		"*bold* [link](x) <b> `c` ~s": "\\*bold\\* \\[link\\](x) \\<b> \\`c\\` \\~s",
		"Smith & Sons, &amp; &#38;":   `Smith & Sons, \&amp; \&#38;`,
		"a | b":                       `a \| b`,
		"two\nlines":                  `two\nlines`,
		`C:\dir`:                      `C:\\dir`,
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarkdownWordsAndDurations(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{plural(1, "file"), "1 file"},
		{plural(0, "file"), "0 files"},
		{plural(2, "batch"), "2 batches"},
		{plural(3, "webhook delivery"), "3 webhook deliveries"},
		{mdDuration(40 * time.Second), "40s"},
		{mdDuration(12*time.Minute + 59*time.Second), "12m"},
		{mdDuration(5*time.Hour + 12*time.Minute), "5h 12m"},
		{mdDuration(51 * time.Hour), "2d 3h"},
		{mdSetting(24 * time.Hour), "24h"},
		{mdSetting(90 * time.Minute), "1h30m"},
		{mdSetting(90 * time.Second), "1m30s"},
		{joinAnd([]string{"a"}), "a"},
		{joinAnd([]string{"a", "b", "c"}), "a, b and c"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMarkdownCapsLongListsButJSONAndCSVDoNot(t *testing.T) {
	f := newRepFixture(t)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	const n = maxListed + 7
	for i := 0; i < n; i++ {
		f.at(day.Add(time.Duration(i) * time.Minute)).intake(fmt.Sprintf("/in/f%03d.pdf", i))
	}
	r := f.report(day, Options{Now: day.Add(12 * time.Hour)})
	md := r.Markdown()
	if got := bytes.Count(md, []byte("— queued, waiting")); got != maxListed {
		t.Errorf("%d pending files listed, want %d", got, maxListed)
	}
	if !bytes.Contains(md, []byte("- … and 7 more\n")) {
		t.Errorf("no \"and 7 more\" line:\n%s", md)
	}
	// Oldest first: the first listed is f000, the last f049.
	if i, j := bytes.Index(md, []byte("f000.pdf")), bytes.Index(md, []byte("f049.pdf")); i < 0 || j < i || bytes.Contains(md, []byte("f050.pdf")) {
		t.Errorf("pending list is not the %d oldest, oldest first", maxListed)
	}
	js, _ := r.JSON()
	cs, _ := r.CSV()
	if got := strings.Count(string(js), `"state": "queued"`); got != n {
		t.Errorf("JSON lists %d pending files, want %d", got, n)
	}
	if got := bytes.Count(cs, []byte("\n")); got != n+1 {
		t.Errorf("CSV has %d lines, want %d", got, n+1)
	}
}
