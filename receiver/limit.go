package receiver

import (
	"log/slog"
	"net/http"
)

// limitInFlight serves next with at most n requests at once. A request that
// finds every slot taken is answered 503 with Retry-After: 1 at once, without
// reading its body, and its connection is closed: under a flood, neither
// goroutines held in handlers nor buffered bodies grow past n.
func limitInFlight(n int, next http.Handler, log *slog.Logger) http.Handler {
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			log.Debug("webhook request shed: too many in flight", "remote", r.RemoteAddr, "limit", n)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			http.Error(w, "too many requests in flight", http.StatusServiceUnavailable)
		}
	})
}
