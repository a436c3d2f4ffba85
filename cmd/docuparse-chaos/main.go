// Command docuparse-chaos runs the fault-injection suite (internal/chaos):
// it builds docuparse-ingest and docuparse-sim, runs the daemon against the
// simulator while it drops files and injects faults, then checks that every
// file has exactly one terminal row (or is visibly pending), that no
// content became two API documents, and that every row says what the
// simulator extracted.
//
//	go run ./cmd/docuparse-chaos                       # short profile, a random seed
//	go run ./cmd/docuparse-chaos --seed 42             # replay seed 42
//	go run ./cmd/docuparse-chaos --profile soak --duration 30m --kills 60
//	go run ./cmd/docuparse-chaos --kinds all,-second-daemon
//
// It prints the seed first, writes summary.json and summary.md into the
// run's folder (kept), prints the markdown summary, and exits 1 when the
// run found violations, 2 when it could not run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/chaos"
)

func main() { binrun.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docuparse-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		seed     = fs.Int64("seed", 0, "seed of the scenario (0: a new random seed, printed)")
		profile  = fs.String("profile", "short", "short or soak: the defaults of the numbers below")
		duration = fs.Duration("duration", 0, "how long files arrive and faults strike (default: the profile's)")
		files    = fs.Int("files", 0, "sample files to drop (default: the profile's)")
		kills    = fs.Int("kills", -1, "kill -9 of the daemon (default: the profile's)")
		terms    = fs.Int("sigterms", -1, "SIGTERMs mid-batch (default: the profile's)")
		bursts   = fs.Int("bursts", -1, "bursts of each other fault kind (default: the profile's)")
		kinds    = fs.String("kinds", "", "comma-separated kinds, or all, short, -kind (default: the profile's; short for short, all for soak)")
		drain    = fs.Duration("drain", 0, "bound of the wait for the daemon to finish after the last fault (default: the profile's)")
		dir      = fs.String("dir", "", "folder of the run (default: a new temporary folder, kept)")
		bin      = fs.String("bin", "", "folder holding docuparse-ingest and docuparse-sim already built (default: build them)")
		noTmpfs  = fs.Bool("no-tmpfs", false, "do not mount tmpfs on state_dir and output_dir (the disk-full faults are skipped)")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: docuparse-chaos [flags]\n\nKinds: %s\n\nFlags:\n", chaos.NewKindSet(chaos.AllKinds))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano() % 1_000_000_000
	}
	o, err := chaos.Profile(*profile, *seed)
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-chaos:", err)
		return 2
	}
	if *kinds != "" {
		if o.Kinds, err = chaos.ParseKinds(*kinds); err != nil {
			fmt.Fprintln(stderr, "docuparse-chaos: --kinds:", err)
			return 2
		}
	}
	setIf(&o.Duration, *duration, *duration > 0)
	setIf(&o.Drain, *drain, *drain > 0)
	setIf(&o.Files, *files, *files > 0)
	setIf(&o.Kills, *kills, *kills >= 0)
	setIf(&o.SIGTERMs, *terms, *terms >= 0)
	setIf(&o.Bursts, *bursts, *bursts >= 0)
	o.Dir, o.BinDir, o.Tmpfs = *dir, *bin, !*noTmpfs
	fmt.Fprintf(stdout, "docuparse-chaos: seed %d\n", o.Seed)
	sum, err := chaos.Run(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-chaos:", err)
		return 2
	}
	if err := sum.Write(sum.Dir); err != nil {
		fmt.Fprintln(stderr, "docuparse-chaos: write the summary:", err)
	}
	fmt.Fprint(stdout, sum.Markdown())
	fmt.Fprintf(stdout, "summary: %s/summary.{json,md}\n", sum.Dir)
	if !sum.OK() {
		fmt.Fprintf(stdout, "FAILED: %d violation(s); replay with: %s\n", len(sum.Violations), sum.Replay)
		return 1
	}
	return 0
}

func setIf[T any](dst *T, v T, ok bool) {
	if ok {
		*dst = v
	}
}
