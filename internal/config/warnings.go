package config

import (
	"fmt"
	"net"
)

// Warning is a setting that is valid but exposes the daemon: check-config
// prints it (and still passes), and the daemon logs it at start.
type Warning struct {
	Key string // dotted key, e.g. "receiver.listen"
	Msg string // what it exposes, and what to do
}

// String formats "key: message".
func (w Warning) String() string { return w.Key + ": " + w.Msg }

// Warnings lists the risky settings of a valid configuration: a webhook
// receiver (when enabled) or an admin server (when on) that binds an
// address other hosts can reach — every interface, a non-loopback IP, or
// a host name, which is not resolved here and so is warned about — and
// unsigned webhooks accepted. It does no I/O.
func (c *Config) Warnings() []Warning {
	var out []Warning
	r := c.Receiver
	if r.Enabled {
		if where := exposure(r.Listen); where != "" {
			out = append(out, Warning{"receiver.listen", fmt.Sprintf("%q %s: the receiver speaks plain HTTP, and anyone who can "+
				"reach it can open connections and send requests before any signature is checked; listen on 127.0.0.1 "+
				"behind a TLS reverse proxy", r.Listen, where)})
		}
		if r.AllowUnsigned {
			out = append(out, Warning{"receiver.insecure_skip_verify", "true: webhooks are accepted without a valid " +
				"signature, so any local user or process that reaches receiver.listen can post forged results; " +
				"for local testing only"})
		}
	}
	if a := c.Admin.Listen; a != "" {
		if where := exposure(a); where != "" {
			out = append(out, Warning{"admin.listen", fmt.Sprintf("%q %s: /metrics, /healthz and /readyz have no "+
				"authentication and tell anyone who can reach them the sources, document counts and the daemon's "+
				"health; listen on 127.0.0.1, or put something that authenticates in front", a, where)})
		}
	}
	return out
}

// exposure says how a host:port listen address may be reachable from
// other hosts, or "" when it binds loopback only.
func exposure(hostPort string) string {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil || loopbackHost(host) {
		return ""
	}
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		return "binds every interface"
	case ip != nil:
		return "binds " + ip.String() + ", which is not loopback"
	default:
		return "is a host name: the listener binds whatever it resolves to, which may not be loopback " +
			"(use an IP address to be sure)"
	}
}
