package rest

import (
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
)

// streamReplies answers GET /v1/hello/{name}/replies: the replies of
// LotsOfReplies as newline-delimited JSON (application/x-ndjson), one
// HelloReply a line, or as server-sent events ("Accept: text/event-stream"),
// one "data:" event a reply, each flushed as it comes. An error before the
// first reply is answered as every REST error: its HTTP status and a
// google.rpc.Status in JSON; after it, as a last line {"error": Status}
// (NDJSON) or an "error" event (SSE).
func streamReplies(client *connect.Client[rpc.HelloRequest, rpc.HelloReply]) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := connect.NewRequest(&rpc.HelloRequest{Name: r.PathValue("name")})
		for _, h := range []string{"Traceparent", "Tracestate"} {
			if v := r.Header.Get(h); v != "" {
				req.Header().Set(h, v)
			}
		}
		sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
		stream, err := client.CallServerStream(r.Context(), req)
		if err != nil {
			WriteError(w, err)
			return
		}
		defer stream.Close()
		started := false
		start := func() {
			started = true
			if sse {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Header().Set("Cache-Control", "no-store")
			} else {
				w.Header().Set("Content-Type", "application/x-ndjson")
			}
			w.WriteHeader(http.StatusOK)
		}
		flusher, _ := w.(http.Flusher)
		for stream.Receive() {
			line, err := protojson.Marshal(stream.Msg())
			if err != nil {
				break
			}
			if !started {
				start()
			}
			if sse {
				_, err = fmt.Fprintf(w, "data: %s\n\n", line)
			} else {
				_, err = fmt.Fprintf(w, "%s\n", line)
			}
			if err != nil {
				return // the client is gone
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err := stream.Err(); err != nil {
			if !started {
				WriteError(w, err)
				return
			}
			body := statusJSON(err)
			if sse {
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", body)
			} else {
				fmt.Fprintf(w, "{\"error\":%s}\n", body)
			}
			return
		}
		if !started {
			start()
		}
	})
}
