// Package output owns the daemon's output directory: where a document's
// result files live (Layout), what a documents-*.csv and line_items-*.csv
// row says about a document (DocumentRecord, LineItemRecords), the per
// document JSON file (MarshalJSON), the project's one CSV writer
// (EncodeCSV), and the write primitives the exporter and the reporter
// are built on: WriteFileAtomic (temp file, fsync, rename, fsync directory),
// its grouped form Layout.WriteFilesAtomic (a pass's files made durable
// together: one syncfs for the temporaries and one for the renames on
// ext4, XFS and btrfs, else an fsync per file and per folder) and
// AppendRecords (append CSV rows exactly once, given the length the
// state store knows to be complete).
//
// The output directory is shared with other users, so its contents are not
// trusted: the Layout forms of the write primitives (Layout.WriteFileAtomic,
// Layout.AppendRecords) open every directory below Layout.Root and the CSV
// file itself without following symbolic links, and append only to a
// regular file; a planted link gives an error wrapping ErrUnsafePath
// instead of a write elsewhere. Use them for everything under the output
// directory.
//
// It does not own the state store, decide which documents are due for
// export, record what was exported, or write the nightly report's contents;
// those belong to the exporter, the store and the reconciler. The package is
// pure file handling: it keeps no state between calls and starts no
// goroutines.
//
// Every timestamp of the CSV rows and JSON results is in TimeFormat (RFC
// 3339 UTC, milliseconds). A CSV file keeps how it began (Format): an
// opt-in UTF-8 BOM and the header are written by its first append only.
//
// Every CSV cell this package produces is neutralised against spreadsheet
// formula injection and every non-empty cell is quoted (see Neutralise and
// EncodeCSV). Money and quantities are kept as the decimal text the API
// sent; nothing is ever parsed to a float.
package output
