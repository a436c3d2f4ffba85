package flood

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// Binary is one docuparse-ingest build to measure.
type Binary = binrun.Binary

// Usage is what /proc says about the daemon at one moment.
type Usage = binrun.Usage

// Options are the sizes of the attacks. Zero fields take the issue's
// numbers, given in brackets.
type Options struct {
	Bodies   int           // concurrent fake-signed bodies [256]
	BodySize int           // bytes in each [1,000,000]
	Rounds   int           // bodies each sender posts, one after the other [3]
	Hold     time.Duration // how long the bodies are held, less their last byte, each round [2s]
	Slow     int           // slow uploads, one byte a second [300]
	Idle     int           // idle connections [5,000]
	Dir      string
	Log      io.Writer // progress lines; nil: none
}

func (o *Options) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&o.Bodies, 256)
	set(&o.BodySize, 1_000_000)
	set(&o.Rounds, 3)
	set(&o.Slow, 300)
	set(&o.Idle, 5000)
	if o.Hold <= 0 {
		o.Hold = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Result is what one binary showed under each attack. Each attack runs on
// a freshly started daemon that has answered five real deliveries first.
type Result struct {
	Name string

	FloodBefore, FloodAfter Usage       // around the big bodies
	FloodStatuses           map[int]int // their answers (0: none)
	FloodReal               []Delivery  // real deliveries made meanwhile

	SlowOpened int      // slow uploads hanging
	SlowReal   Delivery // a real delivery while they hang

	IdleBefore, IdleDuring Usage // around the idle connections
	IdleOpened             int   // idle connections the client could open
	IdleReal               Delivery
}

// Run measures each binary in turn.
func Run(ctx context.Context, bins []Binary, o Options) ([]Result, error) {
	o.defaults()
	var out []Result
	for _, b := range bins {
		r := Result{Name: b.Name}
		for _, step := range []func(context.Context, *daemon, *Result, Options){floodStep, slowStep, idleStep} {
			if err := runStep(ctx, b, &r, o, step); err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// runStep starts a fresh daemon, warms it up and runs one attack on it.
func runStep(ctx context.Context, b Binary, r *Result, o Options, step func(context.Context, *daemon, *Result, Options)) error {
	dir := filepath.Join(o.Dir, fmt.Sprintf("%s-%d", strings.ReplaceAll(b.Name, " ", "-"), time.Now().UnixNano()))
	d, err := startDaemon(ctx, b.Path, dir)
	if err != nil {
		return err
	}
	defer d.Stop()
	for i := range 5 {
		if got := realDelivery(d.url, i); got.Status != 200 {
			return fmt.Errorf("warm-up delivery %d: %s", i, got)
		}
	}
	step(ctx, d, r, o)
	return nil
}

func floodStep(_ context.Context, d *daemon, r *Result, o Options) {
	fmt.Fprintf(o.Log, "%s: %d concurrent %d-byte fake-signed bodies, %d rounds\n", r.Name, o.Bodies, o.BodySize, o.Rounds)
	r.FloodBefore, _ = binrun.ReadUsage(d.Pid())
	done := make(chan struct{})
	real := make(chan []Delivery)
	go func() {
		var got []Delivery
		for i := 100; ; i++ {
			select {
			case <-done:
				real <- got
				return
			default:
			}
			got = append(got, realDelivery(d.url, i))
		}
	}()
	r.FloodStatuses = bigBodies(d.addr, o.Bodies, o.BodySize, o.Rounds, o.Hold)
	close(done)
	r.FloodReal = <-real
	r.FloodAfter, _ = binrun.ReadUsage(d.Pid())
}

func slowStep(ctx context.Context, d *daemon, r *Result, o Options) {
	fmt.Fprintf(o.Log, "%s: %d slow fake-signed uploads\n", r.Name, o.Slow)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.SlowOpened = slowUploads(ctx, d.addr, o.Slow, o.BodySize)
	r.SlowReal = realDelivery(d.url, 200)
}

func idleStep(_ context.Context, d *daemon, r *Result, o Options) {
	fmt.Fprintf(o.Log, "%s: %d idle connections\n", r.Name, o.Idle)
	r.IdleBefore, _ = binrun.ReadUsage(d.Pid())
	conns := idleConns(d.addr, o.Idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	r.IdleOpened = len(conns)
	r.IdleDuring, _ = binrun.ReadUsage(d.Pid())
	r.IdleReal = realDelivery(d.url, 300)
}

// Markdown writes the results as one table, a column per binary.
func Markdown(w io.Writer, rs []Result, o Options) {
	o.defaults()
	row := func(label string, cell func(Result) string) {
		cells := make([]string, len(rs))
		for i, r := range rs {
			cells[i] = cell(r)
		}
		fmt.Fprintf(w, "| %s | %s |\n", label, strings.Join(cells, " | "))
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	fmt.Fprintf(w, "| | %s |\n|---|%s\n", strings.Join(names, " | "), strings.Repeat("---|", len(rs)))
	row("peak RSS (VmHWM) before", func(r Result) string { return binrun.MB(r.FloodBefore.HWM) })
	row(fmt.Sprintf("peak RSS after %d × %d concurrent %d-byte fake-signed bodies (held %s)", o.Rounds, o.Bodies, o.BodySize, o.Hold),
		func(r Result) string {
			return fmt.Sprintf("%s (+%s)", binrun.MB(r.FloodAfter.HWM), binrun.MB(r.FloodAfter.HWM-r.FloodBefore.HWM))
		})
	row("their answers", func(r Result) string { return statuses(r.FloodStatuses) })
	row("real deliveries meanwhile", func(r Result) string { return deliveries(r.FloodReal) })
	row(fmt.Sprintf("a real delivery while %d slow uploads hang", o.Slow), func(r Result) string {
		return fmt.Sprintf("%s (%d hanging)", r.SlowReal, r.SlowOpened)
	})
	row(fmt.Sprintf("descriptors, idle / with %d idle connections", o.Idle), func(r Result) string {
		return fmt.Sprintf("%d / %d", r.IdleBefore.FDs, r.IdleDuring.FDs)
	})
	row(fmt.Sprintf("RSS, idle / with %d idle connections", o.Idle), func(r Result) string {
		return fmt.Sprintf("%s / %s (+%s)", binrun.MB(r.IdleBefore.RSS), binrun.MB(r.IdleDuring.RSS), binrun.MB(r.IdleDuring.RSS-r.IdleBefore.RSS))
	})
	row("a real delivery meanwhile", func(r Result) string { return r.IdleReal.String() })
}

func statuses(m map[int]int) string {
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		label := fmt.Sprint(s)
		if s == 0 {
			label = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s × %d", label, m[s]))
	}
	return strings.Join(parts, ", ")
}

func deliveries(ds []Delivery) string {
	ok, worst := 0, time.Duration(0)
	other := map[int]int{}
	for _, d := range ds {
		if d.Status == 200 {
			ok++
			worst = max(worst, d.Took)
		} else {
			other[d.Status]++
		}
	}
	s := fmt.Sprintf("%d of %d got 200 (slowest %s)", ok, len(ds), worst.Round(time.Millisecond))
	if len(other) > 0 {
		s += "; " + statuses(other)
	}
	return s
}
