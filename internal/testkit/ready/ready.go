// Package ready follows a hello-server from the outside, as its tests and the
// interop matrix start it: Addr reads the address from the first line the
// server prints, and Wait polls its health check until it answers SERVING.
package ready

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Addr returns the host:port from hello-server's first line of output,
// "hello-server listening on HOST:PORT (...)".
func Addr(line string) (string, error) {
	fields := strings.Fields(line)
	if len(fields) < 4 || fields[0] != "hello-server" || fields[1] != "listening" {
		return "", fmt.Errorf("hello-server's first line does not name its address: %q", line)
	}
	return fields[3], nil
}

// Wait polls the grpc.health.v1 check of the server at baseURL over Connect
// JSON until it answers SERVING, for up to 30 s (a loaded machine starts a
// server slowly) or until ctx ends.
func Wait(ctx context.Context, client *http.Client, baseURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/grpc.health.v1.Health/Check", strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(body), `"SERVING_STATUS_SERVING"`) {
				return nil
			}
			err = fmt.Errorf("health answered %s: %s", res.Status, body)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("server at %s not healthy within 30s: %v", baseURL, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
