package config

import (
	"strings"
	"testing"
)

func TestWarningsNameEachRiskyKey(t *testing.T) {
	for _, tc := range []struct {
		receiver, admin string
		enabled         bool
		unsigned        bool
		want            string // the keys warned about, joined by ","
	}{
		{"127.0.0.1:8080", "127.0.0.1:9090", true, false, ""},
		{"[::1]:8080", "localhost:9090", true, false, ""},
		{"127.0.0.1:8080", "", true, false, ""},
		{"0.0.0.0:8080", "0.0.0.0:9090", false, false, "admin.listen"},
		{":8080", "[::]:9090", true, false, "receiver.listen,admin.listen"},
		{"10.1.2.3:8080", "127.0.0.1:9090", true, false, "receiver.listen"},
		{"host.example:8080", "127.0.0.1:9090", true, false, "receiver.listen"},
		{"127.0.0.1:8080", "127.0.0.1:9090", true, true, "receiver.insecure_skip_verify"},
		{"127.0.0.1:8080", "127.0.0.1:9090", false, true, ""},
	} {
		c := &Config{Receiver: Receiver{Enabled: tc.enabled, Listen: tc.receiver, AllowUnsigned: tc.unsigned}, Admin: Admin{Listen: tc.admin}}
		var keys []string
		for _, w := range c.Warnings() {
			keys = append(keys, w.Key)
			if !strings.HasPrefix(w.String(), w.Key+": ") {
				t.Errorf("%q does not start with its key", w)
			}
		}
		if got := strings.Join(keys, ","); got != tc.want {
			t.Errorf("receiver %q (enabled %v, unsigned %v), admin %q: warnings for %q, want %q", tc.receiver, tc.enabled, tc.unsigned, tc.admin, got, tc.want)
		}
	}
}
