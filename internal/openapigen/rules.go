package main

import (
	"fmt"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldLengths returns the bounds that the buf.validate rules of field put on
// its length: its CEL rules (which protoc-gen-connect-openapi lists only by
// id) together with the standard string length rules. ok is false when the
// field has none. A CEL rule that cannot be expressed as a length, or one on
// a field that is not a singular string, is an error.
func fieldLengths(field protoreflect.FieldDescriptor) (l lengths, ok bool, err error) {
	rules, _ := proto.GetExtension(field.Options(), validate.E_Field).(*validate.FieldRules)
	expressions := rules.GetCelExpression()
	for _, r := range rules.GetCel() {
		expressions = append(expressions, r.GetExpression())
	}
	str := rules.GetString()
	if len(expressions) == 0 && !str.HasMinLen() && !str.HasMaxLen() && !str.HasLen() {
		return anyLength, false, nil
	}
	switch rules.GetIgnore() {
	case validate.Ignore_IGNORE_ALWAYS:
		return anyLength, false, nil
	case validate.Ignore_IGNORE_UNSPECIFIED:
	default:
		// The rules then skip the empty string, which lengths cannot say.
		return anyLength, false, fmt.Errorf("field %s: rules with ignore %s cannot be expressed in OpenAPI", field.FullName(), rules.GetIgnore())
	}
	if len(expressions) > 0 && (field.Kind() != protoreflect.StringKind || field.Cardinality() == protoreflect.Repeated) {
		return anyLength, false, fmt.Errorf("field %s: CEL rules are expressed in OpenAPI only on singular string fields", field.FullName())
	}
	l = anyLength
	for _, expr := range expressions {
		rule, err := celLengths(expr)
		if err != nil {
			return anyLength, false, fmt.Errorf("field %s: rule %q: %w", field.FullName(), expr, err)
		}
		l = l.and(rule)
	}
	if str.HasMinLen() {
		l = l.and(lengths{min: int64(str.GetMinLen()), max: -1})
	}
	if str.HasMaxLen() {
		l = l.and(lengths{min: 0, max: int64(str.GetMaxLen())})
	}
	if str.HasLen() {
		l = l.and(lengths{min: int64(str.GetLen()), max: int64(str.GetLen())})
	}
	if l.max >= 0 && l.max < l.min {
		return anyLength, false, fmt.Errorf("field %s: no string satisfies its rules (length at least %d and at most %d)", field.FullName(), l.min, l.max)
	}
	return l, true, nil
}

// requiredInJSON reports whether field, with bounds l, must appear in a
// request's JSON: a field without presence that is absent is the empty
// string, which the rules refuse when they want at least one character.
func requiredInJSON(field protoreflect.FieldDescriptor, l lengths) bool {
	return l.min > 0 && !field.HasPresence() && field.ContainingOneof() == nil
}

// checkMessageRules refuses message-level CEL rules, which the document
// cannot express.
func checkMessageRules(msg protoreflect.MessageDescriptor) error {
	rules, _ := proto.GetExtension(msg.Options(), validate.E_Message).(*validate.MessageRules)
	if len(rules.GetCel()) > 0 || len(rules.GetCelExpression()) > 0 {
		return fmt.Errorf("message %s: message-level CEL rules cannot be expressed in OpenAPI", msg.FullName())
	}
	return nil
}
