package traceexport

import "fmt"

// invalid is the error for variable name set to value, which is not one of
// want.
func invalid(name, value, want string) error {
	return fmt.Errorf("%s=%q: want %s", name, value, want)
}
