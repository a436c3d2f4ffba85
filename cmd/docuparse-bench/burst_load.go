package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// burstRounds is how many slices each side's deliveries are cut into; the
// daemon and the ceiling take turns slice by slice, as the receiver's
// benchmark does (receiver/bench_test.go, benchRounds), so a machine that
// slows down or speeds up meanwhile affects both alike and their ratio is
// paired.
const burstRounds = 5

// delivery is one signed webhook body, ready to post.
type delivery struct {
	body      []byte
	event     string // its "event", for X-DocuParse-Event
	id        string // its document_id
	signature string // X-DocuParse-Signature over body
}

// loadSide is one receiver under load and what its senders measured.
type loadSide struct {
	url     string
	client  *http.Client
	senders int
	elapsed time.Duration
	lat     []time.Duration
	refused map[int]int // answers other than 200 by status (0: no answer)
}

// newLoadSide returns a side posting to url from senders concurrent
// senders, each on a kept-alive connection of its own.
func newLoadSide(url string, senders int) *loadSide {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = nil, senders, senders
	return &loadSide{url: url, client: &http.Client{Transport: tr, Timeout: time.Minute}, senders: senders, refused: map[int]int{}}
}

func (s *loadSide) close() { s.client.CloseIdleConnections() }

// run posts every delivery once from s.senders concurrent senders, each
// posting its next as soon as the last is answered, and records each
// answer's latency and every status other than 200.
func (s *loadSide) run(ctx context.Context, ds []delivery) {
	lat := make([]time.Duration, len(ds))
	status := make([]int, len(ds))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range s.senders {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(ds)) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status[i] = s.post(ctx, ds[i])
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	s.lat = append(s.lat, lat...)
	for _, st := range status {
		if st != http.StatusOK {
			s.refused[st]++
		}
	}
}

// post makes one delivery and returns the answer's status (0: none).
func (s *loadSide) post(ctx context.Context, d delivery) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(d.body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(docuparse.HeaderSignature, d.signature)
	req.Header.Set(docuparse.HeaderEvent, d.event)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// sideStats is one side's figures over a whole burst.
type sideStats struct {
	Deliveries int
	Seconds    float64
	P50, P99   time.Duration
	Refused    map[int]int
}

func (s *loadSide) stats() sideStats {
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	st := sideStats{Deliveries: len(lat), Seconds: s.elapsed.Seconds(), Refused: s.refused}
	if len(lat) > 0 {
		st.P50, st.P99 = lat[(len(lat)-1)*50/100], lat[(len(lat)-1)*99/100]
	}
	return st
}

// Rate is deliveries per second.
func (s sideStats) Rate() float64 { return float64(s.Deliveries) / max(s.Seconds, 1e-9) }

// pair is one burst's daemon side beside the ceiling's, and how long the
// daemon took after its slices to apply (and export) what they brought.
type pair struct {
	Daemon, Ceiling sideStats
	Drain           time.Duration
}

// Processed is the daemon's deliveries per second with their work done:
// counted from the first delivery of each slice until the daemon was
// quiet again.
func (p pair) Processed() float64 {
	return float64(p.Daemon.Deliveries) / max(p.Daemon.Seconds+p.Drain.Seconds(), 1e-9)
}

// burst posts every delivery to the daemon's receiver and to the ceiling
// in burstRounds slices, taking turns (neither always first). After each
// of the daemon's slices it calls settle with the number of deliveries
// posted to it so far, which waits until the daemon has done what they
// asked (so that the ceiling's slice never shares the machine with the
// daemon's backlog) and returns how long that took: the daemon's drain
// time, added up in pair.Drain.
func burst(ctx context.Context, senders int, daemonURL, ceilingURL string, ds []delivery, settle func(posted int) (time.Duration, error)) (pair, error) {
	d, c := newLoadSide(daemonURL, senders), newLoadSide(ceilingURL, senders)
	defer d.close()
	defer c.close()
	var drain time.Duration
	for round := range burstRounds {
		end := (round + 1) * len(ds) / burstRounds
		slice := ds[round*len(ds)/burstRounds : end]
		if round%2 == 1 {
			c.run(ctx, slice)
		}
		d.run(ctx, slice)
		took, err := settle(end)
		if err != nil {
			return pair{}, err
		}
		drain += took
		if round%2 == 0 {
			c.run(ctx, slice)
		}
		if err := ctx.Err(); err != nil {
			return pair{}, err
		}
	}
	p := pair{Daemon: d.stats(), Ceiling: c.stats(), Drain: drain}
	if len(p.Ceiling.Refused) > 0 {
		return p, fmt.Errorf("the ceiling did not answer 200: %v", p.Ceiling.Refused)
	}
	return p, nil
}
