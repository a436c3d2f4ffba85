package sim

import (
	"bytes"
	"container/heap"
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// retrySchedule is the assumed delay before each retry of a webhook delivery,
// before Config.TimeScale. After the last one fails the event is given up.
var retrySchedule = []time.Duration{
	time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour,
}

// delivery is one copy of one event on its way to the receiver.
type delivery struct {
	eventID  string // X-DocuParse-Delivery, the same on every retry
	event    string
	body     []byte
	attempts int       // POSTs made so far
	due      time.Time // next attempt (real time)
	seq      uint64    // FIFO among equal due times
}

// deliveryHeap orders deliveries by due time.
type deliveryHeap []*delivery

func (h deliveryHeap) Len() int { return len(h) }
func (h deliveryHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h deliveryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deliveryHeap) Push(x any)   { *h = append(*h, x.(*delivery)) }
func (h *deliveryHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}

// deliverer owns the webhook queue: a dispatcher goroutine hands due
// deliveries to a bounded pool of workers, which POST them and re-queue the
// failures according to the retry schedule.
type deliverer struct {
	s        *Server
	client   *http.Client
	schedule []time.Duration

	mu      sync.Mutex
	queue   deliveryHeap
	seq     uint64
	started bool
	stopped bool
	cancel  context.CancelFunc

	wake chan struct{}
	wg   sync.WaitGroup
}

func newDeliverer(s *Server) *deliverer {
	sched := make([]time.Duration, len(retrySchedule))
	for i, d := range retrySchedule {
		sched[i] = time.Duration(float64(d) * s.cfg.TimeScale)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &deliverer{
		s:        s,
		schedule: sched,
		client: &http.Client{
			Timeout:   s.cfg.DeliveryTimeout,
			Transport: transport,
			// A redirect is not a 200: do not follow it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		wake: make(chan struct{}, 1),
	}
}

// enqueue queues an event for delivery, applying the drop, duplicate and
// reorder faults. It may be called with s.mu held.
func (d *deliverer) enqueue(event string, body []byte) {
	s := d.s
	f := s.Faults()
	if s.draw(f.WebhookDropRate) {
		s.count(func(st *Stats) { st.WebhooksDropped++ })
		s.log.Debug("sim: dropping webhook by fault", "event", event)
		return
	}
	copies := 1
	if s.draw(f.WebhookDuplicateRate) {
		copies = 2
		s.count(func(st *Stats) { st.WebhooksDuplicated++ })
	}
	id := newID("evt_")
	now := time.Now()
	d.mu.Lock()
	for range copies {
		d.seq++
		heap.Push(&d.queue, &delivery{
			eventID: id, event: event, body: body,
			due: now.Add(s.randDuration(time.Duration(f.WebhookReorder))),
			seq: d.seq,
		})
	}
	d.mu.Unlock()
	s.count(func(st *Stats) { st.WebhooksPending += copies })
	d.poke()
}

func (d *deliverer) requeue(dl *delivery, due time.Time) {
	d.mu.Lock()
	d.seq++
	dl.due, dl.seq = due, d.seq
	heap.Push(&d.queue, dl)
	d.mu.Unlock()
	d.poke()
}

func (d *deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deliverer) start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.stopped {
		return
	}
	d.started = true
	ctx, d.cancel = context.WithCancel(ctx)
	work := make(chan *delivery)
	d.wg.Add(1 + d.s.cfg.WebhookWorkers)
	go d.dispatch(ctx, work)
	for range d.s.cfg.WebhookWorkers {
		go d.work(ctx, work)
	}
}

func (d *deliverer) stop() {
	d.mu.Lock()
	d.stopped = true
	cancel := d.cancel
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	d.wg.Wait()
	d.client.CloseIdleConnections()
}

// dispatch hands each delivery to a worker once it is due.
func (d *deliverer) dispatch(ctx context.Context, work chan<- *delivery) {
	defer d.wg.Done()
	defer close(work)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var (
			next *delivery
			wait time.Duration = -1
		)
		d.mu.Lock()
		if len(d.queue) > 0 {
			if w := time.Until(d.queue[0].due); w <= 0 {
				next = heap.Pop(&d.queue).(*delivery)
			} else {
				wait = w
			}
		}
		d.mu.Unlock()

		if next != nil {
			select {
			case work <- next:
				continue
			case <-ctx.Done():
				return
			}
		}
		if wait >= 0 {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// work POSTs deliveries until the channel closes.
func (d *deliverer) work(ctx context.Context, work <-chan *delivery) {
	defer d.wg.Done()
	s := d.s
	for dl := range work {
		if d.attempt(ctx, dl) {
			s.count(func(st *Stats) { st.WebhooksAcknowledged++; st.WebhooksPending-- })
			continue
		}
		if ctx.Err() != nil {
			return // stopping: the delivery is abandoned, still pending
		}
		s.count(func(st *Stats) { st.WebhooksFailedAttempts++ })
		if dl.attempts > len(d.schedule) {
			s.count(func(st *Stats) { st.WebhooksGivenUp++; st.WebhooksPending-- })
			s.log.Warn("sim: webhook given up", "event", dl.event, "delivery", dl.eventID, "attempts", dl.attempts)
			continue
		}
		d.requeue(dl, time.Now().Add(d.schedule[dl.attempts-1]))
	}
}

// attempt makes one POST and reports whether it was answered exactly 200.
func (d *deliverer) attempt(ctx context.Context, dl *delivery) bool {
	s := d.s
	dl.attempts++
	url := s.currentWebhookURL()
	if url == "" {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(dl.body))
	if err != nil {
		s.log.Warn("sim: webhook request", "error", err)
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(s.cfg.WebhookSecret, dl.body))
	req.Header.Set(docuparse.HeaderEvent, dl.event)
	req.Header.Set(docuparse.HeaderDelivery, dl.eventID)
	req.Header.Set("User-Agent", "docuparse-sim")
	s.count(func(st *Stats) { st.WebhooksAttempted++ })
	resp, err := d.client.Do(req)
	if err != nil {
		s.log.Debug("sim: webhook attempt failed", "event", dl.event, "delivery", dl.eventID, "attempt", dl.attempts, "error", err)
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.log.Debug("sim: webhook answered non-200", "event", dl.event, "delivery", dl.eventID, "attempt", dl.attempts, "status", resp.StatusCode)
		return false
	}
	return true
}
