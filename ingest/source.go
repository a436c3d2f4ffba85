package ingest

import "context"

// Source finds input and hands each settled file or object to intake as a
// Candidate: a watched folder (Folder) or a listed bucket prefix (Bucket).
type Source interface {
	// Start begins watching or listing and returns at once.
	Start(ctx context.Context) error
	// Stop stops it and waits; safe twice, and before Start.
	Stop()
	// Running reports whether it was started and not stopped.
	Running() bool
	// Healthy says why it is not doing its work, or nil (for /readyz).
	Healthy() error
	// Rescan asks for a full listing as soon as possible.
	Rescan()
}

var (
	_ Source = (*Folder)(nil)
	_ Source = (*Bucket)(nil)
)
