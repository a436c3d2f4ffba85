package chaos

import (
	"fmt"
	"sort"
	"strings"
)

// Kind names one fault or one way of delivering files. Every kind can be
// turned on or off on its own and is counted in the summary.
type Kind string

// Faults done to the daemon's surroundings.
const (
	Kill9          Kind = "kill9"           // kill -9 at a random point, then restart
	SIGTERM        Kind = "sigterm"         // SIGTERM mid-batch, wait for the exit, restart
	APIDown        Kind = "api-down"        // every API connection closed for a while
	HTTP429        Kind = "http-429"        // 429 with Retry-After for a while
	HTTP503        Kind = "http-503"        // 503 with Retry-After for a while
	ConnReset      Kind = "conn-reset"      // submits whose connection is closed after the documents exist
	SlowUpload     Kind = "slow-upload"     // every submit held before it is answered
	SlowLink       Kind = "slow-link"       // every upload read at a few KB/s: a batch takes longer than api.timeout
	WebhookDrop    Kind = "webhook-drop"    // events never delivered
	WebhookDup     Kind = "webhook-dup"     // events delivered twice
	WebhookReorder Kind = "webhook-reorder" // events delayed at random, so out of order
	WebhookEarly   Kind = "webhook-early"   // answers held, so webhooks beat them
	StateLock      Kind = "state-lock"      // the state database write-locked by another process
	DiskFullState  Kind = "disk-full-state" // state_dir's file system full for a while
	DiskFullOutput Kind = "disk-full-out"   // output_dir's file system full for a while
	SecondDaemon   Kind = "second-daemon"   // a second daemon started on the same state_dir
)

// Ways files arrive.
const (
	Burst        Kind = "burst"          // many files written at once
	Trickle      Kind = "trickle"        // written in chunks over a while
	Copy         Kind = "cp"             // copied in by cp(1)
	Move         Kind = "mv"             // moved in by mv(1) from the same file system
	SaveByRename Kind = "save-by-rename" // replaced later: new content written aside, renamed over
	TouchOutage  Kind = "touch-outage"   // queued files touched (same bytes) while the API is down
	EmptyFill    Kind = "empty-fill"     // created empty, filled a little later
	OddNames     Kind = "odd-names"      // spaces, unicode, a leading dash, a new line
	DupContent   Kind = "dup-content"    // the same bytes dropped under two names
	// FileBucket drops every third file into a file:// bucket source
	// (listed, not watched) instead of the folder, however it arrives, so
	// the bucket source meets every fault and way of arriving too.
	FileBucket Kind = "file-bucket"
)

// AllKinds lists every kind, faults first.
var AllKinds = []Kind{
	Kill9, SIGTERM, APIDown, HTTP429, HTTP503, ConnReset, SlowUpload, SlowLink,
	WebhookDrop, WebhookDup, WebhookReorder, WebhookEarly,
	StateLock, DiskFullState, DiskFullOutput, SecondDaemon,
	Burst, Trickle, Copy, Move, SaveByRename, TouchOutage, EmptyFill, OddNames, DupContent, FileBucket,
}

// ShortKinds are the kinds TestChaosShort runs: every kind. The disk-full
// kinds are skipped, with a note in the summary, where the suite cannot
// mount tmpfs (not root).
//
// Before holes 10 and 5 of issue 9 were closed, two kinds failed here:
// empty-fill (seeds 2 and 11, --kinds short,empty-fill --bursts 3: 13 of
// 15 and 6 of 15 placeholders got an EMPTY_FILE row, then a second row once
// filled) and second-daemon (a daemon started while its predecessor still
// drained after SIGTERM: 10 "two-rows" and 1 "lost" in one 30 s run, the
// two exporters racing). Both now hold: intake waits for an empty file's
// content, and one daemon at a time holds the state directory.
var ShortKinds = []Kind{
	Kill9, SIGTERM, APIDown, HTTP429, HTTP503, ConnReset, SlowUpload, SlowLink,
	WebhookDrop, WebhookDup, WebhookReorder, WebhookEarly,
	StateLock, DiskFullState, DiskFullOutput,
	SecondDaemon,
	Burst, Trickle, Copy, Move, SaveByRename, TouchOutage, EmptyFill, OddNames, DupContent, FileBucket,
}

// KindSet is a set of kinds.
type KindSet map[Kind]bool

// NewKindSet returns the set of ks.
func NewKindSet(ks []Kind) KindSet {
	s := KindSet{}
	for _, k := range ks {
		s[k] = true
	}
	return s
}

// ParseKinds reads a comma-separated list of kinds; "all" is every kind,
// "short" the short profile's, and a leading "-" removes a kind from what
// came before ("all,-second-daemon").
func ParseKinds(list string) (KindSet, error) {
	known := NewKindSet(AllKinds)
	s := KindSet{}
	for _, w := range strings.Split(list, ",") {
		w = strings.TrimSpace(w)
		switch {
		case w == "":
		case w == "all":
			for _, k := range AllKinds {
				s[k] = true
			}
		case w == "short":
			for _, k := range ShortKinds {
				s[k] = true
			}
		case strings.HasPrefix(w, "-") && known[Kind(w[1:])]:
			delete(s, Kind(w[1:]))
		case known[Kind(w)]:
			s[Kind(w)] = true
		default:
			return nil, fmt.Errorf("unknown kind %q (known: %s)", w, KindSet(known).String())
		}
	}
	return s, nil
}

// Sorted returns the kinds in the order of AllKinds.
func (s KindSet) Sorted() []Kind {
	var out []Kind
	for _, k := range AllKinds {
		if s[k] {
			out = append(out, k)
		}
	}
	return out
}

// String lists the kinds, comma-separated.
func (s KindSet) String() string {
	ks := s.Sorted()
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
