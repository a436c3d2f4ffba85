// Package teststop owns what a test needs to see that a part stopped: that
// Stop returned within a generous bound, and that no goroutine is left
// running the part's code. Only tests import it.
//
// The goroutine check reads every goroutine's stack, so it sees the parts
// of other tests running at the same time: use it in a test that is not
// parallel, and take Goroutines before building the part so that leftovers
// of earlier tests are not counted.
package teststop

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Bound is how long Within lets Stop take: generous, since it only has to
// catch a Stop that hangs.
const Bound = 10 * time.Second

// Within calls stop and fails the test unless it returns within Bound.
func Within(t *testing.T, what string, stop func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		stop()
	}()
	select {
	case <-done:
	case <-time.After(Bound):
		t.Fatalf("%s did not return within %v", what, Bound)
	}
}

// Goroutines returns the stacks of the goroutines executing a function
// whose qualified name contains frame, keyed by their "goroutine N"
// header. Give frame without the package path, as "(*Submitter).": a
// method inlined into its caller runs under a name such as
// "ingest.TestX.(*Intake).Start.func2". End frame with "(" to match the
// function itself and not the closures named after it. The "created by"
// line of a stack does not count: a goroutine started by the part but
// running other code is not the part's.
func Goroutines(frame string) map[string]string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	found := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, " [")
		for _, line := range strings.Split(g, "\n") {
			if !strings.HasPrefix(line, "created by ") && !strings.HasPrefix(line, "\t") && strings.Contains(line, frame) {
				found[header] = g
				break
			}
		}
	}
	return found
}

// Count returns how many goroutines executing frame were not in before (a
// result of Goroutines).
func Count(frame string, before map[string]string) int {
	n := 0
	for header := range Goroutines(frame) {
		if _, old := before[header]; !old {
			n++
		}
	}
	return n
}

// Left returns the stacks of goroutines executing frame that were not in
// before (a result of Goroutines), joined for a failure message; "" when
// there are none. It is asked after Stop returned, and a part's goroutine
// signals that it is done (closes a channel) a moment before it has
// returned: so Left waits up to Bound for such goroutines to end, and
// only those still there then are left. A leak fails all the same.
func Left(frame string, before map[string]string) string {
	deadline := time.Now().Add(Bound)
	for {
		var left []string
		for header, stack := range Goroutines(frame) {
			if _, old := before[header]; !old {
				left = append(left, stack)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(time.Millisecond)
	}
}
