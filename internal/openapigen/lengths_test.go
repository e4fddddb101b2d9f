package main

import (
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestCELLengths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr     string
		min, max int64
	}{
		// The proto's own rules.
		{"this.size() > 0", 1, -1},
		{"this.size() <= 100 ? '' : 'name must be at most 100 characters, got ' + string(this.size())", 0, 100},
		// Their other spellings.
		{"size(this) >= 3", 3, -1},
		{"0 < this.size()", 1, -1},
		{"100 >= this.size()", 0, 100},
		{"this.size() < 10", 0, 9},
		{"this.size() == 4", 4, 4},
		{"this.size() > 2 && this.size() < 8", 3, 7},
		{"!(this.size() > 5)", 0, 5},
		{"this.size() > 100 ? 'too long' : ''", 0, 100},
		{"''", 0, -1},
		{"this.size() > -3", 0, -1},
	}
	for _, tt := range tests {
		got, err := celLengths(tt.expr)
		assert.NoError(t, err, tt.expr)
		assert.Equal(t, got, lengths{min: tt.min, max: tt.max}, tt.expr)
	}
}

// TestCELLengthsRefusesWhatItCannotSay checks that a rule the document
// cannot express is an error, not a rule left out.
func TestCELLengthsRefusesWhatItCannotSay(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"this.startsWith('a')",
		"this.size() != 3",
		"this.size() > 1 || this.size() < 5",
		"!(this.size() > 1 && this.size() < 5)",
		"this.size() < 0",
		"this.size() == -1",
		"this.size() > 3 ? 'a' : 'b'",
		"this.size() < this.size()",
		"'too long'",
		"this.size()",
		"this.size(",
	} {
		_, err := celLengths(expr)
		assert.Error(t, err, expr)
	}
}

func TestLengthsAnd(t *testing.T) {
	t.Parallel()
	assert.Equal(t, lengths{1, -1}.and(lengths{0, 100}), lengths{1, 100}, "min with max")
	assert.Equal(t, lengths{2, 50}.and(lengths{1, 100}), lengths{2, 50}, "the narrower")
	assert.Equal(t, anyLength.and(anyLength), anyLength, "no bounds")
}
