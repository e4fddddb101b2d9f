package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/hellorpc/hellorpc/internal/cli"
)

// logFormat is -log-format: "text" (slog's text format) or "json" (slog's
// JSON format, one object a line).
type logFormat string

// String returns the format's name.
func (f *logFormat) String() string { return string(*f) }

// Set takes "text" or "json" and refuses anything else.
func (f *logFormat) Set(s string) error {
	switch s {
	case "text", "json":
		*f = logFormat(s)
		return nil
	}
	return fmt.Errorf("log format %q: want text or json", s)
}

// handler returns a slog handler writing f to w at level. The text one is
// cli's, to which the access log appends its lines itself.
func (f logFormat) handler(w io.Writer, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if f == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return cli.NewTextHandler(w, opts)
}

// loggers returns the server's log at level and its access log, both in
// format f to w: the access log writes its Info lines whatever the level
// when accessLog is on, and nothing when it is off.
func loggers(f logFormat, w io.Writer, level slog.Level, accessLog bool) (logger, access *slog.Logger) {
	logger = slog.New(f.handler(w, level))
	if !accessLog {
		return logger, slog.New(slog.DiscardHandler)
	}
	if level <= slog.LevelInfo {
		return logger, logger
	}
	return logger, slog.New(f.handler(w, slog.LevelInfo))
}
