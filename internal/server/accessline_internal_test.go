package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/cli"
)

// TestAccessLineIsSlogText checks that an access line appended by hand is
// byte for byte what slog.TextHandler writes for the same record, for
// paths and values that need quoting and for every optional field.
func TestAccessLineIsSlogText(t *testing.T) {
	at := time.Date(2026, 11, 30, 10, 4, 5, 678_901_234, time.FixedZone("X", 3600))
	paths := []string{"/", "/rpc_package.HelloWorldService/SayHello", "/v1/hello/Zoë / 世界", `/a"b`, "/a=b",
		"/tab\there", "/new\nline", "/back\\slash", "/bad\xffutf8", "/\x7f", "/nbsp\u00a0", "/zw\u200b", "/emoji😀", ""}
	for r := rune(0); r < 0x3100; r += 7 { // every class of character slog quotes, or not
		paths = append(paths, "/x"+string(r))
	}
	for _, path := range paths {
		for _, l := range []accessLine{
			{method: "POST", protocol: "connect", proto: "HTTP/1.1", status: 200, code: "ok", duration: 1234567, bytesIn: 15, bytesOut: 26},
			{method: "GET", protocol: "http", proto: "HTTP/2.0", status: 404, duration: 987 * time.Microsecond},
			{method: "PRI", protocol: "grpc", proto: "HTTP/2.0", status: 200, code: "deadline_exceeded", duration: 3 * time.Second,
				bytesIn: -1, traceID: "0af7651916cd43dd8448eb211c80319c", spanID: "b7ad6b7169203331"},
		} {
			l.at, l.path = at, path
			var got, want bytes.Buffer
			l.write(&got)

			r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("method", l.method), slog.String("path", l.path), slog.String("protocol", l.protocol),
				slog.String("http", l.proto), slog.Int("status", l.status))
			if l.code != "" {
				r.AddAttrs(slog.String("code", l.code))
			}
			r.AddAttrs(slog.Duration("duration", l.duration), slog.Int64("bytes_in", l.bytesIn), slog.Int64("bytes_out", l.bytesOut))
			if l.traceID != "" {
				r.AddAttrs(slog.String("trace_id", l.traceID), slog.String("span_id", l.spanID))
			}
			if err := slog.NewTextHandler(&want, nil).Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("path %q:\n got %q\nwant %q", path, got.String(), want.String())
			}
		}
	}
}

// TestAccessLogTakesTheFastPathWithCLITextHandler checks that with a
// cli.TextHandler the access log writes its own lines (the same format),
// and that other log lines still go through slog.
func TestAccessLogTakesTheFastPathWithCLITextHandler(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(cli.NewTextHandler(&buf, nil))
	h := accessLog(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hi"))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/a%20b", nil))
	logger.Info("other", "k", "v w")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	if !strings.Contains(lines[0], ` level=INFO msg=request method=GET path="/a b" protocol=http http=HTTP/1.1 status=200 duration=`) ||
		!strings.HasSuffix(lines[0], " bytes_in=0 bytes_out=2") {
		t.Errorf("access line: %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], ` level=INFO msg=other k="v w"`) {
		t.Errorf("other line: %q", lines[1])
	}
}

// TestAppendMillisIsTheLayout checks the access line's time, whose text is
// kept from one line to the next of the same second, against time's layout:
// times in and across seconds, in zones east, west and UTC, before 1970 and
// in a zone's change of offset.
func TestAppendMillisIsTheLayout(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*3600) // no tzdata here: still a zone west
	}
	zones := []*time.Location{time.UTC, time.FixedZone("X", 3600), time.FixedZone("Y", -(9*3600 + 30*60)), ny, time.Local}
	starts := []time.Time{
		time.Date(2026, 11, 30, 10, 4, 5, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 58, 0, time.UTC),
		time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC), // 2 a.m. in New York: the offset changes
	}
	for _, start := range starts {
		for step := time.Duration(0); step < 3*time.Second; step += 7_654_321 {
			for _, zone := range zones { // one second in every zone in turn
				at := start.Add(step).In(zone)
				got := string(appendMillis(nil, at))
				if want := at.Format("2006-01-02T15:04:05.000Z07:00"); got != want {
					t.Fatalf("%v: got %s, want %s", at, got, want)
				}
			}
		}
	}
}
