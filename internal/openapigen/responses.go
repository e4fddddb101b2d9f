package main

import (
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
	"go.yaml.in/yaml/v4"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Names of the component schemas added here; a stream's line and event
// schemas are named after its reply message, with these prefixes.
const (
	statusSchema = "google.rpc.Status"
	anySchema    = "google.protobuf.Any"
	ndjsonPrefix = "ndjson."
	ssePrefix    = "sse."
)

// Media types of a server stream's reply: newline-delimited JSON by default,
// server-sent events when the request accepts them.
const (
	ndjsonType = "application/x-ndjson"
	sseType    = "text/event-stream"
)

// itemSchemaKey names, in a stream's media type, the schema of one line or
// one event: OpenAPI 3.2's itemSchema, as an extension, which 3.1 allows. (A
// 3.1 schema describes the whole body, which a stream is not as one JSON
// value.)
const itemSchemaKey = "x-itemSchema"

// addComponents adds the schemas of a REST error: google.rpc.Status in JSON.
func addComponents(c *v3.Components) {
	c.Schemas.Set(statusSchema, inline(object(&base.Schema{
		Title:       "Status",
		Description: "The error of a REST call: a google.rpc.Status in JSON, sent with the HTTP status that google.api.http maps its code to.",
		Required:    []string{"code"},
	},
		"code", inline(&base.Schema{Type: []string{"integer"}, Format: "int32",
			Description: "The google.rpc.Code: 3 invalid_argument, 8 resource_exhausted, 4 deadline_exceeded..."}),
		"message", inline(&base.Schema{Type: []string{"string"}, Description: "What failed, in English, for developers."}),
		"details", inline(&base.Schema{Type: []string{"array"}, Items: &base.DynamicValue[*base.SchemaProxy, bool]{A: ref(anySchema)},
			Description: "Error details; for a request that breaks a rule of the proto, a google.rpc.BadRequest naming the field and a buf.validate.Violations."}),
	)))
	anyMsg := object(&base.Schema{
		Title:       "Any",
		Description: "A message of any type in JSON: its fields, and its type in @type.",
		Required:    []string{"@type"},
	}, "@type", inline(&base.Schema{Type: []string{"string"}, Description: "type.googleapis.com/ and the message's full name."}))
	anyMsg.AdditionalProperties = &base.DynamicValue[*base.SchemaProxy, bool]{N: 1, B: true}
	c.Schemas.Set(anySchema, inline(anyMsg))
}

// addResponses documents what the REST binding op of method answers: its
// replies (a server stream's in its own media types), and its errors.
func addResponses(c *v3.Components, op *v3.Operation, method protoreflect.MethodDescriptor) {
	if method.IsStreamingServer() {
		reply := string(method.Output().FullName())
		addStreamSchemas(c, reply)
		content := orderedmap.New[string, *v3.MediaType]()
		content.Set(ndjsonType, &v3.MediaType{Extensions: itemSchema(ndjsonPrefix + reply)})
		content.Set(sseType, &v3.MediaType{Extensions: itemSchema(ssePrefix + reply)})
		op.Responses.Codes.Set("200", &v3.Response{
			Description: "The replies, each sent as soon as it is ready: newline-delimited JSON, one reply a line " +
				"(" + ndjsonType + ", the default), or server-sent events, one reply an event, to a request with " +
				"\"Accept: " + sseType + "\". An error after the first reply ends the stream: a last line " +
				"{\"error\": google.rpc.Status}, or an event \"error\" whose data is the google.rpc.Status. " +
				itemSchemaKey + " gives the schema of one line or one event.",
			Content: content,
		})
	}
	op.Responses.Codes.Set("400", statusResponse("invalid_argument: a request that breaks a rule declared in the proto, "+
		"whose status names the field in a google.rpc.BadRequest detail; a body that is not the request in JSON; an unknown query parameter."))
	if op.RequestBody != nil {
		op.Responses.Codes.Set("408", statusResponse("deadline_exceeded: the request body did not arrive whole within the server's body timeout "+
			"(-body-timeout, default 5s), the client's fault; over HTTP/1.1 with Connection: close. "+
			"A call past its caller's own deadline is 504."))
		op.Responses.Codes.Set("415", statusResponse("invalid_argument: a request body that is not JSON (Content-Type other than application/json)."))
	}
	tooMany := statusResponse("resource_exhausted: the server has as many calls in progress as it takes " +
		"(then with Retry-After), or the request body is over the size limit.")
	tooMany.Headers = orderedmap.New[string, *v3.Header]()
	tooMany.Headers.Set("Retry-After", &v3.Header{
		Description: "Seconds to wait before calling again, when the server sheds load.",
		Schema:      inline(&base.Schema{Type: []string{"integer"}, Minimum: new(float64)}),
	})
	op.Responses.Codes.Set("429", tooMany)
	op.Responses.Default = statusResponse("Any other error, with the HTTP status that google.api.http maps its code to " +
		"(404 not_found, 499 canceled, 500 internal, 503 unavailable, 504 deadline_exceeded past the caller's deadline " +
		"(Connect-Timeout-Ms) or the server's call cap...).")
}

// addStreamSchemas adds the schemas of one line and of one event of a
// server stream of reply messages.
func addStreamSchemas(c *v3.Components, reply string) {
	streamError := object(&base.Schema{Title: "error", Required: []string{"error"}}, "error", ref(statusSchema))
	c.Schemas.Set(ndjsonPrefix+reply, inline(&base.Schema{
		Title:       "line",
		Description: "One line of " + ndjsonType + ": a reply, or the error that ended the stream, as the last line.",
		OneOf:       []*base.SchemaProxy{ref(reply), inline(streamError)},
	}))

	event := object(&base.Schema{
		Title: "event",
		Description: "One server-sent event, its fields as the format names them: a reply (no event field; data: " +
			"the reply in JSON), or the error that ended the stream, as the last event (event: error; data: the google.rpc.Status in JSON).",
		Required: []string{"data"},
	},
		"event", inline(&base.Schema{Type: []string{"string"}}),
		"data", inline(&base.Schema{Type: []string{"string"}, ContentMediaType: "application/json"}),
	)
	event.OneOf = []*base.SchemaProxy{
		inline(&base.Schema{
			Title:      "reply",
			Not:        inline(&base.Schema{Required: []string{"event"}}),
			Properties: properties("data", jsonOf(reply)),
		}),
		inline(&base.Schema{
			Title:    "error",
			Required: []string{"event"},
			Properties: properties(
				"event", inline(&base.Schema{Const: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "error"}}),
				"data", jsonOf(statusSchema),
			),
		}),
	}
	c.Schemas.Set(ssePrefix+reply, inline(event))
}

