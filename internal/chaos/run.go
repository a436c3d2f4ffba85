package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// rig is one run's folders and processes.
type rig struct {
	o                        Options
	dir, inbox, staging, bin string
	stateDir, outDir         string
	bucket                   string // the file:// bucket source's directory (FileBucket)
	mounts                   map[Kind]string
	notes                    []string
	logf                     func(string, ...any)
	sim                      *simProc
	sup                      *supervisor
}

// Run runs one scenario with o and returns its summary; the error is for
// a run that could not be made (a build or a start failing), not for
// violations, which the summary lists. Progress goes to log.
func Run(ctx context.Context, o Options, log io.Writer) (*Summary, error) {
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(log, "chaos: "+format+"\n", args...)
	}
	logf("seed %d, profile %s, kinds %s; replay: go run ./cmd/docuparse-chaos --seed %d --profile %s --kinds %s",
		o.Seed, o.Profile, o.Kinds, o.Seed, o.Profile, o.Kinds)
	r := &rig{o: o, logf: logf, mounts: map[Kind]string{}}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	defer r.unmount()
	if err := r.startProcesses(ctx); err != nil {
		r.stopProcesses()
		return nil, err
	}
	sum, err := r.play(ctx)
	if err != nil {
		r.stopProcesses()
		return nil, err
	}
	return sum, nil
}

// prepare makes the folders, mounts the tmpfs file systems and builds the
// binaries.
func (r *rig) prepare(ctx context.Context) error {
	r.dir = r.o.Dir
	if r.dir == "" {
		d, err := os.MkdirTemp("", "docuparse-chaos-")
		if err != nil {
			return err
		}
		r.dir = d
	}
	r.inbox, r.staging = filepath.Join(r.dir, "inbox"), filepath.Join(r.dir, "staging")
	r.stateDir, r.outDir = filepath.Join(r.dir, "state"), filepath.Join(r.dir, "out")
	r.bucket = filepath.Join(r.dir, "bucket")
	for _, d := range []string{r.inbox, r.staging, r.stateDir, r.outDir, r.bucket} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if r.o.Kinds[DiskFullState] || r.o.Kinds[DiskFullOutput] {
		r.mountTmpfs()
	}
	r.bin = r.o.BinDir
	if r.bin == "" {
		r.bin = filepath.Join(r.dir, "bin")
		r.logf("building the binaries into %s", r.bin)
		if err := Build(ctx, r.bin); err != nil {
			return err
		}
	}
	return nil
}

// mountTmpfs puts state_dir and output_dir on 64 MiB tmpfs mounts, so the
// disk-full faults can fill them; without root or mount it notes why not.
func (r *rig) mountTmpfs() {
	if !r.o.Tmpfs {
		r.notes = append(r.notes, "disk-full faults skipped: tmpfs disabled")
		return
	}
	if os.Geteuid() != 0 {
		r.notes = append(r.notes, "disk-full faults skipped: not running as root, cannot mount tmpfs")
		return
	}
	for k, d := range map[Kind]string{DiskFullState: r.stateDir, DiskFullOutput: r.outDir} {
		out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "chaos-"+string(k), d).CombinedOutput()
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("%s skipped: mount -t tmpfs %s: %v %s", k, d, err, out))
			continue
		}
		r.mounts[k] = d
	}
	if len(r.mounts) > 0 {
		r.notes = append(r.notes, "disk-full faults use 64 MiB tmpfs mounts on state_dir and output_dir")
	}
}

// unmount unmounts the tmpfs file systems, keeping what they held in
// the same folders for whoever looks at the run afterwards.
func (r *rig) unmount() {
	for k, d := range r.mounts {
		keep := filepath.Join(r.dir, ".kept-"+string(k))
		if out, err := exec.Command("cp", "-a", d+"/.", keep).CombinedOutput(); err != nil {
			r.logf("keep %s: %v %s", d, err, out)
		}
		if err := syscall.Unmount(d, 0); err != nil {
			_ = syscall.Unmount(d, syscall.MNT_DETACH)
		}
		if out, err := exec.Command("cp", "-a", keep+"/.", d).CombinedOutput(); err != nil {
			r.logf("restore %s: %v %s", d, err, out)
		}
		_ = os.RemoveAll(keep)
	}
}

