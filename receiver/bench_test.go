package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// BenchmarkDelivery measures verified deliveries per second and their
// latency at 1, 16 and 128 concurrent senders, for the real receiver
// (verify, journal durably with group commit, answer 200) and for the
// ceiling: a bare net/http handler that only reads the body and checks the
// HMAC.
//
//	go test -run '^$' -bench Delivery -benchtime 4000x ./receiver/
func BenchmarkDelivery(b *testing.B) {
	secret := []byte("whsec_bench")
	for _, kind := range []string{"journaled", "ceiling"} {
		for _, senders := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/senders=%d", kind, senders), func(b *testing.B) {
				var h http.Handler
				if kind == "ceiling" {
					h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
						if !docuparse.Verify([][]byte{secret}, body, r.Header.Get(docuparse.HeaderSignature)) {
							w.WriteHeader(http.StatusUnauthorized)
							return
						}
						w.WriteHeader(http.StatusOK)
					})
				} else {
					st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "state.db"), store.Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					rh := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secret}}, st)
					rh.Start(context.Background())
					defer rh.Stop()
					h = rh
				}
				srv := httptest.NewServer(h)
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}}
				defer client.CloseIdleConnections()
				benchDeliveries(b, client, srv.URL, secret, senders)
			})
		}
	}
}

func benchDeliveries(b *testing.B, client *http.Client, url string, secret []byte, senders int) {
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body := fmt.Appendf(nil, `{"event":"document.completed","document_id":"doc_%d","timestamp":"2026-05-19T14:32:00Z","data":{"total":"1.00"}}`, i)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(secret, body))
				t0 := time.Now()
				resp, err := client.Do(req)
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
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
