package output

// EncodeCSV renders header (when not nil) and records as CSV, the one CSV
// writer of the project: AppendRecords and the reconciliation report both
// use it. Every cell of records is neutralised (see Neutralise; the caller's
// slices are not modified); the header is written as given.
//
// Quoting rule: every non-empty cell, header included, is enclosed in double
// quotes, with an embedded '"' doubled (RFC 4180). An empty cell stays empty,
// except that a record of one empty cell is written as "" so that it is not
// an empty line, which CSV readers skip. Fields are separated by ',' and
// records end in '\n'; a '\r' or '\n' inside a cell is kept as is, inside
// the quotes. See Neutralise for why every cell is quoted.
//
// The output reads back with encoding/csv (and any RFC 4180 reader) to the
// neutralised cells.
func EncodeCSV(header []string, records [][]string) []byte {
	n := 0
	for _, c := range header {
		n += len(c) + 3
	}
	for _, rec := range records {
		for _, c := range rec {
			n += len(c) + 4
		}
	}
	buf := make([]byte, 0, n)
	if header != nil {
		buf = appendCSVRecord(buf, header, false)
	}
	for _, rec := range records {
		buf = appendCSVRecord(buf, rec, true)
	}
	return buf
}

// appendCSVRecord appends rec as one CSV line to dst, neutralising each
// cell first when neutralise is set.
func appendCSVRecord(dst []byte, rec []string, neutralise bool) []byte {
	if len(rec) == 1 && rec[0] == "" {
		return append(dst, '"', '"', '\n')
	}
	for i, c := range rec {
		if i > 0 {
			dst = append(dst, ',')
		}
		if neutralise {
			c = Neutralise(c)
		}
		dst = appendQuoted(dst, c)
	}
	return append(dst, '\n')
}

// appendQuoted appends cell to dst in double quotes, doubling embedded
// quotes; the empty cell is appended as nothing.
func appendQuoted(dst []byte, cell string) []byte {
	if cell == "" {
		return dst
	}
	dst = append(dst, '"')
	for i := 0; i < len(cell); i++ {
		if cell[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, cell[i])
	}
	return append(dst, '"')
}
