package samples

import (
	"unicode/utf16"
	"unicode/utf8"
)

// PDF text in the samples uses the standard Helvetica font with
// WinAnsiEncoding (Windows-1252), so Latin text shows correctly in any viewer.
// A line holding a character outside Windows-1252 (CJK, emoji, control
// characters) is written as a UTF-16BE hex string with a byte order mark
// instead: it still parses back exactly, but a viewer shows it garbled.

// cp1252High maps the bytes 0x80..0x9F of Windows-1252 to Unicode; zero
// marks the five undefined bytes.
var cp1252High = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// encodeWinAnsi returns s in Windows-1252, or false if s holds a character
// that has no Windows-1252 byte, a control character or invalid UTF-8.
func encodeWinAnsi(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return nil, false
		case r >= 0x20 && r < 0x7F, r >= 0xA0 && r <= 0xFF:
			out = append(out, byte(r))
		default:
			b, ok := winAnsiByte(r)
			if !ok {
				return nil, false
			}
			out = append(out, b)
		}
	}
	return out, true
}

func winAnsiByte(r rune) (byte, bool) {
	if r == 0 {
		return 0, false
	}
	for i, c := range cp1252High {
		if c == r {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// decodeWinAnsi is the inverse of encodeWinAnsi; undefined bytes become
// U+FFFD.
func decodeWinAnsi(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 0x80 && c <= 0x9F:
			r := cp1252High[c-0x80]
			if r == 0 {
				r = utf8.RuneError
			}
			out = append(out, r)
		default:
			out = append(out, rune(c))
		}
	}
	return string(out)
}

// encodeUTF16BE returns s as UTF-16BE with a leading byte order mark, the
// PDF text string form for arbitrary Unicode.
func encodeUTF16BE(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2+2*len(units))
	out = append(out, 0xFE, 0xFF)
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// decodePDFText decodes a PDF string's bytes: UTF-16BE when it starts with
// the byte order mark FE FF, Windows-1252 otherwise.
func decodePDFText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		b = b[2:]
		units := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(units))
	}
	return decodeWinAnsi(b)
}