// startProcesses starts the simulator and the daemon and waits until the
// daemon's receiver listens.
func (r *rig) startProcesses(ctx context.Context) error {
	receiver, err := binrun.FreeAddr()
	if err != nil {
		return err
	}
	r.sim, err = startSim(filepath.Join(r.bin, "docuparse-sim"), filepath.Join(r.dir, "sim.log"),
		"http://"+receiver+"/webhooks/docuparse", r.o.Seed)
	if err != nil {
		return err
	}
	cfg := filepath.Join(r.dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(r.config(receiver)), 0o600); err != nil {
		return err
	}
	r.sup = &supervisor{bin: filepath.Join(r.bin, "docuparse-ingest"), cfgPath: cfg,
		logPath: filepath.Join(r.dir, "daemon.log"), logf: r.logf}
	if err := r.sup.ensure(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := binrun.WaitListening(wctx, receiver); err != nil {
		return fmt.Errorf("the daemon did not start listening (see %s): %w", r.sup.logPath, err)
	}
	return nil
}

func (r *rig) stopProcesses() {
	if r.sup != nil {
		r.sup.shutdown()
	}
	if r.sim != nil {
		r.sim.stop()
	}
}

// config is the daemon's configuration: short intervals, so a run of
// minutes exercises what takes hours in production.
func (r *rig) config(receiver string) string {
	return fmt.Sprintf(`state_dir  = %q
output_dir = %q

[api]
base_url    = %q
concurrency = 4
rate_limit  = 0
timeout     = "10s"

[batch]
max_files = 20
max_wait  = "300ms"

[receiver]
listen = %q

[reconcile]
webhook_grace = "3s"
poll_interval = "1s"
stuck_after   = "1h"

[report]
timezone = "UTC"

[admin]
listen = ""

[log]
format = "json"
level  = "info"

[[source]]
name   = "inbox"
path   = %q
settle = "500ms"
rescan = "2s"
%s`, r.stateDir, r.outDir, r.sim.api, receiver, r.inbox, r.bucketSource())
}

// bucketSource is the file:// bucket source's table, with FileBucket.
// Listed every 700 ms, a file is taken once two listings (at least 630 ms
// apart) saw it unchanged, or its time is 500 ms old.
func (r *rig) bucketSource() string {
	if !r.o.Kinds[FileBucket] {
		return ""
	}
	return fmt.Sprintf(`
[[source]]
name   = "bucket"
url    = %q
settle = "500ms"
poll_interval = "700ms"
`, "file://"+r.bucket+"/")
}

// play runs the scenario, drains, stops everything and checks.
func (r *rig) play(ctx context.Context) (*Summary, error) {
	sc := newScenario(r.o)
	drop := newDropper(r.inbox, r.staging, r.logf)
	if r.o.Kinds[FileBucket] {
		drop.bucket = r.bucket
	}
	secondAddr, err := binrun.FreeAddr()
	if err != nil {
		return nil, err
	}
	second := filepath.Join(r.dir, "config-second.toml")
	if err := os.WriteFile(second, []byte(r.config(secondAddr)), 0o600); err != nil {
		return nil, err
	}
	in := &injector{sim: r.sim, sup: r.sup, drop: drop, dbPath: filepath.Join(r.stateDir, "state.db"),
		mounts: r.mounts, second: second, secLogs: filepath.Join(r.dir, "second-daemon.log"), logf: r.logf,
		active: map[Kind]int{}, level: map[Kind]float64{}, injected: map[Kind]int{}, skipped: map[Kind]string{}}
	r.logf("%d files, %d faults over %s (work folder %s)", len(sc.files), len(sc.faults), r.o.Duration, r.dir)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); drop.run(ctx, start, sc.files) }()
	go func() { defer wg.Done(); in.run(ctx, start, sc.faults) }()
	wg.Wait()
	if err := in.clear(); err != nil {
		return nil, err
	}
	if err := r.sup.ensure(); err != nil {
		return nil, err
	}
	r.logf("files and faults done after %s; draining (at most %s)", time.Since(start).Round(time.Second), r.o.Drain)
	drainStart := time.Now()
	drained := r.drain(ctx, drop)
	drainTook := time.Since(drainStart)
	r.stopProcesses()
	return r.summarize(sc, drop, in, drained, drainTook)
}

