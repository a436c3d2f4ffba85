package sim

import (
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// idempotencyWindow is how long a submit response is remembered (assumed by
// the contract).
const idempotencyWindow = 24 * time.Hour

// idemEntry is one Idempotency-Key of one endpoint: in flight until the first
// request finishes, then its response body.
type idemEntry struct {
	done bool
	body []byte
	at   time.Time // claimed, then answered (sim clock)
}

// validIdempotencyKey reports whether k is 1 to 255 printable ASCII
// characters.
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > docuparse.MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7E {
			return false
		}
	}
	return true
}

// claimResult says what a submit must do with its key.
type claimResult int

const (
	claimNew      claimResult = iota // go ahead; the key is now in flight
	claimReplay                      // answer 200 with the remembered body
	claimConflict                    // the first request is still in flight: 409
)

// claimKey looks the key up for endpoint and claims it when it is new or
// expired. Keys are scoped per endpoint.
func (s *Server) claimKey(endpoint, key string) (claimResult, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := endpoint + "\x00" + key
	now := s.now()
	if e, ok := s.idem[k]; ok && now.Sub(e.at) < idempotencyWindow {
		if !e.done {
			return claimConflict, nil
		}
		return claimReplay, e.body
	}
	s.idem[k] = &idemEntry{at: now}
	return claimNew, nil
}

// releaseKey forgets a claimed key after a failed request: failures are not
// remembered, so the client may try again with the same key.
func (s *Server) releaseKey(endpoint, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.idem, endpoint+"\x00"+key)
}

// rememberLocked stores the response of a successful request under its key
// and, at most once an hour, forgets keys past the window. s.mu must be held.
func (s *Server) rememberLocked(endpoint, key string, body []byte) {
	now := s.now()
	if now.Sub(s.lastSweep) >= time.Hour {
		s.lastSweep = now
		for k, e := range s.idem {
			if e.done && now.Sub(e.at) >= idempotencyWindow {
				delete(s.idem, k)
			}
		}
	}
	s.idem[endpoint+"\x00"+key] = &idemEntry{done: true, body: body, at: now}
}
