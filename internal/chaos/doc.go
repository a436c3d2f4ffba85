// Package chaos owns the fault-injection suite: it builds the real
// binaries (docuparse-ingest and docuparse-sim), runs the daemon against
// one simulator process, drops files the way producers do while it
// injects faults (webhook drops, duplicates, reordering and early
// arrivals, 429 and 503 answers, connections reset after accept, slow
// uploads, the API down, the state database locked, full disks, kill -9,
// SIGTERM mid-batch, a second daemon), and then checks the promise against
// the simulator's own record: every file dropped has exactly one terminal
// CSV row or is visibly pending, no file has two, no content became two API
// documents, and every completed row says what the simulator extracted.
//
// Everything random (the files, their names, how and when they arrive,
// which faults strike when, the simulator's fault draws) comes from one
// seed, so a failing run is replayed with the same seed; the interleaving
// with the daemon's own timing is real and may differ between replays.
//
// cmd/docuparse-chaos is its command line; TestChaosShort runs the short
// profile in CI. Nothing in the daemon imports it.
package chaos
