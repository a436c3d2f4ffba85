package binrun

import (
	"os"
	"testing"
)

func TestPeakRSSReadsThisProcess(t *testing.T) {
	hwm, err := PeakRSS(os.Getpid())
	if err != nil || hwm < 1<<20 {
		t.Fatalf("PeakRSS(self) = %d, %v; want at least a MiB", hwm, err)
	}
	if _, err := PeakRSS(-1); err == nil {
		t.Fatal("PeakRSS of no process succeeded")
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3, 1, 2}, 2}, {[]float64{1, 2}, 2}, {[]float64{5}, 5}} {
		if got := Median(c.xs); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}
