package deploy_test

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestResentCallsAreFreeOfSideEffects checks the balancers' lists of calls
// they may send twice (deploy/haproxy.cfg's no_side_effects ACL, the
// locations of deploy/nginx.conf that allow non_idempotent) against the
// proto: every path of a method declared free of side effects or idempotent
// (its procedure, and its REST paths) is on them, and no path of another
// method is.
func TestResentCallsAreFreeOfSideEffects(t *testing.T) {
	haproxy := resentBy(t, "haproxy.cfg", haproxyResent)
	nginx := resentBy(t, "nginx.conf", nginxResent)
	services := rpc.File_rpc_package_helloworld_proto.Services()
	for i := range services.Len() {
		methods := services.Get(i).Methods()
		for j := range methods.Len() {
			m := methods.Get(j)
			level := m.Options().(*descriptorpb.MethodOptions).GetIdempotencyLevel()
			safe := level == descriptorpb.MethodOptions_NO_SIDE_EFFECTS || level == descriptorpb.MethodOptions_IDEMPOTENT
			for _, path := range methodPaths(m) {
				assert.Equal(t, haproxy(path), safe, "haproxy.cfg may send "+path+" twice (the proto: "+level.String()+")")
				assert.Equal(t, nginx(path), safe, "nginx.conf may send "+path+" twice (the proto: "+level.String()+")")
			}
		}
	}
}

// methodPaths returns the paths a method is called on: its procedure, and
// its REST paths (google.api.http), with "eric" for every variable.
func methodPaths(m protoreflect.MethodDescriptor) []string {
	paths := []string{"/" + string(m.Parent().FullName()) + "/" + string(m.Name())}
	rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
	variable := regexp.MustCompile(`\{[^}]*\}`)
	for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		for _, template := range []string{r.GetGet(), r.GetPost(), r.GetPut(), r.GetPatch(), r.GetDelete()} {
			if template != "" {
				paths = append(paths, variable.ReplaceAllString(template, "eric"))
			}
		}
	}
	return paths
}

// resentBy reads deploy/name and returns whether the balancer may send a
// call on a path twice, as parse reads the configuration: exact paths, and
// regular expressions.
func resentBy(t *testing.T, name string, parse func(lines []string) (exact, patterns []string)) func(path string) bool {
	b, err := os.ReadFile(name)
	assert.NoError(t, err, "read deploy/"+name)
	var lines []string
	for s := bufio.NewScanner(strings.NewReader(string(b))); s.Scan(); {
		if line := strings.TrimSpace(s.Text()); line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	exact, patterns := parse(lines)
	if len(exact)+len(patterns) == 0 {
		t.Fatalf("deploy/%s: no call may be sent twice", name)
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		assert.NoError(t, err, "deploy/"+name+": pattern "+p)
		res = append(res, re)
	}
	return func(path string) bool {
		for _, re := range res {
			if re.MatchString(path) {
				return true
			}
		}
		for _, e := range exact {
			if e == path {
				return true
			}
		}
		return false
	}
}

// haproxyResent reads the no_side_effects ACL, which exempts calls from
// "http-request disable-l7-retry".
func haproxyResent(lines []string) (exact, patterns []string) {
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, "acl no_side_effects path "); ok {
			exact = append(exact, v)
		}
		if v, ok := strings.CutPrefix(line, "acl no_side_effects path_reg "); ok {
			patterns = append(patterns, v)
		}
	}
	return exact, patterns
}

// nginxResent reads the locations whose next_upstream directive allows
// non_idempotent: "location = PATH" and "location ~ REGEXP".
func nginxResent(lines []string) (exact, patterns []string) {
	var location string
	for _, line := range lines {
		if v, ok := strings.CutPrefix(line, "location "); ok {
			location = strings.TrimSuffix(v, " {")
		}
		if !strings.Contains(line, "_next_upstream ") || !strings.Contains(line, " non_idempotent") {
			continue
		}
		if v, ok := strings.CutPrefix(location, "= "); ok {
			exact = append(exact, v)
		} else if v, ok := strings.CutPrefix(location, "~ "); ok {
			patterns = append(patterns, v)
		}
	}
	return exact, patterns
}
