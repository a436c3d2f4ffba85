package store

import (
	"runtime"
	"testing"
)

func TestReserveWriterProcAddsOnePOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "")
	base := defaultProcs()
	if got := ReserveWriterProc(); got != base+1 || runtime.GOMAXPROCS(0) != base+1 {
		t.Fatalf("ReserveWriterProc = %d, GOMAXPROCS %d; want %d", got, runtime.GOMAXPROCS(0), base+1)
	}
	if got := ReserveWriterProc(); got != base+1 {
		t.Fatalf("a second call gave %d, want %d still", got, base+1)
	}
}

func TestReserveWriterProcLeavesAnExplicitSettingAlone(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "7")
	runtime.GOMAXPROCS(7) // as the runtime would have at start
	if got := ReserveWriterProc(); got != 7 || runtime.GOMAXPROCS(0) != 7 {
		t.Fatalf("ReserveWriterProc = %d with GOMAXPROCS=7 in the environment", got)
	}
}
