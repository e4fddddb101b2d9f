package deploy_test

import (
	"os/exec"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// TestKubernetesModule runs the tests of deploy/k8s (the manifest against
// Pod Security's checks, the image's Dockerfile and binary), a module of its
// own so that Kubernetes' and BuildKit's code stay out of hellorpc's; go
// test ./... does not enter it by itself. Without -race: those tests share
// nothing between goroutines, and the race detector would only add the cost
// of compiling Kubernetes' API types with it.
func TestKubernetesModule(t *testing.T) {
	t.Parallel()
	testenv.SkipIfShort(t, "go test in the deploy/k8s module")
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = "k8s"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test ./... in deploy/k8s: %v\n%s", err, out)
	}
	t.Logf("go test ./... in deploy/k8s:\n%s", out)
}
