package main

import (
	"context"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/config"
)

func (m *Main) runCheckConfig(_ context.Context, args []string) error {
	fs := m.newFlags("check-config")
	path := fs.String("config", config.DefaultPath, "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, m.Getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: ok (%d source(s); receiver %s; batch upload %t)\n",
		cfg.Name(), len(cfg.Sources), onOff(cfg.Receiver.Enabled), cfg.API.BatchUpload)
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
