// Package admin owns the daemon's admin HTTP listener: GET /healthz
// (liveness: 200 while the process serves), GET /readyz (readiness: 200 only
// when every configured check passes within its timeout, else 503 listing
// the failed checks) and GET /metrics (the handler it is given). It binds
// its address in New, so a port conflict is reported before anything
// starts, and sets read, write and idle timeouts.
//
// It does not own what is checked or measured: the checks are functions the
// daemon provides (store writable, sources watched, API reachable), and the
// /metrics handler comes from package metrics. It is not the webhook
// listener (package receiver), and it has no authentication: bind it to
// loopback or a private interface.
package admin
