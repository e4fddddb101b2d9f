package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// Media types of a REST server stream.
const (
	ndjson = "application/x-ndjson"
	sse    = "text/event-stream"
)

// exchange is one REST request and what the server answered, as sent.
type exchange struct {
	label    string
	req      *http.Request
	res      *http.Response
	got      []byte // the answer's body
	docValid bool   // whether the document accepts the request
	unlisted bool   // a path or method that the document does not list
}

// TestOpenAPIDocumentDescribesWhatIsServed fetches /openapi.yaml from a
// server, validates it as an OpenAPI 3.1 document, then sends requests that
// draw every kind of answer from every operation it lists (success, invalid
// name, unknown path, load shed, a body over the limit, streams as
// newline-delimited JSON and as server-sent events, ended or failed) and
// validates each answer, as it came, against the document with
// libopenapi-validator; each item of a stream is validated against the
// schema the document gives for one item. The document's rules must also
// agree with the server's: a request the document refuses is refused.
func TestOpenAPIDocumentDescribesWhatIsServed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxMessageBytes: 1024})
	client := servertest.HTTP1Client(t)
	res, spec := rest(t, client, http.MethodGet, srv.URL+"/openapi.yaml", "", "")
	assert.Equal(t, res.StatusCode, http.StatusOK, "GET /openapi.yaml")
	assert.Equal(t, res.Header.Get("Content-Type"), "application/yaml", "Content-Type")

	doc, err := libopenapi.NewDocument([]byte(spec))
	assert.NoError(t, err, "parse the document")
	assert.Equal(t, doc.GetVersion(), "3.1.0", "OpenAPI version")
	v, errs := validator.NewValidator(doc)
	assert.Equal(t, len(errs), 0, "build the validator")
	findings := 0
	finding := func(format string, args ...any) {
		t.Helper()
		findings++
		t.Errorf(format, args...)
	}
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		finding("document: %s", e.Error())
	}
	assert.True(t, ok, "the document is valid OpenAPI")
	model, err := doc.BuildV3Model()
	assert.NoError(t, err, "build the model")

	exchanges := answers(t, srv, client)
	exchanges = append(exchanges, shedAnswers(t)...)
	exchanges = append(exchanges, failedStreams(t)...)
	exchanges = append(exchanges, lateBody(t))

	items := schema_validation.NewSchemaValidator(config.WithContentAssertions())
	seen := make(map[string]bool) // "METHOD /path/template status media type"
	for _, x := range exchanges {
		if x.unlisted {
			// Outside the document, which must say so, and claim nothing.
			_, resErrs := v.ValidateHttpResponse(x.req, x.res)
			if len(resErrs) == 0 || !resErrs[0].IsPathMissingError() && !resErrs[0].IsOperationMissingError() {
				finding("%s: answered %d %s, the document should not list it: %v", x.label, x.res.StatusCode, x.got, resErrs)
			}
			continue
		}
		// The request, by the document: its rules must be the server's.
		docValid, reqErrs := v.ValidateHttpRequest(x.req)
		if docValid != x.docValid {
			finding("%s: the document finds the request valid: %t, want %t (%d %s): %v", x.label, docValid, x.docValid, x.res.StatusCode, x.got, reqErrs)
		}
		if !docValid && x.res.StatusCode < 400 {
			finding("%s: the document refuses the request, the server answered %d %s", x.label, x.res.StatusCode, x.got)
		}
		// The answer, exactly as it came.
		x.res.Body = io.NopCloser(bytes.NewReader(x.got))
		_, resErrs := v.ValidateHttpResponse(x.req, x.res)
		for _, e := range resErrs {
			finding("%s: answer %d %q %s: %s", x.label, x.res.StatusCode, x.res.Header.Get("Content-Type"), x.got, e.Error())
		}
		path, op := findOperation(model.Model.Paths, x.req)
		if op == nil {
			continue
		}
		mediaType, _, _ := strings.Cut(x.res.Header.Get("Content-Type"), ";")
		seen[x.req.Method+" "+path+" "+strconv.Itoa(x.res.StatusCode)] = true
		seen[x.req.Method+" "+path+" "+strconv.Itoa(x.res.StatusCode)+" "+mediaType] = true
		if mediaType != ndjson && mediaType != sse {
			continue
		}
		// A stream: each line or event against the document's schema of one.
		schema := itemSchema(op, x.res.StatusCode, mediaType, model.Model.Components)
		if schema == nil {
			finding("%s: the document gives no x-itemSchema for %s", x.label, mediaType)
			continue
		}
		for _, item := range streamItems(t, mediaType, x.got) {
			if ok, errs := items.ValidateSchemaString(schema, item); !ok {
				for _, e := range errs {
					finding("%s: %s item %s: %s %v", x.label, mediaType, item, e.Error(), e.SchemaValidationErrors)
				}
			}
		}
	}

	// Every answer the document lists for an operation was drawn and checked
	// (the default answer stands for errors that no request here can cause).
	operations := 0
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			operations++
			method = strings.ToUpper(method)
			for code, response := range op.Responses.Codes.FromOldest() {
				for mediaType := range response.Content.KeysFromOldest() {
					if !seen[method+" "+path+" "+code+" "+mediaType] {
						finding("%s %s: no answer %s %s was checked", method, path, code, mediaType)
					}
				}
			}
		}
	}
	assert.Equal(t, operations, 3, "operations listed (GET and POST SayHello, GET LotsOfReplies)")
	t.Logf("%d answers checked against the document: %d findings", len(exchanges), findings)
}

