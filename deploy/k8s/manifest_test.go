// Package k8s_test checks what deploy/ gives Kubernetes: the manifest
// (hello-server.yaml) against hello-server's defaults and Kubernetes' Pod
// Security "restricted" standard, and the image deploy/Dockerfile builds.
// It is a module of its own, so that Kubernetes' API types, its admission
// code and BuildKit's parser stay out of hellorpc's module; deploy's
// TestKubernetesModule runs it from the README's test command.
package k8s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// manifest is deploy/k8s/hello-server.yaml, decoded.
type manifest struct {
	deployment *appsv1.Deployment
	budget     *policyv1.PodDisruptionBudget
	service    *corev1.Service
}

// readManifest decodes hello-server.yaml with the Kubernetes API types, as
// the API server would, but refusing any field the types do not have.
func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile("hello-server.yaml")
	assert.NoError(t, err, "read the manifest")
	var m manifest
	for doc := range strings.SplitSeq(string(b), "\n---\n") {
		var meta struct{ Kind string }
		assert.NoError(t, yaml.Unmarshal([]byte(doc), &meta), "kind")
		switch meta.Kind {
		case "Deployment":
			m.deployment = new(appsv1.Deployment)
			decodeStrict(t, doc, m.deployment)
		case "PodDisruptionBudget":
			m.budget = new(policyv1.PodDisruptionBudget)
			decodeStrict(t, doc, m.budget)
		case "Service":
			m.service = new(corev1.Service)
			decodeStrict(t, doc, m.service)
		default:
			t.Fatalf("unexpected kind %q", meta.Kind)
		}
	}
	if m.deployment == nil || m.budget == nil || m.service == nil {
		t.Fatal("want a Deployment, a PodDisruptionBudget and a Service")
	}
	return m
}

// decodeStrict decodes one YAML document into v, refusing any field that
// v's type does not have.
func decodeStrict(t *testing.T, doc string, v any) {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	assert.NoError(t, err, "YAML to JSON")
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	assert.NoError(t, dec.Decode(v), fmt.Sprintf("decode %T strictly", v))
}

// defaultPort is hello-server's default port (-addr :50000).
func defaultPort(t *testing.T) int32 {
	_, text, err := net.SplitHostPort(server.DefaultAddr)
	assert.NoError(t, err, "default address")
	port, err := strconv.Atoi(text)
	assert.NoError(t, err, "default port")
	return int32(port)
}

