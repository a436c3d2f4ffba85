package testext

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNeedSkipsOrFailsForAMissingProgram runs the test binary again on a
// test that needs a program nobody has: without EnvRequire it skips with
// the install hint, with EnvRequire=1 it fails.
func TestNeedSkipsOrFailsForAMissingProgram(t *testing.T) {
	if os.Getenv("TESTEXT_CHILD") == "1" {
		Need(t, "docuparse-no-such-program", "apt-get install no-such-package")
		return
	}
	if got := Need(t, "sh", "apt-get install dash"); got == "" {
		t.Fatal("Need found no sh")
	}
	for _, tc := range []struct {
		require string
		wantErr bool
		want    string
	}{
		{"", false, "--- SKIP"},
		{"1", true, "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNeedSkipsOrFailsForAMissingProgram$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTEXT_CHILD=1", EnvRequire+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantErr || !strings.Contains(string(out), tc.want) ||
			!strings.Contains(string(out), "apt-get install no-such-package") {
			t.Errorf("%s=%q: %v\n%s", EnvRequire, tc.require, err, out)
		}
	}
}