// answers draws from srv (whose MaxMessageBytes is 1024) every answer that
// needs no particular server: successes, errors of the request, and paths
// the document does not list.
func answers(t *testing.T, srv *servertest.Server, client *http.Client) []exchange {
	t.Helper()
	names := []struct {
		label, name, segment string // the name, and as a path segment
		valid                string // whether the document and the server take it
	}{
		{"a name", "eric", "eric", "valid"},
		{"100 code points", strings.Repeat("é", 100), url.PathEscape(strings.Repeat("é", 100)), "valid"},
		{"a name with a slash", "a/b", "a%2Fb", "valid"},
		{"101 code points", strings.Repeat("é", 101), url.PathEscape(strings.Repeat("é", 101)), "invalid"},
	}
	var out []exchange
	for _, n := range names {
		valid := n.valid == "valid"
		label := n.label + " (" + n.valid + ")"
		out = append(out,
			send(t, client, label, valid, http.MethodGet, srv.URL+"/v1/hello/"+n.segment, "", ""),
			send(t, client, label, valid, http.MethodGet, srv.URL+"/v1/hello/"+n.segment+"/replies", "", ""),
			send(t, client, label+" as events", valid, http.MethodGet, srv.URL+"/v1/hello/"+n.segment+"/replies", "", "", "Accept", sse))
		body, err := json.Marshal(map[string]string{"name": n.name})
		assert.NoError(t, err, "encode the request")
		out = append(out, send(t, client, label, valid, http.MethodPost, srv.URL+"/v1/hello", "application/json", string(body)))
	}
	return append(out,
		send(t, client, "an empty name", false, http.MethodPost, srv.URL+"/v1/hello", "application/json", `{"name":""}`),
		send(t, client, "no name", false, http.MethodPost, srv.URL+"/v1/hello", "application/json", `{}`),
		send(t, client, "malformed JSON", false, http.MethodPost, srv.URL+"/v1/hello", "application/json", `{"name":`),
		send(t, client, "a body that is not JSON", false, http.MethodPost, srv.URL+"/v1/hello", "text/plain", `eric`),
		send(t, client, "a body over the limit", false, http.MethodPost, srv.URL+"/v1/hello", "application/json",
			`{"name":"`+strings.Repeat("a", 2048)+`"}`),
		send(t, client, "an unknown query parameter", true, http.MethodGet, srv.URL+"/v1/hello/eric?x=1", "", ""),
		unlisted(send(t, client, "an unknown path", false, http.MethodGet, srv.URL+"/v1/goodbye/eric", "", "")),
		unlisted(send(t, client, "a path one segment too long", false, http.MethodGet, srv.URL+"/v1/hello/eric/replies/all", "", "")),
		unlisted(send(t, client, "a method not listed", false, http.MethodDelete, srv.URL+"/v1/hello/eric", "", "")),
	)
}

// shedAnswers draws resource_exhausted from every operation of a server
// that takes one call at a time, while a stream holds it.
func shedAnswers(t *testing.T) []exchange {
	t.Helper()
	g := &servertest.Gate{}
	srv := servertest.Start(t, server.Config{MaxInflight: 1, Greeter: greeter.Options{Pace: g.Pace}})
	client := servertest.HTTP1Client(t)
	release := g.Arm()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, srv.URL+"/v1/hello/held/replies", nil)
	assert.NoError(t, err, "new request")
	held, err := client.Do(req)
	assert.NoError(t, err, "GET the held stream")
	defer held.Body.Close()
	first, err := bufio.NewReader(held.Body).ReadBytes('\n')
	assert.NoError(t, err, "first reply of the held stream")

	out := []exchange{
		send(t, client, "shed", true, http.MethodGet, srv.URL+"/v1/hello/eric", "", ""),
		send(t, client, "shed", true, http.MethodPost, srv.URL+"/v1/hello", "application/json", `{"name":"eric"}`),
		send(t, client, "shed", true, http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", ""),
		send(t, client, "shed, as events", true, http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", "", "Accept", sse),
	}
	for _, x := range out {
		assert.Equal(t, x.res.StatusCode, http.StatusTooManyRequests, x.label+" "+x.req.URL.Path+": "+string(x.got))
	}
	close(release)
	rest, err := io.ReadAll(held.Body)
	assert.NoError(t, err, "rest of the held stream")
	return append(out, exchange{label: "the held stream", req: req, res: held, got: append(first, rest...), docValid: true})
}

// lateBody draws the answer to a POST whose body does not come within
// -body-timeout: the request declares a JSON body of 15 bytes, as
// {"name":"eric"} is, and sends none.
func lateBody(t *testing.T) exchange {
	t.Helper()
	srv := servertest.Start(t, server.Config{BodyTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	assert.NoError(t, err, "dial")
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /v1/hello HTTP/1.1\r\nHost: "+srv.Listener.Addr().String()+
		"\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n")
	assert.NoError(t, err, "send the request's head")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/hello", strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/json")
	assert.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)), "read deadline")
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	assert.NoError(t, err, "read the answer")
	got, err := io.ReadAll(res.Body)
	assert.NoError(t, err, "read the answer's body")
	assert.Equal(t, res.StatusCode, http.StatusRequestTimeout, "a body late past -body-timeout: "+string(got))
	return exchange{label: "late body", req: req, res: res, got: got, docValid: true}
}

