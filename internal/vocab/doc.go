// Package vocab holds the names the daemon's parts share and write down:
// document states, journal event statuses, result channels, webhook refusal
// reasons, after-actions and error codes. Each is declared here once, with
// what it means, so that the receiver, the metrics, the counters, the store,
// the exporter and the report cannot spell one thing two ways.
//
// The values are fixed points: they are in the state database, the CSV and
// JSON outputs, metrics labels, counter names and the nightly report.
// Changing one is a migration, never a refactoring.
//
// Where a set of names is enumerated (States, EventStatuses, Refusals,
// AfterActions, RejectionCodes), the list holds every name of its kind, and
// vocab_test.go fails when a name is declared without being listed.
//
// The package imports nothing of the project but the API's wire types, so
// every package may use it.
package vocab
