package cli

import (
	"io"
	"log/slog"
)

// TextHandler is slog's text handler that also hands out its writer, so that
// a caller logging one fixed kind of line very often (the access log, a line
// per request) may append that line itself, in the same format, and write it
// whole: see server's access log. Everything else goes through slog as
// usual. The writer must take concurrent whole-line Writes (LogWriter does).
type TextHandler struct {
	*slog.TextHandler
	w io.Writer
}

// NewTextHandler returns a TextHandler writing to w with opts, as
// slog.NewTextHandler does.
func NewTextHandler(w io.Writer, opts *slog.HandlerOptions) *TextHandler {
	return &TextHandler{TextHandler: slog.NewTextHandler(w, opts), w: w}
}

// LineWriter returns the writer of the handler's lines.
func (h *TextHandler) LineWriter() io.Writer { return h.w }
