package binrun

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Usage is what /proc says about a process at one moment.
type Usage struct {
	HWM int64 // peak resident memory since start, bytes (VmHWM)
	RSS int64 // resident memory now, bytes (VmRSS)
	FDs int   // open descriptors
}

// ReadUsage reads pid's VmHWM, VmRSS and descriptor count.
func ReadUsage(pid int) (Usage, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, err
	}
	defer f.Close()
	var u Usage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch name {
		case "VmHWM":
			u.HWM, err = kB(value)
		case "VmRSS":
			u.RSS, err = kB(value)
		}
		if err != nil {
			return Usage{}, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Usage{}, err
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return Usage{}, err
	}
	u.FDs = len(fds)
	return u, nil
}

// kB parses "   1234 kB" into bytes.
func kB(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
	return n * 1024, err
}

// MB formats bytes as mebibytes with one decimal.
func MB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
