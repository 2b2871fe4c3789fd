package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// release is what one Deployment was applied from, kept in its
// AnnotationRelease: enough to report it and to apply it again.
type release struct {
	Repo   string       `json:"repo"`
	Env    string       `json:"env"`
	Commit string       `json:"commit"`
	Image  events.Image `json:"image"`
	// Started is the commit its pod template carries (label and
	// SLIPWAY_COMMIT): Commit, or the earlier commit whose pods a deploy
	// kept because the service did not change. "" is Commit.
	Started string `json:"started,omitempty"`
	// Secrets are the versions of the secrets of the service
	// (target.SecretsKey).
	Secrets string `json:"secrets,omitempty"`
}

func (r release) deployment() deploy.Deployment {
	return deploy.Deployment{Repo: r.Repo, Env: r.Env, Commit: r.Commit, Images: []events.Image{r.Image}}
}

// started returns the commit r's pods were started at.
func (r release) started() string {
	if r.Started == "" {
		return r.Commit
	}
	return r.Started
}

// values returns what r's pods were started with.
func (r release) values() target.Values {
	return target.Values{Ref: r.Image.Ref, Digest: r.Image.Digest, Spec: target.RunSpec(r.Image.Service), Secrets: r.Secrets}
}

// pullRef is the reference the cluster pulls img by: its repository moved
// from the push to the pull registry, and its digest.
func (t *Target) pullRef(img events.Image) (string, error) {
	ref := img.Ref
	r := t.opts.Registry
	if r.Pull != "" && r.Push != "" {
		if rest, ok := strings.CutPrefix(ref, r.Push+"/"); ok {
			ref = r.Pull + "/" + rest
		}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", ref, err)
	}
	if !strings.HasPrefix(img.Digest, "sha256:") || len(img.Digest) != len("sha256:")+64 {
		return "", fmt.Errorf("image %s: digest %q is not sha256:<64 hex>", ref, img.Digest)
	}
	pinned := reference.TrimNamed(named).String() + "@" + img.Digest
	if _, err := reference.ParseNormalizedNamed(pinned); err != nil {
		return "", fmt.Errorf("image %s: %w", pinned, err)
	}
	return pinned, nil
}

// deployment is the Deployment of one service of d whose pods run started:
// d.Commit, or the commit of the pods it keeps (startedAt). The pod
// template carries started, the Deployment itself d.Commit, so keeping
// pods changes no template and rolls nothing out.
func (t *Target) deployment(ns string, d deploy.Deployment, img events.Image, started string) (*appsv1ac.DeploymentApplyConfiguration, error) {
	s := img.Service
	rel, err := json.Marshal(release{Repo: d.Repo, Env: d.Env, Commit: d.Commit, Image: img, Started: started, Secrets: target.SecretsKey(d, s)})
	if err != nil {
		return nil, err
	}
	run := d
	run.Commit = started
	pod, err := t.podSpec(run, img)
	if err != nil {
		return nil, err
	}
	deadline := int32(t.opts.RolloutTimeout.Seconds())
	return appsv1ac.Deployment(objectName(d.Repo, d.Env, s.Name), ns).
		WithLabels(objectLabels(d.Repo, d.Env, s.Name, d.Commit)).
		WithAnnotations(map[string]string{AnnotationRepo: d.Repo, AnnotationRelease: string(rel)}).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(int32(replicas(s))).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(selectorLabels(d.Repo, d.Env, s.Name))).
			WithProgressDeadlineSeconds(deadline).
			WithRevisionHistoryLimit(5).
			// The previous pods serve until the new ones are ready.
			WithStrategy(appsv1ac.DeploymentStrategy().
				WithType(appsv1.RollingUpdateDeploymentStrategyType).
				WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
					WithMaxUnavailable(intstr.FromInt32(0)).
					WithMaxSurge(intstr.FromString("100%")))).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(objectLabels(d.Repo, d.Env, s.Name, started)).
				WithSpec(pod))), nil
}

// podSpec runs one container of img's service: pulled by digest, ready
// when its health path answers, no service account token, no privilege
// escalation.
func (t *Target) podSpec(d deploy.Deployment, img events.Image) (*corev1ac.PodSpecApplyConfiguration, error) {
	c, err := t.container(d, img)
	if err != nil {
		return nil, err
	}
	s := img.Service
	c.WithPorts(corev1ac.ContainerPort().WithName("http").WithContainerPort(int32(s.Port)).WithProtocol(corev1.ProtocolTCP)).
		WithReadinessProbe(corev1ac.Probe().
			WithHTTPGet(corev1ac.HTTPGetAction().WithPath(target.ProbePath(s.HealthPath)).WithPort(intstr.FromString("http"))).
			WithPeriodSeconds(2).WithTimeoutSeconds(2).WithFailureThreshold(3))
	return t.pod(d, c), nil
}

// pod is the pod spec around one container.
func (t *Target) pod(d deploy.Deployment, c *corev1ac.ContainerApplyConfiguration) *corev1ac.PodSpecApplyConfiguration {
	p := corev1ac.PodSpec().
		WithContainers(c).
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false)
	if t.opts.Registry.Auth != nil {
		p.WithImagePullSecrets(corev1ac.LocalObjectReference().WithName(pullSecretName(d.Repo, d.Env)))
	}
	return p
}

