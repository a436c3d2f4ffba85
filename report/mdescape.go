package report

// Escaping for the Markdown form. Names come from the file system and text
// from the API: neither may break the report's layout or inject markup.

import (
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// mdCode shows s verbatim in a code span, fenced with more backticks than
// s contains in a row, as CommonMark allows. The empty string is "(empty)".
func mdCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	s = safetext.Visible(s)
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	// CommonMark strips one space from each side when both are present;
	// padding keeps a leading or trailing backtick or space intact.
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' && s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdText shows free text inline: escapes as safetext.Visible does, and a backslash
// before every character that could start markup in the middle of a line
// (mdText never starts one). An underscore inside a word and an ampersand
// that cannot start an entity are left alone, so "NOT_FOUND" and "A & B"
// read as they are in plain text.
func mdText(s string) string {
	s = safetext.Visible(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		escape := false
		switch c {
		case '`', '*', '[', ']', '<', '|', '~':
			escape = true
		case '_':
			escape = i == 0 || i == len(s)-1 || !isWordByte(s[i-1]) || !isWordByte(s[i+1])
		case '&':
			escape = i+1 < len(s) && (s[i+1] == '#' || isWordByte(s[i+1]))
		}
		// A backslash needs nothing more: safetext.Visible already doubled every
		// backslash of s, and its own escapes (\n, \x1b) show as written.
		if escape {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
