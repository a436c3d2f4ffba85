package testwait

import (
	"sync/atomic"
	"testing"
)

func TestOnSignalReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	wake := make(chan struct{})
	go func() {
		for range 3 {
			n.Add(1)
			wake <- struct{}{}
		}
	}()
	OnSignal(t, wake, "three signals", func() bool { return n.Load() == 3 })
	For(t, "a true condition", func() bool { return true })
}
