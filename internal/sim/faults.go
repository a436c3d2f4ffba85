package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Faults are the fault knobs that can change while the simulator runs:
// New takes them from Config, SetFaults and POST /_sim/faults change them.
// A fault-injection suite keeps one simulator (and so its record of what
// it created) for a whole run and turns faults on and off in bursts.
type Faults struct {
	WebhookDropRate      float64  `json:"webhook_drop_rate"`
	WebhookDuplicateRate float64  `json:"webhook_duplicate_rate"`
	WebhookReorder       Duration `json:"webhook_reorder"`
	Rate429              float64  `json:"rate_429"`
	Rate503              float64  `json:"rate_503"`
	RetryAfterSeconds    int      `json:"retry_after_seconds"`
	DropConnectionRate   float64  `json:"drop_connection_rate"`
	SubmitDelay          Duration `json:"submit_delay"`
	// ResponseDelay holds a submit's answer this long after its documents
	// were created, so their webhooks can arrive before the answer does.
	ResponseDelay Duration `json:"response_delay"`
	// Down makes the API unreachable: every API request's connection is
	// closed without an answer and nothing is created. /_sim/ stays up.
	Down bool `json:"down"`
	// RevokeKey refuses Config.APIKey as if it had been revoked: every API
	// request is answered 401, as for a wrong key.
	RevokeKey bool `json:"revoke_key"`
	// UploadRate, when above 0, reads every submit's body at this many
	// bytes per second (a slow uplink), in place of Config.UploadRate.
	UploadRate int64 `json:"upload_rate"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("1.5s"); a number is read as nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want a string like \"1.5s\": %s", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// validate checks the ranges New checks for the same knobs.
func (f Faults) validate() error {
	for name, p := range map[string]float64{
		"WebhookDropRate": f.WebhookDropRate, "WebhookDuplicateRate": f.WebhookDuplicateRate,
		"Rate429": f.Rate429, "Rate503": f.Rate503, "DropConnectionRate": f.DropConnectionRate,
	} {
		if p < 0 || p > 1 || p != p {
			return fmt.Errorf("sim: %s %v is outside 0..1", name, p)
		}
	}
	for name, d := range map[string]Duration{
		"WebhookReorder": f.WebhookReorder, "SubmitDelay": f.SubmitDelay, "ResponseDelay": f.ResponseDelay,
	} {
		if d < 0 {
			return fmt.Errorf("sim: %s %v is negative", name, time.Duration(d))
		}
	}
	if f.RetryAfterSeconds < 0 {
		return fmt.Errorf("sim: RetryAfterSeconds %d is negative", f.RetryAfterSeconds)
	}
	return nil
}

func faultsOf(cfg Config) Faults {
	return Faults{
		WebhookDropRate:      cfg.WebhookDropRate,
		WebhookDuplicateRate: cfg.WebhookDuplicateRate,
		WebhookReorder:       Duration(cfg.WebhookReorder),
		Rate429:              cfg.Rate429,
		Rate503:              cfg.Rate503,
		RetryAfterSeconds:    cfg.RetryAfterSeconds,
		DropConnectionRate:   cfg.DropConnectionRate,
		SubmitDelay:          Duration(cfg.SubmitDelay),
	}
}

// Faults returns the fault knobs in force.
func (s *Server) Faults() Faults {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.faults
}

// SetFaults replaces the fault knobs from now on; requests already past a
// fault's check are not affected. A RetryAfterSeconds of 0 means 1.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	if f.RetryAfterSeconds == 0 {
		f.RetryAfterSeconds = 1
	}
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	s.faults = f
	return nil
}

// handleFaults serves GET /_sim/faults (the knobs in force) and
// POST /_sim/faults: the JSON body's fields replace the knobs they name,
// the others stay; a bad value is a 400 and changes nothing.
func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		f := s.Faults()
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.SetFaults(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s.Faults())
}
