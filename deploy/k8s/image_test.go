package k8s_test

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// readDockerfile parses deploy/Dockerfile with BuildKit's own parser (what
// docker build runs), its lint rules on, and returns its stages.
func readDockerfile(t *testing.T) []instructions.Stage {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	assert.NoError(t, err, "read deploy/Dockerfile")
	parsed, err := parser.Parse(bytes.NewReader(b))
	assert.NoError(t, err, "parse deploy/Dockerfile")
	for _, w := range parsed.Warnings {
		t.Errorf("deploy/Dockerfile: parser warning: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, description, url, msg string, _ []parser.Range) {
		t.Errorf("deploy/Dockerfile: lint %s: %s", rule, msg)
	}})
	stages, _, err := instructions.Parse(parsed.AST, lint)
	assert.NoError(t, err, "deploy/Dockerfile's instructions")
	return stages
}

// TestDockerfile checks what deploy/Dockerfile promises: a builder stage
// with the Go go.mod requires, a final stage on an empty (or distroless
// static) base that holds the binary alone and runs it as the manifest's
// non-root user, on hello-server's port.
func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("deploy/Dockerfile has %d stages, want 2: the build, and the image", len(stages))
	}
	build, image := stages[0], stages[1]

	goMod, err := os.ReadFile("../../go.mod")
	assert.NoError(t, err, "read go.mod")
	var goVersion string
	for line := range strings.Lines(string(goMod)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			goVersion = v
		}
	}
	assert.True(t, strings.HasPrefix(build.BaseName, "golang:"+goVersion+"-"), fmt.Sprintf("the builder %q has go.mod's Go, %s", build.BaseName, goVersion))

	assert.True(t, image.BaseName == "scratch" || strings.HasPrefix(image.BaseName, "gcr.io/distroless/static"), "the image's base is empty (or distroless static): "+image.BaseName)
	var user, entrypoint string
	var exposed []string
	for _, c := range image.Commands {
		switch c := c.(type) {
		case *instructions.CopyCommand:
			assert.Equal(t, c.From, build.Name, "the image copies from the builder only")
		case *instructions.UserCommand:
			user = c.User
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.EntrypointCommand:
			assert.True(t, !c.PrependShell, "ENTRYPOINT in exec form: there is no shell")
			entrypoint = strings.Join(c.CmdLine, " ")
		default:
			t.Errorf("the image stage runs %s: want only COPY, USER, EXPOSE and ENTRYPOINT", c.Name())
		}
	}
	assert.Equal(t, entrypoint, "/hello-server", "ENTRYPOINT")
	uid, gid, _ := strings.Cut(user, ":")
	pod := readManifest(t).deployment.Spec.Template.Spec.SecurityContext
	assert.Equal(t, uid, strconv.FormatInt(*pod.RunAsUser, 10), "USER is the manifest's runAsUser (numeric, so that runAsNonRoot can check it)")
	assert.Equal(t, gid, strconv.FormatInt(*pod.RunAsGroup, 10), "USER's group is the manifest's runAsGroup")
	assert.Equal(t, strings.Join(exposed, " "), strconv.Itoa(int(defaultPort(t))), "EXPOSE hello-server's port")
}

// TestImageBinaryIsStatic runs the Dockerfile's own go build command (its
// environment assignments and flags, the output put in a temporary
// directory) and checks the binary it makes needs nothing from the image:
// no ELF interpreter (the dynamic loader), no shared library.
func TestImageBinaryIsStatic(t *testing.T) {
	var command []string
	for _, c := range readDockerfile(t)[0].Commands {
		if run, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(run.CmdLine, " "), "go build") {
			command = strings.Fields(strings.Join(run.CmdLine, " "))
		}
	}
	if command == nil {
		t.Fatal("deploy/Dockerfile has no RUN ... go build")
	}
	var env []string
	for len(command) > 0 && strings.Contains(command[0], "=") {
		env, command = append(env, command[0]), command[1:]
	}
	assert.True(t, len(command) > 2 && command[0] == "go" && command[1] == "build", "the RUN command is go build: "+strings.Join(command, " "))
	bin := filepath.Join(t.TempDir(), "hello-server")
	assert.True(t, slices.Contains(command, "-o"), "go build -o names the binary")
	args := replaceAfter(command[1:], "-o", bin)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, fmt.Sprintf("%s go %s: %s", strings.Join(env, " "), strings.Join(args, " "), out))

	f, err := elf.Open(bin)
	assert.NoError(t, err, "open the binary as ELF")
	defer f.Close()
	for _, p := range f.Progs {
		assert.True(t, p.Type != elf.PT_INTERP, "the binary names no ELF interpreter (dynamic loader)")
	}
	libs, err := f.ImportedLibraries()
	assert.NoError(t, err, "the binary's shared libraries")
	assert.Equal(t, len(libs), 0, fmt.Sprintf("shared libraries the binary needs: %v", libs))
}

// replaceAfter returns args with the argument after flag set to v.
func replaceAfter(args []string, flag, v string) []string {
	out := append([]string(nil), args...)
	for i := range out[:len(out)-1] {
		if out[i] == flag {
			out[i+1] = v
		}
	}
	return out
}
