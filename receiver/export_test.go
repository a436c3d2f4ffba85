package receiver

import "time"

// SetApplierInterval sets the applier's safety-net ticker, so a test can
// prove that Notify, not the ticker, woke it.
func SetApplierInterval(a *Applier, d time.Duration) { a.interval = d }