// failedStreams draws a stream that fails after its first reply, in both
// of its forms.
func failedStreams(t *testing.T) []exchange {
	t.Helper()
	fail := func(_ context.Context, _ int) error {
		return connect.NewError(connect.CodeUnavailable, errors.New("the test stops the stream"))
	}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: fail}})
	client := servertest.HTTP1Client(t)
	out := []exchange{
		send(t, client, "failed stream", true, http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", ""),
		send(t, client, "failed stream, as events", true, http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", "", "Accept", sse),
	}
	for _, x := range out {
		assert.Contains(t, string(x.got), "Hello, eric!", x.label+": the first reply")
		assert.Contains(t, string(x.got), "the test stops the stream", x.label+": the error")
	}
	return out
}

// send makes one request and keeps the answer, its body read whole.
func send(t *testing.T, client *http.Client, label string, docValid bool, method, url, contentType, body string, header ...string) exchange {
	t.Helper()
	req := restRequest(t, method, url, contentType, body, header...)
	res, err := client.Do(req)
	assert.NoError(t, err, method+" "+url)
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	assert.NoError(t, err, "read the answer to "+method+" "+url)
	// The validator reads the request's body again.
	req.Body = io.NopCloser(strings.NewReader(body))
	return exchange{label: label + ": " + method + " " + req.URL.EscapedPath(), req: req, res: res, got: got, docValid: docValid}
}

func unlisted(x exchange) exchange {
	x.unlisted = true
	return x
}

// findOperation finds the document's operation for req, and its path
// template.
func findOperation(paths *v3.Paths, req *http.Request) (string, *v3.Operation) {
	segments := strings.Split(req.URL.EscapedPath(), "/")
	for template, item := range paths.PathItems.FromOldest() {
		parts := strings.Split(template, "/")
		if len(parts) != len(segments) {
			continue
		}
		match := true
		for i, p := range parts {
			if !strings.HasPrefix(p, "{") && p != segments[i] {
				match = false
			}
		}
		if match {
			return template, item.GetOperations().GetOrZero(strings.ToLower(req.Method))
		}
	}
	return "", nil
}

// itemSchema is the schema the document gives for one item of a stream
// answered with code in mediaType: its x-itemSchema, a $ref to a component.
func itemSchema(op *v3.Operation, code int, mediaType string, components *v3.Components) *base.Schema {
	response := op.Responses.Codes.GetOrZero(strconv.Itoa(code))
	if response == nil {
		return nil
	}
	media := response.Content.GetOrZero(mediaType)
	if media == nil || media.Extensions == nil {
		return nil
	}
	node := media.Extensions.GetOrZero("x-itemSchema")
	if node == nil || len(node.Content) != 2 || node.Content[0].Value != "$ref" {
		return nil
	}
	name, ok := strings.CutPrefix(node.Content[1].Value, "#/components/schemas/")
	if !ok {
		return nil
	}
	proxy := components.Schemas.GetOrZero(name)
	if proxy == nil {
		return nil
	}
	return proxy.Schema()
}

// streamItems splits a stream's body into its items as JSON: the lines of
// newline-delimited JSON, or the events of server-sent events as objects
// of their fields (event, data).
func streamItems(t *testing.T, mediaType string, body []byte) []string {
	t.Helper()
	var out []string
	if mediaType == ndjson {
		for line := range strings.Lines(string(body)) {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
		return out
	}
	for block := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n\n"), "\n\n") {
		event := map[string]string{}
		for line := range strings.SplitSeq(block, "\n") {
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			if field == "data" && event["data"] != "" {
				value = event["data"] + "\n" + value
			}
			event[field] = value
		}
		b, err := json.Marshal(event)
		assert.NoError(t, err, "encode an event")
		out = append(out, string(b))
	}
	return out
}
