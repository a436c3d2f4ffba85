package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// burstGrace is the measured daemon's reconcile.webhook_grace: long
// enough that the poller asks the API about no document during the
// measurement (the simulator has finished them all, and a poll would
// apply them before their webhook arrives).
const burstGrace = `
[reconcile]
webhook_grace = "1h"
`

// burstTarget is one daemon ready for the bursts: every file submitted,
// and the simulator's events for them in hand.
type burstTarget struct {
	sim    *simProc
	daemon *binrun.Daemon
	admin  string
	url    string     // the daemon's webhook URL
	known  []delivery // the simulator's document events
}

func (t *burstTarget) stop() {
	t.daemon.Stop()
	t.sim.stop()
}

// startBurstTarget starts a simulator that holds its webhooks and bin on
// a fresh state in dir with inbox as its folder source, waits until the
// daemon has submitted want documents, and reads the events the
// simulator made for them.
func startBurstTarget(ctx context.Context, bin, simBin, inbox, dir string, want int) (*burstTarget, error) {
	receiver, admin, err := daemonAddrs()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	s, err := startSim(ctx, simBin, "", 1, filepath.Join(dir, "sim.log"), "--hold-webhooks")
	if err != nil {
		return nil, err
	}
	cfg := daemonConfig(dir, inbox, s.baseURL, receiver, admin, 8) + burstGrace
	d, err := binrun.StartDaemon(ctx, bin, dir, cfg,
		[]string{"DOCUPARSE_API_KEY=" + apiKey, "DOCUPARSE_WEBHOOK_SECRET=" + webhookSecret}, admin)
	if err != nil {
		s.stop()
		return nil, err
	}
	t := &burstTarget{sim: s, daemon: d, admin: admin, url: "http://" + receiver + "/webhooks/docuparse"}
	submitted := `docuparse_documents{state="` + string(vocab.StateSubmitted) + `"}`
	if err = waitSample(ctx, d, admin, submitted, nil, func(n int) bool { return n >= want }); err == nil {
		t.known, err = heldDeliveries(strings.TrimSuffix(s.baseURL, "/api/v1"))
	}
	if err == nil && len(t.known) != want {
		err = fmt.Errorf("the simulator holds %d document events for %d submitted documents", len(t.known), want)
	}
	if err != nil {
		t.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, d.Log.Name())
	}
	return t, nil
}

// heldDeliveries reads the simulator's held events (GET /_sim/held-events,
// the bodies it would have delivered) and signs those of documents.
func heldDeliveries(simURL string) ([]delivery, error) {
	resp, err := http.Get(simURL + "/_sim/held-events")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /_sim/held-events: %s", resp.Status)
	}
	var out []delivery
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		body := bytes.Clone(sc.Bytes())
		var ev docuparse.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			return nil, fmt.Errorf("held event: %w", err)
		}
		if ev.DocumentID != "" {
			out = append(out, signed(body, ev))
		}
	}
	return out, sc.Err()
}

// signed is body, the encoding of ev, ready to post.
func signed(body []byte, ev docuparse.Event) delivery {
	return delivery{body: body, event: ev.Event, id: ev.DocumentID, signature: docuparse.Sign([]byte(webhookSecret), body)}
}

// unknownDeliveries is each of known again, signed, for a document id
// the daemon never submitted (distinct per run): the same event built
// the same way (json.Marshal of docuparse.Event, as the simulator does).
func unknownDeliveries(known []delivery, run int) ([]delivery, error) {
	out := make([]delivery, len(known))
	for i, d := range known {
		var ev docuparse.Event
		if err := json.Unmarshal(d.body, &ev); err != nil {
			return nil, err
		}
		ev.DocumentID = fmt.Sprintf("doc_burst_unknown_%d_%07d", run, i)
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out[i] = signed(body, ev)
	}
	return out, nil
}

// exportedOnce checks that each of ds's documents has exactly one row in
// the documents-*.csv files of dir, and nothing else has one; it returns
// how many rows there are.
func exportedOnce(dir string, ds []delivery) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "documents-*.csv"))
	if err != nil {
		return 0, err
	}
	rows := map[string]int{}
	total := 0
	for _, p := range paths {
		n, err := documentIDs(p, rows)
		if err != nil {
			return 0, err
		}
		total += n
	}
	for _, d := range ds {
		if rows[d.id] != 1 {
			return total, fmt.Errorf("document %s has %d rows in %s", d.id, rows[d.id], dir)
		}
	}
	if total != len(ds) {
		return total, fmt.Errorf("%d rows in %s for %d documents", total, dir, len(ds))
	}
	return total, nil
}

