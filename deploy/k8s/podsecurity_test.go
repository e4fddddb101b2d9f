package k8s_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestPodSecurityRestricted runs the checks of Kubernetes' Pod Security
// admission (the code the API server runs for a namespace labelled
// pod-security.kubernetes.io/enforce: restricted) on the Deployment's pod
// template: every one passes, at the latest version of the standard. Pods
// that miss one of the settings the standard requires are refused by the
// same code, so that the check is seen to bite.
func TestPodSecurityRestricted(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	assert.NoError(t, err, "Pod Security evaluator")
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	template := readManifest(t).deployment.Spec.Template

	result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &template.ObjectMeta, &template.Spec))
	if !result.Allowed {
		t.Fatalf("Pod Security %s forbids the pod: %s: %s", restricted.String(), result.ForbiddenReason(), result.ForbiddenDetail())
	}

	for what, weaken := range map[string]func(*corev1.PodSpec){
		"capabilities not dropped": func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.Capabilities = nil },
		"no seccomp profile":       func(s *corev1.PodSpec) { s.SecurityContext.SeccompProfile = nil },
		"may run as root":          func(s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = nil },
		"privilege escalation":     func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil },
	} {
		spec := template.Spec.DeepCopy()
		weaken(spec)
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &template.ObjectMeta, spec))
		assert.True(t, !result.Allowed, "Pod Security restricted refuses a pod with "+what)
	}
}
