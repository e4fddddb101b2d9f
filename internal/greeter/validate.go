package greeter

import (
	"fmt"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// MaxNameLength is the longest name accepted, in Unicode code points.
const MaxNameLength = 100

// ValidateName checks the rule for a name: valid UTF-8, not empty, and at most
// MaxNameLength code points. It returns nil for a valid name, and otherwise a
// *connect.Error with code invalid_argument whose message names the field and
// which carries a google.rpc.BadRequest detail with one field violation.
func ValidateName(name string) error {
	switch {
	case !utf8.ValidString(name):
		return invalidName("name must be valid UTF-8")
	case name == "":
		return invalidName("name must not be empty")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return invalidName(fmt.Sprintf("name must be at most %d characters, got %d",
			MaxNameLength, utf8.RuneCountInString(name)))
	}
	return nil
}

// invalidName builds the invalid_argument error for the field "name".
func invalidName(description string) error {
	err := connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("invalid name: %s", description))
	detail, detailErr := connect.NewErrorDetail(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{
			Field:       "name",
			Description: description,
		}},
	})
	if detailErr == nil {
		err.AddDetail(detail)
	}
	return err
}