// documentIDs counts the rows of the CSV file at path by its document_id
// column into rows, and returns how many rows it read.
func documentIDs(path string, rows map[string]int) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	col := slices.Index(head, "document_id")
	if col < 0 {
		return 0, fmt.Errorf("%s: no document_id column", path)
	}
	n := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil || col >= len(rec) {
			return 0, fmt.Errorf("%s: row %d: %v", path, n+1, err)
		}
		rows[rec[col]]++
		n++
	}
}

// eventStatuses reads docuparse_webhook_events by status from /metrics.
func eventStatuses(admin string) map[string]int {
	out := map[string]int{}
	for _, st := range vocab.EventStatuses {
		if n, err := sample(admin, `docuparse_webhook_events{status="`+st+`"}`); err == nil && n > 0 {
			out[st] = n
		}
	}
	return out
}

// statusOf runs `bin status` on the configuration in dir and returns what
// it printed.
func statusOf(ctx context.Context, bin, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "status", "--config", filepath.Join(dir, "config.toml"))
	cmd.Env = append(os.Environ(), "DOCUPARSE_API_KEY="+apiKey, "DOCUPARSE_WEBHOOK_SECRET="+webhookSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s(status: %v)", out, err)
	}
	return string(out)
}

// measureBurst runs bin on a fresh state in dir against a fresh simulator
// that holds its webhooks. Once the daemon has submitted every file, the
// simulator's events for them are posted to its receiver and to the
// ceiling, and every document must then have exactly one CSV row; then
// as many events for unknown ids, after which the daemon must have
// settled every journaled event. run numbers the unknown ids.
func measureBurst(ctx context.Context, o burstOptions, bin binrun.Binary, simBin, inbox, dir string, run int) (burstResult, error) {
	res := burstResult{Name: "docuparse-ingest run (" + bin.Name + ")"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout) // kills the processes
	defer cancel()
	t, err := startBurstTarget(ctx, bin.Path, simBin, inbox, dir, o.Events)
	if err != nil {
		return res, err
	}
	defer t.stop()
	c, err := startCeiling(ctx, dir)
	if err != nil {
		return res, err
	}
	defer c.stop()
	fmt.Fprintf(o.Log, "  (a) %d events for submitted documents…\n", len(t.known))
	if res.Known, err = burst(ctx, o.Senders, t.url, c.url, t.known, t.settle(ctx, &res, true)); err == nil && len(res.Known.Daemon.Refused) > 0 {
		err = fmt.Errorf("the daemon refused deliveries: %v", res.Known.Daemon.Refused)
	}
	if err == nil {
		res.Exported, err = exportedOnce(filepath.Join(dir, "out", "csv"), t.known)
	}
	var unknown []delivery
	if err == nil {
		unknown, err = unknownDeliveries(t.known, run)
	}
	if err == nil {
		fmt.Fprintf(o.Log, "  (b) %d events for unknown ids…\n", len(unknown))
		res.Unknown, err = burst(ctx, o.Senders, t.url, c.url, unknown, t.settle(ctx, &res, false))
	}
	if err != nil {
		return res, fmt.Errorf("%w (log: %s)", err, t.daemon.Log.Name())
	}
	res.Events = eventStatuses(t.admin)
	if res.HWM, err = binrun.PeakRSS(t.daemon.Pid()); err != nil {
		return res, err
	}
	res.Status = statusOf(ctx, bin.Path, dir)
	return res, nil
}

// settle returns burst's settle function for t: it waits until no event
// is pending and, for events of submitted documents (exports), as many
// documents as deliveries posted are exported; then it samples the
// daemon's VmRSS into res.
func (t *burstTarget) settle(ctx context.Context, res *burstResult, exports bool) func(int) (time.Duration, error) {
	pending := `docuparse_webhook_events{status="` + vocab.EventPending + `"}`
	return func(posted int) (time.Duration, error) {
		start := time.Now()
		err := waitSample(ctx, t.daemon, t.admin, pending, nil, func(n int) bool { return n == 0 })
		if err == nil && exports {
			err = waitSample(ctx, t.daemon, t.admin, exportedSeries, nil, func(n int) bool { return n >= posted })
		}
		took := time.Since(start)
		if u, uerr := binrun.ReadUsage(t.daemon.Pid()); uerr == nil {
			res.RSS = append(res.RSS, u.RSS)
		}
		return took, err
	}
}
