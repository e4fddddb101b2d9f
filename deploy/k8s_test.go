package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// decodeStrict decodes one YAML document into v as Kubernetes would, but
// refusing any field that v's type does not have.
func decodeStrict(t *testing.T, doc string, v any) {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	assert.NoError(t, err, "YAML to JSON")
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	assert.NoError(t, dec.Decode(v), fmt.Sprintf("decode %T strictly", v))
}

// TestKubernetesManifests decodes deploy/k8s/hello-server.yaml with the
// Kubernetes API types, unknown fields refused, and checks it against
// hello-server's defaults, so that the two cannot drift: the port, the gRPC
// health probes, and timings that let a pod leave the Service before its
// listener closes and finish its drain before it is killed.
func TestKubernetesManifests(t *testing.T) {
	b, err := os.ReadFile("k8s/hello-server.yaml")
	assert.NoError(t, err, "read the manifests")
	_, portText, err := net.SplitHostPort(server.DefaultAddr)
	assert.NoError(t, err, "default address")
	port, _ := strconv.Atoi(portText)

	var deployment *appsv1.Deployment
	var service *corev1.Service
	for doc := range strings.SplitSeq(string(b), "\n---\n") {
		var meta struct{ Kind string }
		assert.NoError(t, yaml.Unmarshal([]byte(doc), &meta), "kind")
		switch meta.Kind {
		case "Deployment":
			deployment = new(appsv1.Deployment)
			decodeStrict(t, doc, deployment)
		case "Service":
			service = new(corev1.Service)
			decodeStrict(t, doc, service)
		default:
			t.Fatalf("unexpected kind %q", meta.Kind)
		}
	}
	if deployment == nil || service == nil {
		t.Fatal("want a Deployment and a Service")
	}

	spec := deployment.Spec.Template.Spec
	assert.Equal(t, *deployment.Spec.Replicas, int32(3), "replicas")
	assert.Equal(t, len(spec.Containers), 1, "containers")
	c := spec.Containers[0]
	assert.Equal(t, c.Ports[0].ContainerPort, int32(port), "container port = hello-server's default port")
	assert.True(t, strings.Contains(strings.Join(c.Args, " "), "-addr :"+portText), "the container listens on that port")
	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if probe == nil || probe.GRPC == nil {
			t.Fatalf("%s probe: want Kubernetes' gRPC probe on grpc.health.v1", name)
		}
		assert.Equal(t, probe.GRPC.Port, int32(port), name+" probe port")
		assert.True(t, probe.GRPC.Service == nil || *probe.GRPC.Service == "", name+" probe asks for the server's overall health")
	}
	seconds := func(n int32) time.Duration { return time.Duration(n) * time.Second }

	// Out of the endpoints before the listener closes: the readiness probe
	// fails within the drain delay.
	r := c.ReadinessProbe
	notReadyWithin := seconds(r.PeriodSeconds*r.FailureThreshold + r.TimeoutSeconds)
	t.Logf("readiness notices a drain within %v; -drain-delay is %v", notReadyWithin, server.DefaultDrainDelay)
	assert.True(t, notReadyWithin <= server.DefaultDrainDelay, "readiness fails before the drain delay ends")

	// Killed only after the drain: the grace period covers the delay and the
	// shutdown timeout, and liveness does not fail first.
	grace := seconds(int32(*spec.TerminationGracePeriodSeconds))
	need := server.DefaultDrainDelay + server.DefaultShutdownTimeout
	assert.True(t, grace > need, fmt.Sprintf("terminationGracePeriodSeconds %v covers -drain-delay + -shutdown-timeout (%v)", grace, need))
	l := c.LivenessProbe
	assert.True(t, seconds(l.PeriodSeconds*l.FailureThreshold) > grace, "liveness does not kill a draining pod")

	// The Service sends its port to the container's, as h2c.
	assert.Equal(t, len(service.Spec.Ports), 1, "service ports")
	sp := service.Spec.Ports[0]
	assert.Equal(t, sp.TargetPort.String(), c.Ports[0].Name, "service targets the container port")
	assert.Equal(t, sp.Port, int32(port), "service port")
	assert.True(t, sp.AppProtocol != nil && *sp.AppProtocol == "kubernetes.io/h2c", "appProtocol h2c")
	for k, v := range service.Spec.Selector {
		assert.Equal(t, deployment.Spec.Template.Labels[k], v, "the service selects the pods: "+k)
	}
}
