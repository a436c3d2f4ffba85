// Package testext owns the tests' access to external programs that the Go
// toolchain does not bring: LibreOffice (to open generated CSV files in a
// real spreadsheet), and later Azurite or PostgreSQL. Only tests import it.
//
// A test calls Need first. Where the program is missing the test skips
// with one line saying how to install it, so `go test ./...` passes on a
// bare machine; .ci/run installs the programs and sets EnvRequire=1, which
// turns that skip into a failure, so CI cannot pass without running the
// test.
package testext

import (
	"os"
	"os/exec"
	"testing"
)

// EnvRequire is the environment variable that, set to "1", turns Need's
// skip into a failure.
const EnvRequire = "DOCUPARSE_REQUIRE_EXTERNAL"

// Need returns the path of the program binary found on PATH. When there is
// none it skips tb with a line naming the program and howToInstall (a
// command, say), or fails tb when EnvRequire is "1".
func Need(tb testing.TB, binary, howToInstall string) string {
	tb.Helper()
	path, err := exec.LookPath(binary)
	if err == nil {
		return path
	}
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("%s is not on PATH (%v) and %s=1 requires it; install it: %s", binary, err, EnvRequire, howToInstall)
	}
	tb.Skipf("%s is not on PATH; to run this test install it (%s), or set %s=1 to make its absence a failure", binary, howToInstall, EnvRequire)
	return ""
}
