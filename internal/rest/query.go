package rest

import (
	"fmt"
	"net/url"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/reflect/protoreflect"
)

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
