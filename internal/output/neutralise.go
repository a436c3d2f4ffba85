package output

// Neutralise defends a CSV cell against formula injection, as OWASP advises
// ("CSV Injection"): a cell that a spreadsheet would evaluate because it
// starts with '=', '+', '-', '@', a tab or a carriage return gets a leading
// single quote, so it is shown as text.
//
// One exception: a plain decimal number — an optional '-', digits, and
// optionally a '.' followed by digits (^-?[0-9]+(\.[0-9]+)?$) — is left as
// it is. A credit note's total "-50.00" is data, not a formula, and a
// spreadsheet reads it as the number it is.
//
// Neutralise is idempotent: a neutralised cell starts with a single quote
// and is not changed again. The empty cell stays empty.
//
// Only the first character is looked at, so the second half of the defence
// is quoting, done by EncodeCSV (and so by AppendRecords): every non-empty
// cell is written in double quotes. A spreadsheet does not always split on
// ',': German or French Excel splits a .csv on ';' (the list separator of
// those locales), and LibreOffice offers tab, ';' and space. A file name like
// "x;=cmd|' /C calc'!A0;.pdf" would then, unquoted, yield a cell starting
// with '='. With every cell quoted, each byte of data lies between a cell's
// own quotes, so a reader that honours the quotes sees no separator, line
// break or formula start inside it, whichever separator it splits on.
// Quoting only the cells that hold ';' would leave tab, '|' and space open;
// RFC 4180 readers, Excel and LibreOffice read quoted numbers as numbers, so
// quoting everything costs two bytes a cell and nothing else.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if isPlainDecimal(cell) {
			return cell
		}
		return "'" + cell
	}
	return cell
}

// NeutraliseRecord applies Neutralise to every cell of rec, in place, and
// returns rec.
func NeutraliseRecord(rec []string) []string {
	for i, c := range rec {
		rec[i] = Neutralise(c)
	}
	return rec
}

// isPlainDecimal reports whether s matches ^-?[0-9]+(\.[0-9]+)?$.
func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i > start && i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
