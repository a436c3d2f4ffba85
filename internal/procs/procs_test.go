package procs

import (
	"runtime"
	"testing"
)

func TestWriterProcsAddsOnePUnlessTheOperatorOrAQuotaDecides(t *testing.T) {
	cpus := runtime.NumCPU()
	t.Setenv("GOMAXPROCS", "")
	if got := WriterProcs(cpus); got != cpus+1 {
		t.Errorf("WriterProcs(%d CPUs) = %d, want %d", cpus, got, cpus+1)
	}
	if cpus > 1 {
		if got := WriterProcs(cpus - 1); got != cpus-1 {
			t.Errorf("under a quota of %d of %d CPUs, WriterProcs = %d, want the quota", cpus-1, cpus, got)
		}
	}
	t.Setenv("GOMAXPROCS", "7")
	if got := WriterProcs(7); got != 7 {
		t.Errorf("with GOMAXPROCS=7 in the environment, WriterProcs = %d", got)
	}
}

func TestReserveWriterProcSetsItOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "")
	want := WriterProcs(defaultProcs())
	if got := ReserveWriterProc(); got != want || runtime.GOMAXPROCS(0) != want {
		t.Fatalf("ReserveWriterProc = %d, GOMAXPROCS %d; want %d", got, runtime.GOMAXPROCS(0), want)
	}
	if got := ReserveWriterProc(); got != want {
		t.Fatalf("a second call gave %d, want %d still", got, want)
	}
}
