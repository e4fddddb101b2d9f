package server

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// restPrefix starts every REST path; the bindings are the proto's
// google.api.http options.
const restPrefix = "/v1/"

// isREST reports whether r is a REST call (a path under restPrefix).
func isREST(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, restPrefix) }

// newREST returns the handler of the REST paths of HelloWorldService, which
// is served by svc (at the path prefix that connect-go gave it): unary
// bindings are transcoded by vanguard into Connect calls of svc, so that
// they pass the same interceptors (validation, outcome, drain) as every
// other call; LotsOfReplies, a server stream that vanguard serves over REST
// only for google.api.HttpBody replies, is answered by streamReplies.
//
// maxBytes bounds a REST request's body after decompression.
func newREST(prefix string, svc http.Handler, maxBytes int) (http.Handler, error) {
	transcoder, err := vanguard.NewTranscoder([]*vanguard.Service{
		vanguard.NewService(prefix, svc,
			vanguard.WithTargetProtocols(vanguard.ProtocolConnect),
			vanguard.WithTargetCodecs(vanguard.CodecProto)),
	}, vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
		return clientJSON{vanguard.NewJSONCodec(res)}
	}))
	if err != nil {
		return nil, fmt.Errorf("REST transcoder for %s: %w", prefix, err)
	}
	client := connect.NewClient[rpc.HelloRequest, rpc.HelloReply](inProcess{svc},
		"http://in-process"+rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure)
	request := (&rpc.HelloRequest{}).ProtoReflect().Descriptor() // every binding's input
	mux := http.NewServeMux()
	mux.Handle("GET /v1/hello/{name}/replies", streamReplies(client))
	// vanguard rewrites the request it transcodes (path, headers); it gets a
	// copy, so that the access log still sees the request as it came. It
	// matches the path segment by segment and decodes each itself, so it
	// gets the path as sent: a name may hold "/" as %2F, and "%" as %25.
	mux.Handle(restPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = r.URL.EscapedPath(), ""
		if r.Method == http.MethodHead {
			// HEAD is GET without the body (RFC 9110), which net/http drops
			// from the answer to a HEAD request by itself.
			r.Method = http.MethodGet
		}
		if err := checkQuery(r.URL.Query(), request); err != nil {
			writeRESTError(w, err)
			return
		}
		if err := clientBody(r, int64(maxBytes)); err != nil {
			writeRESTError(w, err)
			return
		}
		transcoder.ServeHTTP(&jsonContentType{ResponseWriter: w}, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkUTF8(r.URL); err != nil {
			writeRESTError(w, err)
			return
		}
		mux.ServeHTTP(w, r)
	}), nil
}

// checkUTF8 refuses a REST path or query whose decoded text is not valid
// UTF-8 (%80, say), with invalid_argument: the text becomes a proto string
// field, which must be valid UTF-8, and vanguard (or the in-process client
// of streamReplies) would fail to encode it and answer internal (500).
func checkUTF8(u *url.URL) error {
	if !utf8.ValidString(u.Path) {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("path %q is not valid UTF-8 once decoded", u.EscapedPath()))
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("query %q: %w", u.RawQuery, err))
	}
	for key, values := range query {
		if !utf8.ValidString(key) {
			return connect.NewError(connect.CodeInvalidArgument,
				fmt.Errorf("query parameter %q is not valid UTF-8 once decoded", url.QueryEscape(key)))
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return connect.NewError(connect.CodeInvalidArgument,
					fmt.Errorf("query parameter %q: value %q is not valid UTF-8 once decoded", key, url.QueryEscape(v)))
			}
		}
	}
	return nil
}

// jsonContentType corrects the Content-Type of vanguard's answers to a body
// it could not decode: the error is JSON, labelled with the target's
// application/proto. Every REST answer here is JSON.
type jsonContentType struct {
	http.ResponseWriter
	checked bool
}

func (w *jsonContentType) check() {
	if !w.checked {
		w.checked = true
		if h := w.Header(); h.Get("Content-Type") == "application/proto" {
			h.Set("Content-Type", "application/json")
		}
	}
}

func (w *jsonContentType) WriteHeader(code int) {
	w.check()
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonContentType) Write(p []byte) (int, error) {
	w.check()
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming through the wrapper.
func (w *jsonContentType) Flush() {
	w.check()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *jsonContentType) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// checkQuery refuses a query parameter that names no field of the request
// message desc (every REST binding here takes a HelloRequest), with
// invalid_argument, where vanguard would answer internal (500). A parameter
// names a field by its proto or JSON name, and a nested one with dots.
func checkQuery(query url.Values, desc protoreflect.MessageDescriptor) error {
	for key := range query {
		d := desc
		for part := range strings.SplitSeq(key, ".") {
			if d == nil {
				return connect.NewError(connect.CodeInvalidArgument,
					fmt.Errorf("query parameter %q: %s is not a message", key, part))
			}
			f := d.Fields().ByName(protoreflect.Name(part))
			if f == nil {
				f = d.Fields().ByJSONName(part)
			}
			if f == nil {
				return connect.NewError(connect.CodeInvalidArgument,
					fmt.Errorf("query parameter %q: %s has no field %q", key, d.FullName(), part))
			}
			d = f.Message()
		}
	}
	return nil
}

// clientBody prepares the body of a REST request for vanguard: a gzip body
// is decompressed here, and the body is read through a boundedBody, so that
// what is wrong with it is the client's error, where vanguard would answer
// unknown (500) to a broken gzip stream and decompress without a bound.
func clientBody(r *http.Request, maxBytes int64) error {
	var body io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil && err != io.EOF {
			return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read the gzip request body: %w", err))
		}
		if zr != nil {
			body = zr
		}
		r.Header.Del("Content-Encoding")
		r.ContentLength = -1
	default:
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("unsupported Content-Encoding %q: send the body as it is, or gzip", enc))
	}
	r.Body = &boundedBody{r: body, c: r.Body, left: maxBytes}
	return nil
}

