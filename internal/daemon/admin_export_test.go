package daemon

// AdminAddr exposes the admin listener's bound address to tests.
func (d *Daemon) AdminAddr() string { return d.admin.Addr() }