// TestManifest checks hello-server.yaml against hello-server's defaults, so
// that the two cannot drift: the port, the HTTP health endpoints, timings
// that let a pod leave the Service before its listener closes and finish
// its drain before it is killed; and what operators expect of it: a pinned
// image, a disruption budget, replicas spread over nodes, and a memory
// limit that hello-server derives its own soft limit from.
func TestManifest(t *testing.T) {
	m := readManifest(t)
	port := defaultPort(t)
	spec := m.deployment.Spec.Template.Spec
	assert.Equal(t, *m.deployment.Spec.Replicas, int32(3), "replicas")
	assert.Equal(t, len(spec.Containers), 1, "containers")
	c := spec.Containers[0]
	assert.Equal(t, c.Ports[0].ContainerPort, port, "container port = hello-server's default port")
	args := strings.Join(c.Args, " ")
	assert.Contains(t, args, fmt.Sprintf("-addr :%d", port), "the container listens on that port")

	// Readiness asks /readyz (503 while draining), liveness /healthz (200
	// while the process serves, draining too).
	for name, probe := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readiness": {c.ReadinessProbe, "/readyz"}, "liveness": {c.LivenessProbe, "/healthz"}} {
		if probe.probe == nil || probe.probe.HTTPGet == nil {
			t.Fatalf("%s probe: want an HTTP GET", name)
		}
		assert.Equal(t, probe.probe.HTTPGet.Path, probe.path, name+" probe path")
		assert.Equal(t, probe.probe.HTTPGet.Port.String(), c.Ports[0].Name, name+" probe port")
	}
	seconds := func(n int32) time.Duration { return time.Duration(n) * time.Second }

	// One slow check does not take a pod out; a drain does, before the
	// listener closes.
	r := c.ReadinessProbe
	assert.True(t, r.FailureThreshold > 1, "readiness survives one failed check")
	notReadyWithin := seconds(r.PeriodSeconds*r.FailureThreshold + r.TimeoutSeconds)
	t.Logf("readiness notices a drain within %v; -drain-delay is %v", notReadyWithin, server.DefaultDrainDelay)
	assert.True(t, notReadyWithin < server.DefaultDrainDelay, "readiness fails before the drain delay ends")

	// Killed only after the drain: the grace period covers the delay and the
	// shutdown timeout, and liveness does not fail first.
	grace := seconds(int32(*spec.TerminationGracePeriodSeconds))
	need := server.DefaultDrainDelay + server.DefaultShutdownTimeout
	assert.True(t, grace > need, fmt.Sprintf("terminationGracePeriodSeconds %v covers -drain-delay + -shutdown-timeout (%v)", grace, need))
	l := c.LivenessProbe
	assert.True(t, seconds(l.PeriodSeconds*l.FailureThreshold) > grace, "liveness does not kill a draining pod")

	// A pinned image, the one deploy/Dockerfile's build command makes.
	name, tag, ok := strings.Cut(c.Image, ":")
	assert.True(t, ok && tag != "" && tag != "latest" && !strings.Contains(tag, "/"), "the image has a pinned tag: "+c.Image)
	assert.Equal(t, name, "hello-server", "image name")
	for _, file := range []string{"../Dockerfile", "../README.md"} {
		b, err := os.ReadFile(file)
		assert.NoError(t, err, "read "+file)
		builds := regexp.MustCompile(`docker build -f deploy/Dockerfile -t (\S+) \.`).FindAllStringSubmatch(string(b), -1)
		assert.True(t, len(builds) > 0, file+" says how to build the image")
		for _, b := range builds {
			assert.Equal(t, b[1], c.Image, file+"'s build command names the manifest's image")
		}
	}

	// The soft memory limit comes from the container's limit: no
	// -memory-limit, no GOMEMLIMIT, a memory limit set.
	assert.True(t, !strings.Contains(args, "-memory-limit"), "no -memory-limit: hello-server derives it from the cgroup")
	for _, env := range c.Env {
		assert.True(t, env.Name != "GOMEMLIMIT", "no GOMEMLIMIT: hello-server derives it from the cgroup")
	}
	assert.True(t, !c.Resources.Limits.Memory().IsZero(), "a memory limit for hello-server to derive its soft limit from")

	// Voluntary disruptions take one pod at a time, of the pods the
	// Deployment makes.
	budget := m.budget.Spec
	assert.True(t, budget.MaxUnavailable != nil && budget.MaxUnavailable.IntValue() == 1 && budget.MinAvailable == nil, "the budget lets one pod go at a time")
	selects(t, "the budget", budget.Selector.MatchLabels, m.deployment.Spec.Template.Labels)

	// Spread over nodes, strictly, and over zones where there are some.
	keys := map[string]corev1.UnsatisfiableConstraintAction{}
	for _, c := range spec.TopologySpreadConstraints {
		keys[c.TopologyKey] = c.WhenUnsatisfiable
		assert.Equal(t, c.MaxSkew, int32(1), "max skew over "+c.TopologyKey)
		selects(t, "the spread over "+c.TopologyKey, c.LabelSelector.MatchLabels, m.deployment.Spec.Template.Labels)
		assert.True(t, slices.Contains(c.MatchLabelKeys, "pod-template-hash"), "spread each rollout's pods, not old and new together")
	}
	assert.Equal(t, keys[corev1.LabelHostname], corev1.DoNotSchedule, "spread over nodes")
	assert.Equal(t, keys[corev1.LabelTopologyZone], corev1.ScheduleAnyway, "spread over zones, where there are some")

	// The Service sends its port to the container's, as h2c.
	assert.Equal(t, len(m.service.Spec.Ports), 2, "service ports: h2c and metrics")
	sp := m.service.Spec.Ports[0]
	assert.Equal(t, sp.TargetPort.String(), c.Ports[0].Name, "service targets the container port")
	assert.Equal(t, sp.Port, port, "service port")
	assert.True(t, sp.AppProtocol != nil && *sp.AppProtocol == "kubernetes.io/h2c", "appProtocol h2c")
	selects(t, "the service", m.service.Spec.Selector, m.deployment.Spec.Template.Labels)

	// Metrics: hello-server's default -metrics-addr, :9464, exposed and
	// announced for scraping on the pods and the Service alike.
	const metricsPort = 9464
	assert.Equal(t, len(c.Ports), 2, "container ports: h2c and metrics")
	assert.Equal(t, c.Ports[1].ContainerPort, int32(metricsPort), "metrics container port")
	mp := m.service.Spec.Ports[1]
	assert.Equal(t, mp.TargetPort.String(), c.Ports[1].Name, "service targets the metrics port")
	assert.Equal(t, mp.Port, int32(metricsPort), "service metrics port")
	for what, annotations := range map[string]map[string]string{"pods": m.deployment.Spec.Template.Annotations, "service": m.service.Annotations} {
		assert.Equal(t, annotations["prometheus.io/scrape"], "true", what+": prometheus.io/scrape")
		assert.Equal(t, annotations["prometheus.io/port"], fmt.Sprint(metricsPort), what+": prometheus.io/port")
		assert.Equal(t, annotations["prometheus.io/path"], "/metrics", what+": prometheus.io/path")
	}
}

// selects checks that a selector's labels pick the pods with podLabels.
func selects(t *testing.T, what string, selector, podLabels map[string]string) {
	t.Helper()
	assert.True(t, len(selector) > 0, what+" selects by label")
	for k, v := range selector {
		assert.Equal(t, podLabels[k], v, what+" selects the pods: "+k)
	}
}
