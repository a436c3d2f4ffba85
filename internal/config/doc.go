// Package config owns docuparse-ingest's configuration: the TOML file's
// schema, its defaults, where secrets come from (environment variables,
// secret files, systemd credentials) and the validation that runs before
// anything starts.
//
// Loading goes in four steps, in this order: defaults ([Default]), the TOML
// file ([Parse], [Load]), secrets, then validation ([Config.Validate]). Every
// problem found is reported at once, as one error whose lines each name the
// file and the dotted key, for example
//
//	config.toml: batch.max_wait: invalid duration "5x"
//	config.toml: source[1].name: duplicate name "inbox"
//
// Each line is a [*FieldError] wrapping one of the sentinel errors
// [ErrUnknownKey], [ErrInvalid] or [ErrMissingSecret]. Secret values never
// appear in an error, a log line or the output of fmt: they are held in
// [Secret], which prints as "[redacted]".
//
// The package does not own what the settings mean at run time: matching file
// names against include/exclude patterns, watching folders, listing buckets,
// moving files and rate limiting are the jobs of the packages that receive
// these values. It opens no sockets and creates no directories.
package config
