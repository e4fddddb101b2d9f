package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestOpenAPIDocumentDescribesWhatIsServed fetches /openapi.yaml from a
// server, validates it as an OpenAPI 3.1 document, and calls every operation
// it lists as a REST client would, checking each request and each answer
// against the document (a stream of newline-delimited JSON line by line).
func TestOpenAPIDocumentDescribesWhatIsServed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	client := servertest.HTTP1Client(t)
	res, spec := rest(t, client, http.MethodGet, srv.URL+"/openapi.yaml", "", "")
	assert.Equal(t, res.StatusCode, http.StatusOK, "GET /openapi.yaml")
	assert.Equal(t, res.Header.Get("Content-Type"), "application/yaml", "Content-Type")

	doc, err := libopenapi.NewDocument([]byte(spec))
	assert.NoError(t, err, "parse the document")
	assert.Equal(t, doc.GetVersion(), "3.1.0", "OpenAPI version")
	v, errs := validator.NewValidator(doc)
	assert.Equal(t, len(errs), 0, "build the validator")
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("document: %s", e.Error())
	}
	assert.True(t, ok, "the document is valid OpenAPI")
	model, err := doc.BuildV3Model()
	assert.NoError(t, err, "build the model")

	operations := 0
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			operations++
			method = strings.ToUpper(method)
			t.Run(method+" "+path, func(t *testing.T) {
				body := ""
				if op.RequestBody != nil {
					body = `{"name":"eric"}`
				}
				req, err := http.NewRequestWithContext(ctx(t), method, srv.URL+strings.ReplaceAll(path, "{name}", "eric"), strings.NewReader(body))
				assert.NoError(t, err, "new request")
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := client.Do(req)
				assert.NoError(t, err, method+" "+path)
				got, err := io.ReadAll(res.Body)
				res.Body.Close()
				assert.NoError(t, err, "read the answer")
				assert.Equal(t, res.StatusCode, http.StatusOK, "status ("+string(got)+")")
				assert.Contains(t, string(got), "Hello, eric!", "answer")
				answers := [][]byte{got}
				if res.Header.Get("Content-Type") == "application/x-ndjson" {
					// A server stream: each line is one documented reply.
					answers = bytes.Split(bytes.TrimSpace(got), []byte("\n"))
					res.Header.Set("Content-Type", "application/json")
				}
				for _, answer := range answers {
					req.Body = io.NopCloser(strings.NewReader(body))
					res.Body = io.NopCloser(bytes.NewReader(answer))
					ok, verrs := v.ValidateHttpRequestResponse(req, res)
					for _, e := range verrs {
						t.Errorf("%s %s: %s", method, path, e.Error())
					}
					assert.True(t, ok, "request and answer match the document: "+string(answer))
				}
			})
		}
	}
	assert.Equal(t, operations, 3, "operations listed (GET and POST SayHello, GET LotsOfReplies)")
}
