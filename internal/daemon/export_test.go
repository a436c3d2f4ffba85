package daemon

import "context"

// CheckSources exposes the readiness check of the sources to tests.
func (d *Daemon) CheckSources(ctx context.Context) error { return d.sourcesHealthy(ctx) }
