package binrun

import (
	"os"
	"testing"
)

func TestReadUsageReadsThisProcess(t *testing.T) {
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.HWM <= 0 || u.RSS <= 0 || u.RSS > u.HWM || u.FDs < 3 {
		t.Errorf("usage %+v: want a positive peak at least the current RSS, and stdin/out/err open", u)
	}
	if n, err := kB("  1234 kB"); err != nil || n != 1234*1024 {
		t.Errorf(`kB("  1234 kB") = %d, %v`, n, err)
	}
}
