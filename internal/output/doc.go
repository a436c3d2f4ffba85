// Package output owns the daemon's output directory: where a document's
// result files live (Layout), what a documents-*.csv and line_items-*.csv
// row says about a document (DocumentRecord, LineItemRecords), the per
// document JSON file (MarshalJSON), and the two write primitives the
// exporter is built on: WriteFileAtomic (temp file, fsync, rename, fsync
// directory) and AppendRecords (append CSV rows exactly once, given the
// length the state store knows to be complete).
//
// It does not own the state store, decide which documents are due for
// export, record what was exported, or write the nightly report's contents;
// those belong to the exporter, the store and the reconciler. The package is
// pure file handling: it keeps no state between calls and starts no
// goroutines.
//
// Every CSV cell this package produces is neutralised against spreadsheet
// formula injection (see Neutralise). Money and quantities are kept as the
// decimal text the API sent; nothing is ever parsed to a float.
package output
