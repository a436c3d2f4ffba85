package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBadFlagsAreRefusedBeforeAnythingRuns: a bad profile, kind or flag
// exits 2 with a message naming it, without building or starting anything.
func TestBadFlagsAreRefusedBeforeAnythingRuns(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "long"}, `unknown profile "long"`},
		{[]string{"--kinds", "kill9,meteor"}, `--kinds: unknown kind "meteor"`},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v: printed %q", c.args, out.String())
		}
	}
}
