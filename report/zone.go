package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zoneName names loc for people, so that the report names one zone: its
// IANA name ("Europe/Berlin", "UTC"); for the host's zone, which Go names
// "Local", the name it was configured by (TZ, /etc/localtime) when that
// zone agrees with it around t, or else its offset from UTC at t.
func zoneName(loc *time.Location, t time.Time) string {
	if loc == nil {
		return time.UTC.String()
	}
	if name := loc.String(); name != "Local" {
		return name
	}
	for _, cand := range localZoneNames() {
		if l, err := time.LoadLocation(cand); err == nil && sameOffsets(l, loc, t) {
			return cand
		}
	}
	_, off := t.In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("the server's local time, UTC%s%02d:%02d", sign, off/3600, off%3600/60)
}

// localZoneNames returns the names the host's zone may have been loaded
// by, most likely first.
func localZoneNames() []string {
	var out []string
	if tz := strings.TrimPrefix(os.Getenv("TZ"), ":"); tz != "" && !filepath.IsAbs(tz) {
		out = append(out, tz)
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			out = append(out, name)
		}
	}
	return out
}

// sameOffsets tells whether a and b have the same UTC offsets at t and
// half a year on (both sides of a daylight-saving change).
func sameOffsets(a, b *time.Location, t time.Time) bool {
	for _, at := range []time.Time{t, t.AddDate(0, 6, 0)} {
		_, oa := at.In(a).Zone()
		_, ob := at.In(b).Zone()
		if oa != ob {
			return false
		}
	}
	return true
}
