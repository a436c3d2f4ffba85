package chaos

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
)

// Options configure one run. Profile fills the numbers; the command line
// and tests override them.
type Options struct {
	Seed     int64
	Profile  string        // "short" or "soak", for the summary
	Duration time.Duration // how long files arrive and faults strike
	Files    int           // sample files dropped (replacements come on top)
	Kills    int           // kill -9 of the daemon
	SIGTERMs int           // SIGTERM mid-batch
	Bursts   int           // bursts of each other fault kind
	Kinds    KindSet       // what is injected
	// Drain bounds the wait, after the last fault, for the daemon to
	// finish everything; what is still pending then is reported stuck.
	Drain time.Duration
	// Dir holds the run (inbox, state, outputs, logs); a temporary folder
	// when empty. BinDir holds docuparse-ingest and docuparse-sim; they are
	// built into Dir when empty.
	Dir, BinDir string
	// Tmpfs puts state_dir and output_dir on small tmpfs mounts (root
	// only), which the disk-full faults need.
	Tmpfs bool
}

// Profile returns the options of a named profile with seed.
func Profile(name string, seed int64) (Options, error) {
	o := Options{Seed: seed, Profile: name, Tmpfs: true}
	switch name {
	case "short":
		o.Duration, o.Files, o.Kills, o.SIGTERMs, o.Bursts, o.Drain = 40*time.Second, 200, 3, 1, 1, 90*time.Second
		o.Kinds = NewKindSet(ShortKinds)
	case "soak":
		o.Duration, o.Files, o.Kills, o.SIGTERMs, o.Bursts, o.Drain = 30*time.Minute, 6000, 60, 10, 15, 5*time.Minute
		o.Kinds = NewKindSet(AllKinds)
	default:
		return o, fmt.Errorf("unknown profile %q (short or soak)", name)
	}
	return o, nil
}

// fileOp is one file delivered by the scenario.
type fileOp struct {
	At      time.Duration // since the start of the run
	How     Kind          // "" is written in place
	Name    string        // path relative to the inbox
	Content []byte
	// Then: SaveByRename's replacement, or EmptyFill's content (the
	// first write is empty); written After the first.
	Then  []byte
	After time.Duration
	// Tags are the kinds that shaped it besides How (burst, odd-names).
	Tags []Kind
}

// faultOp is one fault: Kind strikes At and lasts For.
type faultOp struct {
	At, For time.Duration
	Kind    Kind
	Level   float64 // a rate or a delay in seconds, by kind
}

// scenario is everything a seed decides.
type scenario struct {
	files  []fileOp
	faults []faultOp
}

// inputKinds are the ways of delivering a file, drawn per file.
var inputKinds = []Kind{Trickle, Copy, Move, SaveByRename, EmptyFill, DupContent}

// newScenario draws the files and faults of a run from o.Seed.
func newScenario(o Options) scenario {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0xc4a05))
	files := samples.Generate(o.Files*2, o.Seed)
	spare := files[o.Files:]
	files = files[:o.Files]
	var sc scenario
	window := o.Duration * 85 / 100
	at := func() time.Duration { return time.Duration(rng.Int64N(int64(window))) }
	burstAt := []time.Duration{}
	if o.Kinds[Burst] {
		for range 1 + o.Files/400 {
			burstAt = append(burstAt, at())
		}
	}
	var ways []Kind
	for _, k := range inputKinds {
		if o.Kinds[k] {
			ways = append(ways, k)
		}
	}
	for i, f := range files {
		op := fileOp{At: at(), Name: f.Name, Content: f.Content}
		if len(burstAt) > 0 && rng.IntN(3) == 0 {
			op.At = burstAt[rng.IntN(len(burstAt))]
			op.Tags = append(op.Tags, Burst)
		} else if len(ways) > 0 && rng.IntN(2) == 0 {
			op.How = ways[rng.IntN(len(ways))]
		}
		switch op.How {
		case SaveByRename:
			op.Then, op.After = spare[i].Content, time.Duration(500+rng.IntN(4500))*time.Millisecond
		case EmptyFill:
			op.Then, op.Content, op.After = op.Content, nil, time.Duration(300+rng.IntN(2700))*time.Millisecond
		case DupContent:
			if i > 0 {
				op.Content = files[rng.IntN(i)].Content
			}
		}
		if o.Kinds[FileBucket] && i%3 == 2 {
			op.Tags = append(op.Tags, FileBucket)
		}
		if o.Kinds[OddNames] && rng.IntN(6) == 0 {
			op.Name = oddName(rng, op.Name)
			op.Tags = append(op.Tags, OddNames)
		}
		if rng.IntN(4) == 0 {
			op.Name = fmt.Sprintf("sub-%d/%s", rng.IntN(5), op.Name)
		}
		sc.files = append(sc.files, op)
	}
	sort.SliceStable(sc.files, func(a, b int) bool { return sc.files[a].At < sc.files[b].At })
	sc.faults = drawFaults(rng, o)
	return sc
}

