package main

import (
	"errors"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
)

// lengths bounds the length of a string in Unicode code points, which is
// what both CEL's size() and JSON Schema's minLength and maxLength count.
type lengths struct {
	min int64 // 0: no lower bound
	max int64 // -1: no upper bound
}

// anyLength is the bound of a string without rules.
var anyLength = lengths{min: 0, max: -1}

// and returns the bounds that satisfy both l and o.
func (l lengths) and(o lengths) lengths {
	l.min = max(l.min, o.min)
	if l.max < 0 || (o.max >= 0 && o.max < l.max) {
		l.max = o.max
	}
	return l
}

// celEnv declares the variable of a field rule on a string field.
var celEnv = func() *cel.Env {
	env, err := cel.NewEnv(cel.Variable("this", cel.StringType))
	if err != nil {
		panic(fmt.Sprintf("CEL environment: %v", err))
	}
	return env
}()

// celLengths translates a buf.validate CEL rule on a string field into the
// bounds of the string's length under which it holds. A rule holds when it
// evaluates to true, or to the empty string (otherwise its value is the
// violation's message), so these forms are understood: comparisons of
// this.size() (or size(this)) with an integer constant, joined by && or
// negated, and a conditional whose one branch is the empty string
// (cond ? "" : message, or its mirror). Anything else is an error: a rule
// that the document cannot express must not be dropped silently.
func celLengths(expr string) (lengths, error) {
	checked, iss := celEnv.Compile(expr)
	if iss.Err() != nil {
		return anyLength, fmt.Errorf("compile %q: %w", expr, iss.Err())
	}
	root := checked.NativeRep().Expr()
	switch {
	case checked.OutputType().IsExactType(cel.BoolType):
		return holdsWhen(root, true)
	case checked.OutputType().IsExactType(cel.StringType):
		return emptyWhen(root)
	default:
		return anyLength, fmt.Errorf("rule %q: a rule is a bool or a string, not %s", expr, checked.OutputType())
	}
}

// emptyWhen returns the bounds under which the string expression e is "".
func emptyWhen(e ast.Expr) (lengths, error) {
	if isEmptyString(e) {
		return anyLength, nil
	}
	if e.Kind() == ast.CallKind && e.AsCall().FunctionName() == operators.Conditional {
		args := e.AsCall().Args()
		switch cond, yes, no := args[0], args[1], args[2]; {
		case isEmptyString(yes) && !isEmptyString(no):
			return holdsWhen(cond, true)
		case isEmptyString(no) && !isEmptyString(yes):
			return holdsWhen(cond, false)
		}
	}
	return anyLength, fmt.Errorf("cannot express %s in OpenAPI: only \"condition ? '' : message\" and its mirror are understood", describe(e))
}

// holdsWhen returns the bounds under which the bool expression e evaluates
// to want.
func holdsWhen(e ast.Expr, want bool) (lengths, error) {
	if e.Kind() != ast.CallKind {
		return anyLength, fmt.Errorf("cannot express %s in OpenAPI", describe(e))
	}
	call := e.AsCall()
	args := call.Args()
	switch call.FunctionName() {
	case operators.LogicalNot:
		return holdsWhen(args[0], !want)
	case operators.LogicalAnd:
		if !want {
			return anyLength, fmt.Errorf("cannot express the negation of %s in OpenAPI", describe(e))
		}
		left, err := holdsWhen(args[0], true)
		if err != nil {
			return anyLength, err
		}
		right, err := holdsWhen(args[1], true)
		return left.and(right), err
	}
	op := call.FunctionName()
	n, sizeLeft, ok := sizeComparison(args)
	if !ok {
		return anyLength, fmt.Errorf("cannot express %s in OpenAPI: compare this.size() with an integer", describe(e))
	}
	if !sizeLeft { // n op size: size op' n
		op = mirrored[op]
	}
	if !want {
		op = negated[op]
	}
	switch op {
	case operators.Greater:
		return lengths{min: max(n+1, 0), max: -1}, nil
	case operators.GreaterEquals:
		return lengths{min: max(n, 0), max: -1}, nil
	case operators.Less:
		return atMost(n - 1)
	case operators.LessEquals:
		return atMost(n)
	case operators.Equals:
		if n < 0 {
			return anyLength, errNoString
		}
		return lengths{min: n, max: n}, nil
	}
	return anyLength, fmt.Errorf("cannot express %s in OpenAPI: use <, <=, >, >= or ==", describe(e))
}

// atMost bounds the length by n, which a negative n makes impossible.
func atMost(n int64) (lengths, error) {
	if n < 0 {
		return anyLength, errNoString
	}
	return lengths{min: 0, max: n}, nil
}

var errNoString = errors.New("no string satisfies the rule")

// mirrored turns "n op size" into "size op n"; negated is "not (size op n)".
var (
	mirrored = map[string]string{
		operators.Greater: operators.Less, operators.GreaterEquals: operators.LessEquals,
		operators.Less: operators.Greater, operators.LessEquals: operators.GreaterEquals,
		operators.Equals: operators.Equals, operators.NotEquals: operators.NotEquals,
	}
	negated = map[string]string{
		operators.Greater: operators.LessEquals, operators.GreaterEquals: operators.Less,
		operators.Less: operators.GreaterEquals, operators.LessEquals: operators.Greater,
		operators.Equals: operators.NotEquals, operators.NotEquals: operators.Equals,
	}
)

// sizeComparison recognises the two operands of a comparison of the
// string's size with an integer constant, in either order.
func sizeComparison(args []ast.Expr) (n int64, sizeLeft, ok bool) {
	if len(args) != 2 {
		return 0, false, false
	}
	if isThisSize(args[0]) {
		n, ok = intLiteral(args[1])
		return n, true, ok
	}
	if isThisSize(args[1]) {
		n, ok = intLiteral(args[0])
		return n, false, ok
	}
	return 0, false, false
}

// isThisSize reports whether e is this.size() or size(this).
func isThisSize(e ast.Expr) bool {
	if e.Kind() != ast.CallKind || e.AsCall().FunctionName() != overloads.Size {
		return false
	}
	call := e.AsCall()
	if call.IsMemberFunction() {
		return len(call.Args()) == 0 && isThis(call.Target())
	}
	return len(call.Args()) == 1 && isThis(call.Args()[0])
}

func isThis(e ast.Expr) bool { return e.Kind() == ast.IdentKind && e.AsIdent() == "this" }

func intLiteral(e ast.Expr) (int64, bool) {
	if e.Kind() != ast.LiteralKind {
		return 0, false
	}
	n, ok := e.AsLiteral().(types.Int)
	return int64(n), ok
}

func isEmptyString(e ast.Expr) bool {
	if e.Kind() != ast.LiteralKind {
		return false
	}
	s, ok := e.AsLiteral().(types.String)
	return ok && s == ""
}

// describe names an expression in an error by its kind and, for a call, its
// function.
func describe(e ast.Expr) string {
	if e.Kind() == ast.CallKind {
		return fmt.Sprintf("the call %s", e.AsCall().FunctionName())
	}
	return fmt.Sprintf("an expression of kind %d", e.Kind())
}
