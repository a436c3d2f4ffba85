package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// usage is what /proc says about a measured process when it is done.
type usage struct {
	HWM int64         // peak resident memory since start, bytes (VmHWM)
	CPU time.Duration // user + system CPU time so far
	Sys time.Duration // of which system (in the kernel: I/O, fsync, network)
}

// clockTicks is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// readUsage reads pid's VmHWM and its CPU time.
func readUsage(pid int) (usage, error) {
	hwm, err := binrun.PeakRSS(pid)
	if err != nil {
		return usage{}, err
	}
	cpu, sys, err := cpuTime(pid)
	return usage{HWM: hwm, CPU: cpu, Sys: sys}, err
}

// cpuTime returns pid's utime + stime, and stime, from /proc/PID/stat.
func cpuTime(pid int) (total, sys time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime (fields 14 and 15) of a /proc/PID/stat
// line and returns their sum and stime; the command name before them is
// in parentheses and may hold spaces, so fields are counted after the
// last ')'.
func parseStat(line string) (total, sys time.Duration, err error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc stat %q: no command name", line)
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc stat %q: too few fields", line)
	}
	var ticks [2]int64
	for j, s := range f[11:13] { // fields 14 and 15; f[0] is field 3
		if ticks[j], err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc stat: %w", err)
		}
	}
	tick := time.Second / clockTicks
	return time.Duration(ticks[0]+ticks[1]) * tick, time.Duration(ticks[1]) * tick, nil
}