// jsonOf is a string that holds schema in JSON. (JSON Schema reads
// contentSchema only beside contentMediaType.)
func jsonOf(schema string) *base.SchemaProxy {
	return inline(&base.Schema{Type: []string{"string"}, ContentMediaType: "application/json", ContentSchema: ref(schema)})
}

// statusResponse is an error response: a google.rpc.Status in JSON.
func statusResponse(description string) *v3.Response {
	content := orderedmap.New[string, *v3.MediaType]()
	content.Set("application/json", &v3.MediaType{Schema: ref(statusSchema)})
	return &v3.Response{Description: description, Content: content}
}

// itemSchema is the extension of a stream's media type that refers to the
// schema of one of its items.
func itemSchema(schema string) *orderedmap.Map[string, *yaml.Node] {
	ext := orderedmap.New[string, *yaml.Node]()
	ext.Set(itemSchemaKey, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "$ref"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "#/components/schemas/" + schema},
	}})
	return ext
}

// object completes s as a closed object with the given properties, pairs of
// a name and its schema.
func object(s *base.Schema, props ...any) *base.Schema {
	s.Type = []string{"object"}
	s.Properties = properties(props...)
	s.AdditionalProperties = &base.DynamicValue[*base.SchemaProxy, bool]{N: 1, B: false}
	return s
}

// properties maps names to schemas, given as pairs.
func properties(pairs ...any) *orderedmap.Map[string, *base.SchemaProxy] {
	m := orderedmap.New[string, *base.SchemaProxy]()
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Set(pairs[i].(string), pairs[i+1].(*base.SchemaProxy))
	}
	return m
}

func inline(s *base.Schema) *base.SchemaProxy { return base.CreateSchemaProxy(s) }

func ref(schema string) *base.SchemaProxy {
	return base.CreateSchemaProxyRef("#/components/schemas/" + schema)
}
