package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// entry is what the suite put at one path: every content in order; the
// last is what the folder holds at the end.
type entry struct {
	contents [][]byte
	how      Kind
}

func (e *entry) final() []byte { return e.contents[len(e.contents)-1] }

// dropper delivers the scenario's files into the inbox and keeps the
// ledger the checker reads.
type dropper struct {
	inbox, staging string
	// bucket, when set, is a file:// bucket source's directory: files
	// tagged FileBucket go there instead of the inbox.
	bucket string
	logf   func(string, ...any)

	mu      sync.Mutex
	ledger  map[string]*entry // by absolute path
	recent  []recentFile
	counts  map[Kind]int
	errs    []error
	pending sync.WaitGroup // second writes and trickles still running
	seq     int
}

type recentFile struct {
	path string
	at   time.Time
}

func newDropper(inbox, staging string, logf func(string, ...any)) *dropper {
	return &dropper{inbox: inbox, staging: staging, logf: logf, ledger: map[string]*entry{}, counts: map[Kind]int{}}
}

// run delivers ops at their times (relative to start) and returns once
// every write, including delayed second writes, is done.
func (d *dropper) run(ctx context.Context, start time.Time, ops []fileOp) {
	for _, op := range ops {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(op.At))):
		}
		d.drop(op)
	}
	d.pending.Wait()
}

// record notes that content was written at path.
func (d *dropper) record(path string, how Kind, content []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.ledger[path]
	if e == nil {
		e = &entry{how: how}
		d.ledger[path] = e
	}
	e.contents = append(e.contents, content)
	d.recent = append(d.recent, recentFile{path, time.Now()})
}

func (d *dropper) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.errs = append(d.errs, err)
	d.logf("drop: %v", err)
}

// target returns a path for name not used yet: in the inbox, or in the
// file:// bucket's directory.
func (d *dropper) target(name string, inBucket bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	dir := d.inbox
	if inBucket && d.bucket != "" {
		dir = d.bucket
	}
	p := filepath.Join(dir, name)
	for n := 2; d.ledger[p] != nil; n++ {
		ext := filepath.Ext(name)
		p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), n, ext))
	}
	d.ledger[p] = &entry{} // reserved; record fills it
	d.seq++
	return p
}

// drop delivers one file the way op says.
func (d *dropper) drop(op fileOp) {
	path := d.target(op.Name, slices.Contains(op.Tags, FileBucket))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		d.fail(err)
		return
	}
	how := op.How
	d.mu.Lock()
	d.ledger[path].how = how
	d.counts[how]++
	for _, k := range op.Tags {
		d.counts[k]++
	}
	d.mu.Unlock()
	var err error
	switch how {
	case Trickle:
		d.later(func() error { return d.trickle(path, op.Content) })
		return
	case Copy, Move:
		err = d.viaStaging(how, path, op.Content)
	case SaveByRename, EmptyFill:
		err = d.write(path, how, op.Content)
		if err == nil {
			d.later(func() error {
				time.Sleep(op.After) // the producer's pace, not synchronisation
				return d.replace(path, how, op.Then)
			})
		}
	default:
		err = d.write(path, how, op.Content)
	}
	if err != nil {
		d.fail(err)
	}
}

func (d *dropper) later(f func() error) {
	d.pending.Add(1)
	go func() {
		defer d.pending.Done()
		if err := f(); err != nil {
			d.fail(err)
		}
	}()
}

// write writes content in place under its final name.
func (d *dropper) write(path string, how Kind, content []byte) error {
	d.record(path, how, content)
	return os.WriteFile(path, content, 0o644)
}

// trickle writes content in four chunks, 150 ms apart, as a slow copy
// over a network does.
func (d *dropper) trickle(path string, content []byte) error {
	d.record(path, Trickle, content)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	step := max(1, (len(content)+3)/4)
	for off := 0; off < len(content); off += step {
		if _, err := f.Write(content[off:min(off+step, len(content))]); err != nil {
			f.Close()
			return err
		}
		time.Sleep(150 * time.Millisecond) // the producer's pace
	}
	return f.Close()
}

// viaStaging writes content outside the inbox, then brings it in with
// cp(1) or mv(1).
func (d *dropper) viaStaging(how Kind, path string, content []byte) error {
	d.mu.Lock()
	tmp := filepath.Join(d.staging, fmt.Sprintf("staged-%d", d.seq))
	d.mu.Unlock()
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	d.record(path, how, content)
	tool := "cp"
	if how == Move {
		tool = "mv"
	}
	if out, err := exec.Command(tool, "--", tmp, path).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %q: %w: %s", tool, path, err, out)
	}
	if how == Copy {
		return os.Remove(tmp)
	}
	return nil
}

// replace gives path its second content: written aside and renamed over
// it (an editor's save), or, for a placeholder, written into it.
func (d *dropper) replace(path string, how Kind, content []byte) error {
	d.record(path, how, content)
	if how == EmptyFill {
		return os.WriteFile(path, content, 0o644)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// touch gives the files written since since a new modification time,
// keeping their bytes, and returns how many it touched (at most n).
func (d *dropper) touch(since time.Time, n int) int {
	d.mu.Lock()
	var paths []string
	for i := len(d.recent) - 1; i >= 0 && len(paths) < n; i-- {
		if d.recent[i].at.Before(since) {
			break
		}
		paths = append(paths, d.recent[i].path)
	}
	d.mu.Unlock()
	touched := 0
	now := time.Now()
	for _, p := range paths {
		if os.Chtimes(p, now, now) == nil {
			touched++
		}
	}
	return touched
}
