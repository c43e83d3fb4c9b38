package app

import (
	"context"

	"github.com/callforward/callforward/forwarder/tracing"
)

// startTracing sets up tracing from the configuration (off without an
// OTLP endpoint).
func (a *App) startTracing() error {
	tcfg := a.cfg.Tracing
	tcfg.Logger = a.log
	t, err := tracing.New(context.Background(), tcfg)
	if err != nil {
		return err
	}
	a.tracing = t
	if t.Enabled() && tcfg.Endpoint != "" {
		a.log.Info("tracing on", "otlp_endpoint", tracing.Redact(tcfg.Endpoint), "sample_ratio", tcfg.SampleRatio)
	}
	return nil
}

// stopTracing exports the spans still buffered, within
// tracing.ShutdownTimeout; a collector that cannot take them costs the
// spans, not the stop.
func (a *App) stopTracing() {
	if a.tracing == nil {
		return
	}
	if err := a.tracing.Shutdown(context.Background()); err != nil {
		a.log.Warn("tracing: spans not exported at shutdown", "err", err)
	}
	a.tracing = nil
}
