package safetext

import "testing"

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "",
		"invoice 7.pdf":                "invoice 7.pdf",
		"Müller & Söhne – café.pdf":    "Müller & Söhne – café.pdf",
		"a\\nb":                        `a\\nb`,
		"a\nb\rc\td":                   `a\nb\rc\td`,
		"\x1b]0;title\x07\x1b[2Jx\x00": `\x1b]0;title\x07\x1b[2Jx\x00`,
		"del\x7f":                      `del\x7f`,
		"c1\u009b31m\u0085":            `c1\u009b31m\u0085`,
		"gpj\u202e.exe\u2066\u2069":    `gpj\u202e.exe\u2066\u2069`,
		"sep\u2028\u2029\ufeff":        `sep\u2028\u2029\ufeff`,
		"bad\xff\xfeutf8":              `bad\xff\xfeutf8`,
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
	}
}
