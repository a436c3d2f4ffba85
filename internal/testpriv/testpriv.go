// Package testpriv owns the tests that need file permissions to bind: an
// unreadable file or directory can only be built for a process that
// permissions stop, and root (or anything holding CAP_DAC_OVERRIDE) reads
// everything. Only tests import it.
//
// Such a test is named TestUnprivileged… and calls Require first. Run
// normally (as root in CI), it skips; .ci/run then runs every
// TestUnprivileged… test again as the user nobody with
// DOCUPARSE_REQUIRE_UNPRIVILEGED=1, and there a test that still finds
// itself privileged fails instead of skipping, so CI cannot pass without
// running it.
package testpriv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvRequire is the environment variable that turns Require's skip into a
// failure.
const EnvRequire = "DOCUPARSE_REQUIRE_UNPRIVILEGED"

// Prefix starts the name of every test that calls Require: .ci/run selects
// the tests it runs as nobody by it.
const Prefix = "TestUnprivileged"

// Require returns if file permissions bind this process. Otherwise it
// skips the test, or fails it when EnvRequire is set. It fails a test whose
// name lacks Prefix, which CI would never run unprivileged.
func Require(t *testing.T) {
	t.Helper()
	if !strings.HasPrefix(t.Name(), Prefix) {
		t.Fatalf("%s calls testpriv.Require: name it %s… so that .ci/run runs it as an unprivileged user", t.Name(), Prefix)
	}
	if permissionsBind(t) {
		return
	}
	if os.Getenv(EnvRequire) != "" {
		t.Fatalf("%s is set but this process (euid %d) reads a file of mode 000: the test cannot see what it checks", EnvRequire, os.Geteuid())
	}
	t.Skipf("this process (euid %d) reads a file of mode 000; .ci/run runs this test as nobody", os.Geteuid())
}

// permissionsBind reports whether opening a file of mode 000 fails, which
// is what the test needs, whatever the uid or capabilities behind it.
func permissionsBind(t *testing.T) bool {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(p, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		return true
	}
	f.Close()
	return false
}