// oddName makes a name harder to handle: a leading dash, runs of spaces,
// letters outside ASCII, a new line.
func oddName(rng *rand.Rand, name string) string {
	switch rng.IntN(4) {
	case 0:
		return "-" + name
	case 1:
		return "  two  spaces  " + name
	case 2:
		return "Überweisung ÄÖÜ ß 領収書 " + name
	default:
		return "line\nbreak " + name
	}
}

// faultShape is how long a burst of a kind lasts (seconds, from..to) and
// its level (from..to).
type faultShape struct{ minFor, maxFor, minLevel, maxLevel float64 }

var faultShapes = map[Kind]faultShape{
	APIDown:        {3, 8, 0, 0},
	HTTP429:        {2, 5, 0.3, 0.8},
	HTTP503:        {2, 5, 0.3, 0.8},
	ConnReset:      {2, 5, 0.2, 0.6},
	SlowUpload:     {2, 6, 0.5, 3},
	SlowLink:       {4, 10, 1500, 6000}, // bytes/s: a batch of 20 samples takes 10–60 s, api.timeout is 10 s
	WebhookDrop:    {4, 10, 0.3, 0.8},
	WebhookDup:     {4, 10, 0.3, 0.8},
	WebhookReorder: {4, 10, 0.5, 3},
	WebhookEarly:   {3, 6, 0.5, 2},
	StateLock:      {3, 14, 0, 0},
	DiskFullState:  {2, 5, 0, 0},
	DiskFullOutput: {2, 5, 0, 0},
	SecondDaemon:   {3, 6, 0, 1},
	TouchOutage:    {4, 6, 0, 0},
}

// drawFaults schedules o.Bursts bursts of every enabled fault kind, and
// the kills and SIGTERMs, inside the run's window. The bursts take turns:
// shuffled into equal slots of the window, each starting in the first half
// of its slot, so that no kind is always hidden under another (a 429
// under an outage never reaches the daemon).
func drawFaults(rng *rand.Rand, o Options) []faultOp {
	var out []faultOp
	between := func(a, b float64) float64 { return a + rng.Float64()*(b-a) }
	for _, k := range AllKinds {
		sh, ok := faultShapes[k]
		if !ok || !o.Kinds[k] {
			continue
		}
		for range o.Bursts {
			out = append(out, faultOp{
				Kind:  k,
				For:   time.Duration(between(sh.minFor, sh.maxFor) * float64(time.Second)),
				Level: between(sh.minLevel, sh.maxLevel),
			})
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	first, window := o.Duration/20, o.Duration*80/100
	if len(out) > 0 {
		slot := window / time.Duration(len(out))
		for i := range out {
			out[i].At = first + slot*time.Duration(i) + time.Duration(rng.Int64N(int64(slot/2)+1))
		}
	}
	span := func() time.Duration { return first + time.Duration(rng.Int64N(int64(window))) }
	for _, c := range []struct {
		k Kind
		n int
	}{{Kill9, o.Kills}, {SIGTERM, o.SIGTERMs}} {
		if !o.Kinds[c.k] {
			continue
		}
		for range c.n {
			out = append(out, faultOp{At: span(), Kind: c.k})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].At != out[b].At {
			return out[a].At < out[b].At
		}
		return out[a].Kind < out[b].Kind
	})
	return out
}
