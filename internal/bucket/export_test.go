package bucket

import (
	"testing"
	"time"
)

// SetPageTimeout sets the listing's page timeout for the test t.
func SetPageTimeout(t *testing.T, d time.Duration) {
	old := pageTimeout
	pageTimeout = d
	t.Cleanup(func() { pageTimeout = old })
}