// boundedBody reads at most left bytes; its read errors are connect errors,
// which vanguard answers with their code: resource_exhausted past the bound
// (or the body cap of capUnaryBodies), invalid_argument for anything else.
type boundedBody struct {
	r    io.Reader
	c    io.Closer
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, connect.NewError(connect.CodeResourceExhausted, errors.New("request body too large"))
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case errors.As(err, &tooLarge):
		return n, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("request body larger than %d bytes", tooLarge.Limit))
	default:
		return n, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read the request body: %w", err))
	}
}

func (b *boundedBody) Close() error { return b.c.Close() }

// clientJSON is vanguard's JSON codec, whose decoding errors are the
// client's: invalid_argument (400), where vanguard would answer unknown (500).
type clientJSON struct{ *vanguard.JSONCodec }

func (c clientJSON) Unmarshal(data []byte, msg proto.Message) error {
	return badRequestBody(c.JSONCodec.Unmarshal(data, msg))
}

func (c clientJSON) UnmarshalField(data []byte, msg proto.Message, field protoreflect.FieldDescriptor) error {
	return badRequestBody(c.JSONCodec.UnmarshalField(data, msg, field))
}

func badRequestBody(err error) error {
	if err == nil {
		return nil
	}
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("decode the JSON request: %w", err))
}

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
			writeRESTError(w, err)
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
				writeRESTError(w, err)
				return
			}
			body := restStatus(err)
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

// writeRESTError answers err as vanguard answers REST errors: the HTTP status
// of its code and a google.rpc.Status in JSON.
func writeRESTError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(connect.CodeOf(err)))
	_, _ = w.Write(restStatus(err))
}

// restStatus encodes err as a google.rpc.Status in JSON, with its details.
func restStatus(err error) []byte {
	st := &status.Status{Code: int32(connect.CodeOf(err)), Message: err.Error()}
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		st.Message = cerr.Message()
		for _, d := range cerr.Details() {
			st.Details = append(st.Details, &anypb.Any{TypeUrl: "type.googleapis.com/" + d.Type(), Value: d.Bytes()})
		}
	}
	body, mErr := protojson.Marshal(st)
	if mErr != nil {
		// A detail whose type is not linked in: the status without details.
		body, _ = protojson.Marshal(&status.Status{Code: st.GetCode(), Message: st.GetMessage()})
	}
	return body
}

// httpStatus maps an RPC code to its HTTP status as google.api.http
// (and vanguard) do.
func httpStatus(code connect.Code) int {
	switch code {
	case connect.CodeCanceled:
		return 499
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeOutOfRange:
		return http.StatusBadRequest
	case connect.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case connect.CodeNotFound:
		return http.StatusNotFound
	case connect.CodeAlreadyExists, connect.CodeAborted:
		return http.StatusConflict
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case connect.CodeUnimplemented:
		return http.StatusNotImplemented
	case connect.CodeUnavailable:
		return http.StatusServiceUnavailable
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	default:
		return http.StatusInternalServerError
	}
}

// inProcess is a connect.HTTPClient that serves each request with h in this
// process: the response's headers come back as soon as h writes them and its
// body streams through a pipe, so a server stream arrives message by message.
type inProcess struct{ h http.Handler }

func (c inProcess) Do(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeWriter{header: make(http.Header), body: pw, ready: make(chan struct{})}
	inner := req.Clone(req.Context())
	inner.RequestURI = inner.URL.RequestURI()
	inner.RemoteAddr = "in-process"
	go func() {
		defer func() {
			w.writeHeader(http.StatusOK) // a handler that wrote nothing
			pw.Close()
		}()
		c.h.ServeHTTP(w, inner)
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        w.sent,
		Body:          pr,
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is the http.ResponseWriter of an inProcess call.
type pipeWriter struct {
	header http.Header // what the handler sets
	sent   http.Header // a copy taken at WriteHeader
	status int
	once   sync.Once
	ready  chan struct{}
	body   *io.PipeWriter
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) { w.writeHeader(code) }

func (w *pipeWriter) writeHeader(code int) {
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.writeHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush is a no-op: every Write reaches the reader when it reads.
func (w *pipeWriter) Flush() {}

var _ connect.HTTPClient = inProcess{}
