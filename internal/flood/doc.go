// Package flood measures what attacks on the webhook receiver cost the
// real daemon, as a user would see it: it starts the built docuparse-ingest
// binary (`run` with a generated configuration), attacks its receiver port
// from this process — bodies with fake signatures at full speed, slow
// uploads, idle connections — and reads the daemon's peak and current
// memory (VmHWM, VmRSS) and open descriptors from /proc, and whether a
// real signed delivery still gets its 200 meanwhile.
//
// It owns nothing the daemon uses; cmd/docuparse-flood is its command
// line, and docs/benchmarks.md gives the method and the numbers.
package flood
