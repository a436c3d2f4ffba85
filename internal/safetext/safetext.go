// Package safetext owns how text that the daemon does not control — file
// names set by an inbox user, ids, event types and messages from the API —
// is shown to a person: on a terminal (every command's human output) and in
// the Markdown report. Visible is the one escaper for both.
//
// It does not own machine formats: JSON (encoding/json escapes) and CSV
// (internal/output quotes and neutralises) carry such text exactly.
package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Visible returns s with everything that would change the layout of a
// line, drive a terminal or hide in plain text replaced by a Go-style
// escape, and a backslash doubled (so an escape in s itself stays
// distinguishable): control characters (\n, \r, \t, \x1b starting an
// ANSI CSI or OSC sequence, every other C0 and DEL) as \n, \r, \t or
// \xNN; C1 controls (U+0080–U+009F, which some terminals take as CSI),
// the line and paragraph separators, the byte-order mark and the bidi
// overrides and isolates (U+202A–U+202E, U+2066–U+2069, which make a name
// read as another) as \uNNNN; bytes that are not UTF-8 as \xNN. The result
// is one line of printable text.
func Visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// hidden reports whether r is a C1 control, a separator, the BOM or a bidi
// override or isolate.
func hidden(r rune) bool {
	return r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || r == 0xfeff ||
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// Cut returns s cut to at most n bytes on a character boundary (cutting
// inside a multi-byte character would leave invalid UTF-8).
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Shorten is Cut marking a cut with "…" (which may add its three bytes).
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}

// OneLine returns s with every run of white space (line breaks included)
// made one space, shortened to at most n bytes (plus the "…" of a cut).
func OneLine(s string, n int) string {
	return Shorten(strings.Join(strings.Fields(s), " "), n)
}
