// Package assert is a tiny set of test assertions for hellorpc's tests, so
// that they need no assertion library. Each helper reports the failure with
// t.Fatalf and the caller's line.
package assert

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Equal fails the test unless got and want are deeply equal.
func Equal[T any](t testing.TB, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

// NoError fails the test if err is not nil.
func NoError(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// Error fails the test if err is nil, and returns err for further checks.
func Error(t testing.TB, err error, what string) error {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want one", what)
	}
	return err
}

// ErrorIs fails the test unless errors.Is(err, target).
func ErrorIs(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// Contains fails the test unless s contains substr.
func Contains(t testing.TB, s, substr, what string) {
	t.Helper()
	if !strings.Contains(s, substr) {
		t.Fatalf("%s: %q does not contain %q", what, s, substr)
	}
}

// True fails the test unless cond holds.
func True(t testing.TB, cond bool, what string) {
	t.Helper()
	if !cond {
		t.Fatalf("%s: condition is false", what)
	}
}
