package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/sudorandom/protoc-gen-connect-openapi/converter"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// generate runs protoc-gen-connect-openapi on req (its parameter is that
// generator's options) and amends each document it writes.
func generate(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	res, err := converter.Convert(req)
	if err != nil {
		return nil, fmt.Errorf("protoc-gen-connect-openapi: %w", err)
	}
	if res.GetError() != "" {
		return res, nil
	}
	files, err := protodesc.NewFiles(&descriptorpb.FileDescriptorSet{File: req.GetProtoFile()})
	if err != nil {
		return nil, fmt.Errorf("descriptors of the request: %w", err)
	}
	var services []protoreflect.ServiceDescriptor
	for _, name := range req.GetFileToGenerate() {
		fd, err := files.FindFileByPath(name)
		if err != nil {
			return nil, fmt.Errorf("file to generate %s: %w", name, err)
		}
		for i := range fd.Services().Len() {
			services = append(services, fd.Services().Get(i))
		}
	}
	for _, f := range res.GetFile() {
		content, err := amend([]byte(f.GetContent()), files, services)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.GetName(), err)
		}
		f.Content = proto.String(string(content))
	}
	return res, nil
}

// amend adds to the document content what the descriptors in files say and
// protoc-gen-connect-openapi leaves out: the length rules of the messages'
// fields, and the responses of the REST bindings of services.
func amend(content []byte, files *protoregistry.Files, services []protoreflect.ServiceDescriptor) ([]byte, error) {
	doc, err := libopenapi.NewDocument(content)
	if err != nil {
		return nil, fmt.Errorf("parse the generated document: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("model of the generated document: %w", err)
	}
	spec := &model.Model
	if spec.Components == nil || spec.Components.Schemas == nil {
		return nil, errors.New("the generated document has no component schemas")
	}
	for name, proxy := range spec.Components.Schemas.FromOldest() {
		d, err := files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			continue // a schema of the generator's own, not a message
		}
		if msg, ok := d.(protoreflect.MessageDescriptor); ok {
			if err := constrainMessage(proxy.Schema(), msg); err != nil {
				return nil, err
			}
		}
	}
	addComponents(spec.Components)
	for _, svc := range services {
		for i := range svc.Methods().Len() {
			method := svc.Methods().Get(i)
			for _, b := range httpBindings(method) {
				op, err := operation(spec, b)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", method.FullName(), err)
				}
				if err := constrainParameters(op, method.Input()); err != nil {
					return nil, fmt.Errorf("%s %s: %w", b.verb, b.path, err)
				}
				addResponses(spec.Components, op, method)
			}
		}
	}
	return spec.RenderWithIndention(2), nil
}

// constrainMessage sets the length bounds of schema's properties from the
// rules of msg's fields.
func constrainMessage(schema *base.Schema, msg protoreflect.MessageDescriptor) error {
	if err := checkMessageRules(msg); err != nil {
		return err
	}
	for i := range msg.Fields().Len() {
		field := msg.Fields().Get(i)
		l, ok, err := fieldLengths(field)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		name := field.JSONName()
		prop := schema.Properties.GetOrZero(name)
		if prop == nil {
			name = string(field.Name())
			prop = schema.Properties.GetOrZero(name)
		}
		if prop == nil {
			return fmt.Errorf("schema of %s has no property for field %s", msg.FullName(), field.Name())
		}
		setLengths(prop.Schema(), l)
		if requiredInJSON(field, l) && !slices.Contains(schema.Required, name) {
			schema.Required = append(schema.Required, name)
		}
	}
	return nil
}

// constrainParameters sets the length bounds of op's path and query
// parameters, each named by the path of a field of input.
func constrainParameters(op *v3.Operation, input protoreflect.MessageDescriptor) error {
	for _, p := range op.Parameters {
		if p.In != "path" && p.In != "query" {
			continue
		}
		field, err := fieldByPath(input, p.Name)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		l, ok, err := fieldLengths(field)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		setLengths(p.Schema.Schema(), l)
		if p.In == "query" && requiredInJSON(field, l) {
			p.Required = proto.Bool(true)
		}
	}
	return nil
}

// fieldByPath finds the field that path (names or JSON names joined by
// dots) names in msg.
func fieldByPath(msg protoreflect.MessageDescriptor, path string) (protoreflect.FieldDescriptor, error) {
	var field protoreflect.FieldDescriptor
	for part := range strings.SplitSeq(path, ".") {
		if msg == nil {
			return nil, fmt.Errorf("%s is not a message", field.FullName())
		}
		field = msg.Fields().ByName(protoreflect.Name(part))
		if field == nil {
			field = msg.Fields().ByJSONName(part)
		}
		if field == nil {
			return nil, fmt.Errorf("%s has no field %q", msg.FullName(), part)
		}
		msg = field.Message()
	}
	return field, nil
}

// setLengths narrows s to strings within l.
func setLengths(s *base.Schema, l lengths) {
	if s.MinLength != nil {
		l = l.and(lengths{min: *s.MinLength, max: -1})
	}
	if s.MaxLength != nil {
		l = l.and(lengths{min: 0, max: *s.MaxLength})
	}
	if l.min > 0 {
		s.MinLength = &l.min
	}
	if l.max >= 0 {
		s.MaxLength = &l.max
	}
}

// binding is one google.api.http binding of a method.
type binding struct {
	verb string // lower case, as OpenAPI names operations
	path string // with OpenAPI's {field} for google.api.http's {field=...}
}

// pathVariable matches a variable of a google.api.http path template.
var pathVariable = regexp.MustCompile(`\{([^}=]+)(=[^}]*)?\}`)

// httpBindings lists the google.api.http bindings of method, its own and
// the additional ones.
func httpBindings(method protoreflect.MethodDescriptor) []binding {
	rule, _ := proto.GetExtension(method.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule == nil {
		return nil
	}
	var out []binding
	for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		b := binding{}
		switch p := r.GetPattern().(type) {
		case *annotations.HttpRule_Get:
			b = binding{"get", p.Get}
		case *annotations.HttpRule_Post:
			b = binding{"post", p.Post}
		case *annotations.HttpRule_Put:
			b = binding{"put", p.Put}
		case *annotations.HttpRule_Delete:
			b = binding{"delete", p.Delete}
		case *annotations.HttpRule_Patch:
			b = binding{"patch", p.Patch}
		case *annotations.HttpRule_Custom:
			b = binding{strings.ToLower(p.Custom.GetKind()), p.Custom.GetPath()}
		default:
			continue
		}
		b.path = pathVariable.ReplaceAllString(b.path, "{$1}")
		out = append(out, b)
	}
	return out
}

// operation finds the operation of binding b in spec.
func operation(spec *v3.Document, b binding) (*v3.Operation, error) {
	if spec.Paths != nil {
		if item := spec.Paths.PathItems.GetOrZero(b.path); item != nil {
			if op := item.GetOperations().GetOrZero(b.verb); op != nil {
				return op, nil
			}
		}
	}
	return nil, fmt.Errorf("the generated document has no operation %s %s", strings.ToUpper(b.verb), b.path)
}