// drain waits until every path's final content has a row and the daemon
// has nothing in flight, or the drain bound passes.
func (r *rig) drain(ctx context.Context, drop *dropper) bool {
	deadline := time.Now().Add(r.o.Drain)
	for time.Now().Before(deadline) {
		if r.settled(ctx, drop) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
	return false
}

// settled reports whether every final content has a row and status
// shows nothing in flight.
func (r *rig) settled(ctx context.Context, drop *dropper) bool {
	rows, _, err := readRows(r.outDir)
	if err != nil {
		return false
	}
	have := map[string]bool{}
	for _, rw := range rows {
		have[rw["source"]+"\x00"+rw["sha256"]] = true
	}
	drop.mu.Lock()
	for p, e := range drop.ledger {
		if len(e.contents) > 0 && !have[p+"\x00"+sha(e.final())] {
			drop.mu.Unlock()
			return false
		}
	}
	drop.mu.Unlock()
	n, err := r.inFlight(ctx)
	return err == nil && n == 0
}

// inFlight asks `docuparse-ingest status --json` how many documents are
// not yet exported or vanished.
func (r *rig) inFlight(ctx context.Context) (int, error) {
	out, err := exec.CommandContext(ctx, r.sup.bin, "status", "--json", "--config", r.sup.cfgPath).Output()
	if err != nil {
		return 0, err
	}
	var st struct {
		Documents map[string]int `json:"documents"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	n := 0
	for s, c := range st.Documents {
		if pendingStates[store.State(s)] {
			n += c
		}
	}
	return n, nil
}

// summarize reads the outputs, the store and the simulator's record and
// checks the promise.
func (r *rig) summarize(sc scenario, drop *dropper, in *injector, drained bool, drainTook time.Duration) (*Summary, error) {
	rows, bad, err := readRows(r.outDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(context.Background(), filepath.Join(r.stateDir, "state.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	docs, err := st.Documents(context.Background(), "", 0)
	st.Close()
	if err != nil {
		return nil, err
	}
	stats, err := r.lastStats()
	if err != nil {
		return nil, err
	}
	truth, err := sim.New(sim.Config{APIKey: apiKey})
	if err != nil {
		return nil, err
	}
	vs := check(checkInput{ledger: drop.ledger, rows: rows, docs: docs, stats: stats, truth: truth})
	for _, b := range bad {
		vs = append(vs, Violation{Kind: VCSVCorrupt, File: "documents CSV", Detail: b})
	}
	if r.sup.hung > 0 {
		vs = append(vs, Violation{Kind: VDaemon, Detail: fmt.Sprintf("%d SIGTERM(s) did not stop the daemon within 60s", r.sup.hung)})
	}
	if drained {
		vs = append(vs, leftTemporaries(r.outDir)...)
	}
	return newSummary(r, sc, drop, in, stats, len(rows), drained, drainTook, vs), nil
}

// leftTemporaries reports every temporary file of an atomic write left in
// the output's results once the daemon has drained: a killed write's
// temporary is swept when its document is exported, so none may stay.
// (A report's is swept only when over ten minutes old: not checked.)
func leftTemporaries(outDir string) []Violation {
	var vs []Violation
	_ = filepath.WalkDir(filepath.Join(outDir, "results"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && output.IsTemporary(d.Name()) {
			vs = append(vs, Violation{Kind: VTemporary, File: p, Detail: "a temporary file of an interrupted write is still in the output"})
		}
		return nil
	})
	return vs
}

// lastStats is the simulator's record, read once it has stopped taking
// requests: the stats were saved before it stopped.
func (r *rig) lastStats() (sim.Stats, error) {
	if r.sim.final != nil {
		return *r.sim.final, nil
	}
	return sim.Stats{}, errors.New("the simulator's record was not read before it stopped")
}
