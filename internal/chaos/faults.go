package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the state-lock fault opens the daemon's database

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// injector applies the scenario's faults and counts them.
type injector struct {
	sim     *simProc
	sup     *supervisor
	drop    *dropper
	dbPath  string
	mounts  map[Kind]string // disk-full kind → its tmpfs mount point
	second  string          // configuration of a second daemon
	logf    func(string, ...any)
	secLogs string

	mu       sync.Mutex
	active   map[Kind]int     // bursts in force, by kind
	level    map[Kind]float64 // the latest level, by kind
	injected map[Kind]int
	skipped  map[Kind]string
	errs     []string
}

// run applies ops at their times (relative to start), each in its own
// goroutine so that bursts overlap, and returns when all are over.
func (in *injector) run(ctx context.Context, start time.Time, ops []faultOp) {
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(start.Add(op.At))):
			}
			if err := in.apply(ctx, op); err != nil {
				in.note(op.Kind, err)
			}
		}()
	}
	wg.Wait()
}

func (in *injector) note(k Kind, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.errs = append(in.errs, fmt.Sprintf("%s: %v", k, err))
	in.logf("fault %s: %v", k, err)
}

func (in *injector) count(k Kind) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.injected[k]++
}

// apply injects one fault and, for a burst, lifts it after op.For.
func (in *injector) apply(ctx context.Context, op faultOp) error {
	switch op.Kind {
	case Kill9:
		in.count(op.Kind)
		return in.sup.restart(syscall.SIGKILL, 300*time.Millisecond)
	case SIGTERM:
		in.count(op.Kind)
		return in.sup.restart(syscall.SIGTERM, 300*time.Millisecond)
	case StateLock:
		in.count(op.Kind)
		return lockState(ctx, in.dbPath, op.For)
	case DiskFullState, DiskFullOutput:
		mount, ok := in.mounts[op.Kind]
		if !ok {
			in.skip(op.Kind, "no tmpfs mount (needs root and mount -t tmpfs)")
			return nil
		}
		in.count(op.Kind)
		return fillDisk(mount, op.For)
	case SecondDaemon:
		in.count(op.Kind)
		return in.secondDaemon(op.For, op.Level)
	case TouchOutage:
		return in.touchDuringOutage(op)
	}
	in.count(op.Kind)
	if err := in.set(op.Kind, op.Level, 1); err != nil {
		return err
	}
	time.Sleep(op.For) // the burst's length is the scenario
	return in.set(op.Kind, 0, -1)
}

func (in *injector) skip(k Kind, why string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.skipped[k] == "" {
		in.logf("fault %s skipped: %s", k, why)
	}
	in.skipped[k] = why
}

// set turns a simulator fault on (delta 1) or off (delta -1) and sends
// the knobs of every burst in force.
func (in *injector) set(k Kind, level float64, delta int) error {
	in.mu.Lock()
	in.active[k] += delta
	if delta > 0 {
		in.level[k] = level
	}
	f := in.faultsLocked()
	in.mu.Unlock()
	return in.sim.setFaults(f)
}

// faultsLocked folds the bursts in force into the simulator's knobs.
func (in *injector) faultsLocked() sim.Faults {
	f := sim.Faults{RetryAfterSeconds: 1}
	secs := func(v float64) sim.Duration { return sim.Duration(v * float64(time.Second)) }
	for k, n := range in.active {
		if n <= 0 {
			continue
		}
		lv := in.level[k]
		switch k {
		case APIDown, TouchOutage:
			f.Down = true
		case HTTP429:
			f.Rate429 = lv
		case HTTP503:
			f.Rate503 = lv
		case ConnReset:
			f.DropConnectionRate = lv
		case SlowUpload:
			f.SubmitDelay = secs(lv)
		case SlowLink:
			f.UploadRate = int64(lv)
		case WebhookDrop:
			f.WebhookDropRate = lv
		case WebhookDup:
			f.WebhookDuplicateRate = lv
		case WebhookReorder:
			f.WebhookReorder = secs(lv)
		case WebhookEarly:
			f.ResponseDelay = secs(lv)
		}
	}
	return f
}

// clear lifts every simulator fault.
func (in *injector) clear() error {
	in.mu.Lock()
	in.active = map[Kind]int{}
	in.mu.Unlock()
	return in.sim.setFaults(sim.Faults{})
}

// touchDuringOutage takes the API down, lets the files that just arrived
// queue up behind it, touches them (same bytes, new mtime) and brings the
// API back.
func (in *injector) touchDuringOutage(op faultOp) error {
	since := time.Now().Add(-5 * time.Second)
	if err := in.set(TouchOutage, 0, 1); err != nil {
		return err
	}
	time.Sleep(op.For / 2) // let the batch start retrying
	n := in.drop.touch(since, 20)
	in.mu.Lock()
	in.injected[TouchOutage] += n
	in.mu.Unlock()
	time.Sleep(op.For / 2)
	return in.set(TouchOutage, 0, -1)
}

// lockState holds a write transaction on the daemon's database for d, as
// a backup tool or a second process might.
func lockState(ctx context.Context, dbPath string, d time.Duration) error {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(30000)")
	db, err := sql.Open("sqlite", "file:"+dbPath+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("lock %s: %w", dbPath, err)
	}
	time.Sleep(d) // how long the lock is held is the fault
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	return err
}

// fillDisk fills the file system at mount for d, then frees it.
func fillDisk(mount string, d time.Duration) error {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(mount, &fs); err != nil {
		return err
	}
	path := filepath.Join(mount, ".chaos-filler")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, free); err != nil {
		// Fill what fallocate would not, a block at a time.
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
	time.Sleep(d) // how long the disk stays full is the fault
	return nil
}

// secondDaemon runs a second daemon on the same state_dir, in one of
// three ways by level. Below 0.35 it is started with the first daemon's
// own configuration, as an operator would by mistake: its receiver port
// is taken, so it is started again and again for d, as a restart loop
// would. Below 0.7 it has its own receiver port and runs for d. Otherwise
// the daemon is sent SIGTERM and its successor started at once, while it
// still drains.
func (in *injector) secondDaemon(d time.Duration, level float64) error {
	if level >= 0.7 {
		return in.sup.overlap()
	}
	cfg := in.second
	if level < 0.35 {
		cfg = in.sup.cfgPath
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		s := &supervisor{bin: in.sup.bin, cfgPath: cfg, logPath: in.secLogs, logf: in.logf}
		d, err := s.startOnce()
		if err != nil {
			return err
		}
		select {
		case <-d.done: // refused to start: try again, as a restart loop does
			time.Sleep(200 * time.Millisecond)
		case <-time.After(time.Until(end)):
		}
		s.end(syscall.SIGKILL, 10*time.Second)
	}
	return nil
}
