package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/telemetry/traceexport"
)

// traceFlushTimeout bounds the last export at shutdown: the batcher's
// spans go out to the collector, or are dropped when it does not answer
// within this time, so a collector that is down does not hold the exit up.
const traceFlushTimeout = 5 * time.Second

// startTraces sets traces up as the OTEL_* variables (read through getenv)
// and -telemetry ask: spans are made when -telemetry is on or an exporter
// is configured, and exported when it is. It returns nil when they are
// off, and stop, which flushes the exporter (within traceFlushTimeout) and
// must be called once the server has drained.
func startTraces(ctx context.Context, getenv func(string) string, on bool, logger *slog.Logger) (t *telemetry.Telemetry, stop func(), err error) {
	settings, err := traceexport.FromEnv(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	if !on && settings.Exporter == nil {
		return nil, func() {}, nil
	}
	opts := telemetry.Options{Sampler: settings.Sampler, Resource: settings.Resource}
	restore := func() {}
	if settings.Exporter != nil {
		opts.SpanProcessors = []sdktrace.SpanProcessor{sdktrace.NewBatchSpanProcessor(settings.Exporter)}
		// Export failures (a collector down) are reported through
		// otel.Handle: into the server's log, not the standard logger's.
		prev := otel.GetErrorHandler()
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { logger.Warn("trace export", "err", err) }))
		restore = func() { otel.SetErrorHandler(prev) }
		endpoint := settings.Endpoint
		if endpoint == "" {
			endpoint = "the exporter's default (localhost)"
		}
		logger.Info("exporting traces", "protocol", settings.Protocol, "endpoint", endpoint)
	}
	t, err = telemetry.New(opts)
	if err != nil {
		if settings.Exporter != nil {
			_ = settings.Exporter.Shutdown(ctx)
		}
		restore()
		return nil, nil, err
	}
	return t, func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), traceFlushTimeout)
		defer cancel()
		if err := t.Shutdown(flushCtx); err != nil {
			logger.Warn("trace export at shutdown", "err", err)
		}
		restore()
	}, nil
}
