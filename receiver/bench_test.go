package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/cputime"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/procs"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// benchRounds is how many slices each side's deliveries are cut into. The
// two sides alternate slice by slice, so a machine that slows down or
// speeds up during the run affects both alike and the ratio stays fair.
const benchRounds = 5

// BenchmarkDelivery measures verified deliveries per second and their
// latency at 1, 16 and 128 concurrent senders for the real receiver
// (verify, journal durably with group commit, answer 200), side by side
// with the ceiling: a bare net/http handler that only reads the body and
// checks the HMAC. Each iteration is one delivery to each of the two; they
// take turns in slices and pct-of-ceiling is the ratio of their rates.
//
// Both run with GOMAXPROCS as the daemon sets it (procs.WriterProcs: one
// more than the CPUs, reported as gomaxprocs); set GOMAXPROCS in the
// environment to measure another value.
//
//	go test -run '^$' -bench Delivery -benchtime 10000x -count 3 ./receiver/
func BenchmarkDelivery(b *testing.B) {
	secret := []byte("whsec_bench")
	ceiling := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if !docuparse.Verify([][]byte{secret}, body, r.Header.Get(docuparse.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	for _, senders := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			// testing sets GOMAXPROCS (-cpu) before each benchmark and
			// wants it back as it was afterwards.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs.WriterProcs(runtime.GOMAXPROCS(0))))
			st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "state.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			rh := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secret}}, st)
			rh.Start(context.Background())
			defer rh.Stop()

			journaled := newBenchSide(b, rh, senders)
			defer journaled.close()
			bare := newBenchSide(b, ceiling, senders)
			defer bare.close()

			var next atomic.Int64 // numbers the bodies: every delivery is a new event
			b.ResetTimer()
			for round := range benchRounds {
				n := b.N/benchRounds + boolInt(round < b.N%benchRounds)
				first, second := journaled, bare
				if round%2 == 1 { // neither side always goes first
					first, second = bare, journaled
				}
				first.run(b, secret, &next, n)
				second.run(b, secret, &next, n)
			}
			b.StopTimer()
			j, c := journaled.rate(), bare.rate()
			b.ReportMetric(j, "deliveries/s")
			b.ReportMetric(journaled.percentile(50), "p50-ms")
			b.ReportMetric(journaled.percentile(99), "p99-ms")
			b.ReportMetric(c, "ceiling/s")
			b.ReportMetric(bare.percentile(99), "ceiling-p99-ms")
			b.ReportMetric(100*j/c, "pct-of-ceiling")
			b.ReportMetric(journaled.cpuPerDelivery(), "cpu-µs/delivery")
			b.ReportMetric(bare.cpuPerDelivery(), "ceiling-cpu-µs/delivery")
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "gomaxprocs")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchSide is one server under test and the senders' results against it.
type benchSide struct {
	srv     *httptest.Server
	client  *http.Client
	senders int
	elapsed time.Duration
	cpu     time.Duration // the process's CPU time while this side ran
	lat     []time.Duration
}

func newBenchSide(b *testing.B, h http.Handler, senders int) *benchSide {
	b.Helper()
	return &benchSide{
		srv:     httptest.NewServer(h),
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}},
		senders: senders,
	}
}

func (s *benchSide) close() {
	s.client.CloseIdleConnections()
	s.srv.Close()
}

// run sends n signed document.completed deliveries from s.senders
// concurrent senders, each sending its next as soon as the last is
// answered, and records every latency.
func (s *benchSide) run(b *testing.B, secret []byte, next *atomic.Int64, n int) {
	lat := make([]time.Duration, n)
	var sent atomic.Int64
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cputime.Process()
	for range s.senders {
		wg.Go(func() {
			for {
				i := sent.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body := fmt.Appendf(nil, `{"event":"document.completed","document_id":"doc_%d","timestamp":"2026-05-19T14:32:00Z","data":{"total":"1.00"}}`, next.Add(1))
				req, _ := http.NewRequest(http.MethodPost, s.srv.URL, bytes.NewReader(body))
				req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(secret, body))
				t0 := time.Now()
				resp, err := s.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	s.elapsed += time.Since(start)
	s.cpu += cputime.Process() - cpu0
	s.lat = append(s.lat, lat...)
}

// cpuPerDelivery is the CPU time, server and senders together, one
// delivery cost in microseconds.
func (s *benchSide) cpuPerDelivery() float64 {
	return float64(s.cpu.Nanoseconds()) / 1000 / float64(len(s.lat))
}

func (s *benchSide) rate() float64 {
	return float64(len(s.lat)) / s.elapsed.Seconds()
}

// percentile returns the p-th percentile latency in milliseconds.
func (s *benchSide) percentile(p int) float64 {
	slices.Sort(s.lat)
	return float64(s.lat[(len(s.lat)-1)*p/100].Microseconds()) / 1000
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