// container is the container of img's service with its environment,
// resources and user.
func (t *Target) container(d deploy.Deployment, img events.Image) (*corev1ac.ContainerApplyConfiguration, error) {
	s := img.Service
	ref, err := t.pullRef(img)
	if err != nil {
		return nil, err
	}
	c := corev1ac.Container().
		WithName("app").
		WithImage(ref).
		WithImagePullPolicy(corev1.PullIfNotPresent).
		WithEnv(environment(d, s)...).
		// The kubelet copies the log's end here when the container fails.
		WithTerminationMessagePolicy(corev1.TerminationMessageFallbackToLogsOnError).
		WithSecurityContext(corev1ac.SecurityContext().WithAllowPrivilegeEscalation(false))
	if r := resources(s.Resources); r != nil {
		c.WithResources(r)
	}
	if s.User != "" {
		uid, gid, err := numericUser(s.User)
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Name, err)
		}
		c.SecurityContext.WithRunAsUser(uid)
		if gid >= 0 {
			c.SecurityContext.WithRunAsGroup(gid)
		}
	}
	return c, nil
}

// numericUser parses "uid" or "uid:gid"; Kubernetes runs containers by
// number only.
func numericUser(u string) (uid, gid int64, err error) {
	us, gs, hasGroup := strings.Cut(u, ":")
	if uid, err = strconv.ParseInt(us, 10, 64); err != nil || uid < 0 {
		return 0, 0, fmt.Errorf("user %q: Kubernetes needs a numeric uid[:gid]", u)
	}
	gid = -1
	if hasGroup {
		if gid, err = strconv.ParseInt(gs, 10, 64); err != nil || gid < 0 {
			return 0, 0, fmt.Errorf("user %q: Kubernetes needs a numeric uid[:gid]", u)
		}
	}
	return uid, gid, nil
}

func resources(r events.Resources) *corev1ac.ResourceRequirementsApplyConfiguration {
	limits := corev1.ResourceList{}
	if r.Memory > 0 {
		limits[corev1.ResourceMemory] = *resource.NewQuantity(r.Memory, resource.BinarySI)
	}
	if r.CPUs > 0 {
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(r.CPUs*1000), resource.DecimalSI)
	}
	if len(limits) == 0 {
		return nil
	}
	return corev1ac.ResourceRequirements().WithLimits(limits)
}

// environment is the service's variables, sorted, then Slipway's, which
// win (as on the Docker target).
func environment(d deploy.Deployment, s events.ServiceSpec) []*corev1ac.EnvVarApplyConfiguration {
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		if !strings.HasPrefix(k, "SLIPWAY_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	env := make([]*corev1ac.EnvVarApplyConfiguration, 0, len(keys)+3)
	for _, k := range keys {
		env = append(env, corev1ac.EnvVar().WithName(k).WithValue(s.Env[k]))
	}
	return append(env,
		corev1ac.EnvVar().WithName("SLIPWAY_COMMIT").WithValue(d.Commit),
		corev1ac.EnvVar().WithName("SLIPWAY_ENV").WithValue(d.Env),
		corev1ac.EnvVar().WithName("SLIPWAY_SERVICE").WithValue(s.Name))
}

// service is the ClusterIP Service in front of one service's pods.
func service(ns string, d deploy.Deployment, s events.ServiceSpec) *corev1ac.ServiceApplyConfiguration {
	return corev1ac.Service(objectName(d.Repo, d.Env, s.Name), ns).
		WithLabels(objectLabels(d.Repo, d.Env, s.Name, d.Commit)).
		WithAnnotations(map[string]string{AnnotationRepo: d.Repo}).
		WithSpec(corev1ac.ServiceSpec().
			WithType(corev1.ServiceTypeClusterIP).
			WithSelector(selectorLabels(d.Repo, d.Env, s.Name)).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(int32(s.Port)).
				WithTargetPort(intstr.FromString("http")).WithProtocol(corev1.ProtocolTCP)))
}

// ingress routes the service's declared hosts to its Service.
func (t *Target) ingress(ns string, d deploy.Deployment, s events.ServiceSpec) *networkingv1ac.IngressApplyConfiguration {
	name := objectName(d.Repo, d.Env, s.Name)
	spec := networkingv1ac.IngressSpec()
	if t.opts.IngressClass != "" {
		spec.WithIngressClassName(t.opts.IngressClass)
	}
	for _, h := range s.Hosts {
		spec.WithRules(networkingv1ac.IngressRule().WithHost(h).WithHTTP(networkingv1ac.HTTPIngressRuleValue().
			WithPaths(networkingv1ac.HTTPIngressPath().
				WithPath("/").WithPathType(networkingv1.PathTypePrefix).
				WithBackend(networkingv1ac.IngressBackend().WithService(
					networkingv1ac.IngressServiceBackend().WithName(name).
						WithPort(networkingv1ac.ServiceBackendPort().WithName("http")))))))
	}
	return networkingv1ac.Ingress(name, ns).
		WithLabels(objectLabels(d.Repo, d.Env, s.Name, d.Commit)).
		WithAnnotations(map[string]string{AnnotationRepo: d.Repo}).
		WithSpec(spec)
}

// pullSecret is the image pull secret of d's environment.
func (t *Target) pullSecret(ns string, d deploy.Deployment) (*corev1ac.SecretApplyConfiguration, error) {
	r := t.opts.Registry
	host := r.Pull
	if host == "" {
		host = r.Push
	}
	cfg, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"username": r.Auth.Username, "password": r.Auth.Password,
	}}})
	if err != nil {
		return nil, err
	}
	return corev1ac.Secret(pullSecretName(d.Repo, d.Env), ns).
		WithLabels(envLabels(d.Repo, d.Env)).
		WithAnnotations(map[string]string{AnnotationRepo: d.Repo}).
		WithType(corev1.SecretTypeDockerConfigJson).
		WithData(map[string][]byte{corev1.DockerConfigJsonKey: cfg}), nil
}

func replicas(s events.ServiceSpec) int {
	if s.Replicas < 1 {
		return 1
	}
	return s.Replicas
}
