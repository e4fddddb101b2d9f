package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestAccessLogApartFromLogger checks Config.AccessLog: nil, the access
// lines go to Logger at its level; set, they go to it alone, whatever
// Logger's level; a logger that logs nothing at Info turns them off.
func TestAccessLogApartFromLogger(t *testing.T) {
	t.Parallel()
	jsonAt := func(b *servertest.Buffer, level slog.Level) *slog.Logger {
		return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level}))
	}
	for _, tt := range []struct {
		name                 string
		level                slog.Level // Logger's
		access               *slog.Level
		wantLogger, wantSelf int // access lines in Logger's log, in AccessLog's
	}{
		{name: "nil, Logger at info", level: slog.LevelInfo, wantLogger: 1},
		{name: "nil, Logger at warn", level: slog.LevelWarn},
		{name: "own at info, Logger at warn", level: slog.LevelWarn, access: new(slog.LevelInfo), wantSelf: 1},
		{name: "own at error, Logger at info", level: slog.LevelInfo, access: new(slog.LevelError)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs, access := &servertest.Buffer{}, &servertest.Buffer{}
			cfg := server.Config{Logger: jsonAt(logs, tt.level)}
			if tt.access != nil {
				cfg.AccessLog = jsonAt(access, *tt.access)
			}
			srv := servertest.Start(t, cfg)
			res, err := servertest.HTTP1Client(t).Post(srv.URL+sayHello, "application/json", strings.NewReader(`{"name":"eric"}`))
			assert.NoError(t, err, "SayHello")
			res.Body.Close()
			assert.Equal(t, res.StatusCode, http.StatusOK, "SayHello's status")
			srv.WaitIdle(t) // the line is written once the handler returns
			assert.Equal(t, len(logRecords(t, logs, "request")), tt.wantLogger, fmt.Sprintf("access lines in Logger's log:\n%s", logs))
			assert.Equal(t, len(logRecords(t, access, "request")), tt.wantSelf, fmt.Sprintf("access lines in AccessLog's:\n%s", access))
		})
	}
}
