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
	if description, ok := checkName(name); !ok {
		return invalidName(description)
	}
	return nil
}

// checkName applies the rule of ValidateName. For a name that breaks it, it
// returns a description of what is wrong and false.
func checkName(name string) (string, bool) {
	switch {
	case !utf8.ValidString(name):
		return "name must be valid UTF-8", false
	case name == "":
		return "name must not be empty", false
	case utf8.RuneCountInString(name) > MaxNameLength:
		return fmt.Sprintf("name must be at most %d characters, got %d",
			MaxNameLength, utf8.RuneCountInString(name)), false
	}
	return "", true
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
