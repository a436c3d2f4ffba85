package sim

import (
	"encoding/json"
	"maps"
	"net/http"
)

// Stats counts what the simulator did. It is also the JSON body of
// GET /_sim/stats.
type Stats struct {
	// Requests counts API requests by endpoint ("POST /batches",
	// "GET /documents/{id}", …, "other" for unknown paths) and status code;
	// 0 means the connection was dropped without an answer.
	Requests map[string]map[int]int `json:"requests"`

	DocumentsCreated   int `json:"documents_created"`
	BatchesCreated     int `json:"batches_created"`
	DocumentsCompleted int `json:"documents_completed"`
	DocumentsFailed    int `json:"documents_failed"`
	// CreatedBySHA256 counts documents created per content hash (lowercase
	// hex): above 1 means the same bytes were submitted more than once.
	CreatedBySHA256 map[string]int `json:"created_by_sha256"`

	IdempotentReplays    int `json:"idempotent_replays"`
	IdempotencyConflicts int `json:"idempotency_conflicts"`

	// WebhooksAttempted counts POSTs made; WebhooksAcknowledged the ones
	// answered 200; WebhooksFailedAttempts the others (status, error or
	// timeout).
	WebhooksAttempted      int `json:"webhooks_attempted"`
	WebhooksAcknowledged   int `json:"webhooks_acknowledged"`
	WebhooksFailedAttempts int `json:"webhooks_failed_attempts"`
	// WebhooksDropped counts events never sent (fault); WebhooksDuplicated
	// events queued twice (fault); WebhooksGivenUp deliveries abandoned after
	// the last retry; WebhooksPending deliveries neither acknowledged nor
	// given up yet (after Stop: abandoned).
	WebhooksDropped    int `json:"webhooks_dropped"`
	WebhooksDuplicated int `json:"webhooks_duplicated"`
	WebhooksGivenUp    int `json:"webhooks_given_up"`
	WebhooksPending    int `json:"webhooks_pending"`

	Injected429        int `json:"injected_429"`
	Injected503        int `json:"injected_503"`
	ConnectionsDropped int `json:"connections_dropped"`
	// UploadsStalled counts submits that stopped reading their body
	// (UploadStallRate).
	UploadsStalled int `json:"uploads_stalled"`
	// RefusedWhileDown counts API requests whose connection was closed
	// because Faults.Down was set; ResponsesDelayed submits whose answer
	// was held by Faults.ResponseDelay.
	RefusedWhileDown int `json:"refused_while_down"`
	ResponsesDelayed int `json:"responses_delayed"`
}

func newStats() Stats {
	return Stats{Requests: map[string]map[int]int{}, CreatedBySHA256: map[string]int{}}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := s.stats
	out.Requests = make(map[string]map[int]int, len(s.stats.Requests))
	for k, v := range s.stats.Requests {
		out.Requests[k] = maps.Clone(v)
	}
	out.CreatedBySHA256 = maps.Clone(s.stats.CreatedBySHA256)
	return out
}

// count applies f to the counters under their lock.
func (s *Server) count(f func(st *Stats)) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	f(&s.stats)
}

func (s *Server) countRequest(endpoint string, status int) {
	s.count(func(st *Stats) {
		m := st.Requests[endpoint]
		if m == nil {
			m = map[int]int{}
			st.Requests[endpoint] = m
		}
		m[status]++
	})
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.Stats())
}
