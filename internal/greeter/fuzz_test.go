package greeter_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/internal/greeter"
)

// FuzzValidateName checks ValidateName against the rule it documents, and
// that every rejection is an invalid_argument naming the field.
func FuzzValidateName(f *testing.F) {
	for _, seed := range []string{"eric", "", "世界", "er\xffic", strings.Repeat("é", 100), strings.Repeat("é", 101), "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := greeter.ValidateName(name)
		valid := utf8.ValidString(name) && name != "" && utf8.RuneCountInString(name) <= greeter.MaxNameLength
		if valid != (err == nil) {
			t.Fatalf("ValidateName(%q) = %v, want valid=%v", name, err, valid)
		}
		if err == nil {
			if got := greeter.Greeting(name); got != "Hello, "+name+"!" {
				t.Fatalf("Greeting(%q) = %q", name, got)
			}
			return
		}
		var connectErr *connect.Error
		if !errors.As(err, &connectErr) || connectErr.Code() != connect.CodeInvalidArgument ||
			!strings.HasPrefix(connectErr.Message(), "invalid name: name must") || len(connectErr.Details()) != 1 {
			t.Fatalf("ValidateName(%q) = %v, want invalid_argument about the name with one detail", name, err)
		}
	})
}
