package kube_test

// These tests run against a real kube-apiserver, etcd and
// kube-controller-manager (kubetest): Deployments really create
// ReplicaSets and pods, Jobs really create pods, namespaces are really
// finalized. There is no kubelet (none runs on these machines without a
// container runtime set up for it): kubetest.Node plays the node by
// writing pod status — Ready for a pod its policy accepts, nothing for
// one whose readiness probe "never passes", Succeeded or Failed with a
// termination message for a Job's pod — and the controllers compute
// availability and completion from that status, as from a kubelet's.

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/kube/kubetest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

const (
	repo    = "acme/shop"
	commitA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	commitB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// digest is a digest of one hex character repeated.
func digest(c string) string { return "sha256:" + strings.Repeat(c, 64) }

func image(svc, commit, dgst string, mod ...func(*events.ServiceSpec)) events.Image {
	s := events.ServiceSpec{Name: svc, Port: 8080, HealthPath: "/healthz"}
	for _, m := range mod {
		m(&s)
	}
	return events.Image{Service: s, Ref: "localhost:5000/acme/shop/" + svc + ":" + commit, Digest: dgst}
}

func newTarget(t *testing.T, c *kubetest.Cluster, ns string, mod ...func(*kube.Options)) *kube.Target {
	t.Helper()
	opts := kube.Options{Config: c.Config, Namespace: ns, RolloutTimeout: 60 * time.Second, Poll: 100 * time.Millisecond}
	for _, m := range mod {
		m(&opts)
	}
	tg, err := kube.New(opts)
	if err != nil {
		t.Fatalf("kube.New: %v", err)
	}
	return tg
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustDeployment(t *testing.T, c *kubetest.Cluster, ns, service string) *appsv1.Deployment {
	t.Helper()
	list, err := c.Client.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{LabelSelector: kube.LabelService + "=" + service})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("deployments of %s in %s: %d, %v; want 1", service, ns, len(list.Items), err)
	}
	return &list.Items[0]
}

func TestFirstDeployAppliesLabelledObjectsAndPassesTheRolloutGate(t *testing.T) {
	c := kubetest.Shared(t)
	node := c.Node(t)
	ns := c.MustNamespace(t, "first")
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	d := deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{
		image("web", commitA, digest("1"), func(s *events.ServiceSpec) { s.Replicas = 2; s.Hosts = []string{"shop.example.com"} }),
		image("worker", commitA, digest("2")),
	}}
	if err := tg.Deploy(ctx, d); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	web := mustDeployment(t, c, ns, "web")
	wantLabels := map[string]string{
		kube.LabelManagedBy: "slipway", kube.LabelRepo: "acme_2fshop", kube.LabelEnv: "staging",
		kube.LabelService: "web", kube.LabelCommit: commitA,
	}
	for k, v := range wantLabels {
		if web.Labels[k] != v {
			t.Errorf("deployment label %s = %q, want %q", k, web.Labels[k], v)
		}
		if web.Spec.Template.Labels[k] != v {
			t.Errorf("pod template label %s = %q, want %q", k, web.Spec.Template.Labels[k], v)
		}
	}
	if !appliedBySlipway(web.ManagedFields) {
		t.Errorf("deployment managed fields %+v: no Apply by field manager slipway", web.ManagedFields)
	}
	if got, want := web.Spec.Template.Spec.Containers[0].Image, "localhost:5000/acme/shop/web@"+digest("1"); got != want {
		t.Errorf("image = %s, want %s", got, want)
	}
	if web.Status.AvailableReplicas != 2 {
		t.Errorf("available replicas = %d, want 2", web.Status.AvailableReplicas)
	}
	svc, err := c.Client.CoreV1().Services(ns).Get(ctx, web.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("service of web: %v", err)
	}
	if svc.Labels[kube.LabelCommit] != commitA || !appliedBySlipway(svc.ManagedFields) || svc.Spec.Selector[kube.LabelService] != "web" {
		t.Errorf("service labels %v selector %v managed %+v", svc.Labels, svc.Spec.Selector, svc.ManagedFields)
	}
	ing, err := c.Client.NetworkingV1().Ingresses(ns).Get(ctx, web.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ingress of web: %v", err)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "shop.example.com" ||
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != svc.Name || !appliedBySlipway(ing.ManagedFields) {
		t.Errorf("ingress spec %+v", ing.Spec)
	}
	worker := mustDeployment(t, c, ns, "worker")
	if _, err := c.Client.NetworkingV1().Ingresses(ns).Get(ctx, worker.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ingress of worker (no hosts): %v, want not found", err)
	}
	rel, err := tg.Current(ctx, repo, "staging")
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if rel.Commit() != commitA || len(rel.Services) != 2 || !rel.Services[0].Running || rel.Services[0].Up != 2 ||
		rel.Services[0].Digest != digest("1") || rel.Services[0].Replicas != 2 {
		t.Errorf("Current = %+v", rel)
	}
	if node.Played(ns) < 3 {
		t.Errorf("node made %d pods ready, want at least 3", node.Played(ns))
	}
}

func appliedBySlipway(mf []metav1.ManagedFieldsEntry) bool {
	for _, m := range mf {
		if m.Manager == kube.FieldManager && m.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

func TestRedeployOfTheRunningCommitIsANoOp(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	ns := c.MustNamespace(t, "noop")
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	d := deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{image("web", commitA, digest("1"))}}
	if err := tg.Deploy(ctx, d); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	before := mustDeployment(t, c, ns, "web")
	// A target of its own whose requests are counted.
	var mu sync.Mutex
	requests := map[string]int{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			requests[r.Method]++
			mu.Unlock()
			return rt.RoundTrip(r)
		})
	}
	counted, err := kube.New(kube.Options{Config: cfg, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := counted.Deploy(ctx, d); err != nil {
		t.Fatalf("second Deploy: %v", err)
	}
	t.Logf("no-op redeploy took %s, requests %v", time.Since(started), requests)
	if len(requests) != 1 || requests[http.MethodGet] != 1 {
		t.Errorf("no-op redeploy sent %v, want one GET (the list of the environment's Deployments) and no write", requests)
	}
	after := mustDeployment(t, c, ns, "web")
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("no-op redeploy wrote the deployment: resource version %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}
}

// TestUnchangedServiceRollsNothingOut: a commit that changes neither a
// service's image nor its values writes the new commit on its Deployment
// (labels, release annotation: Current reports it) and leaves the pod
// template at the commit its pods started at, so no ReplicaSet is made
// (the revision stays; the generation does move: the API server counts a
// Deployment's annotations in it); a value it changes (env) rolls out.
func TestUnchangedServiceRollsNothingOut(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	ns := c.MustNamespace(t, "kept")
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	web := image("web", commitA, digest("1"))
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{web}}); err != nil {
		t.Fatalf("Deploy A: %v", err)
	}
	before := mustDeployment(t, c, ns, "web")
	web.Ref = "localhost:5000/acme/shop/web:" + commitB // a reused build, tagged with B
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitB, Images: []events.Image{web}}); err != nil {
		t.Fatalf("Deploy B: %v", err)
	}
	after := mustDeployment(t, c, ns, "web")
	const revision = "deployment.kubernetes.io/revision"
	if after.Annotations[revision] != before.Annotations[revision] {
		t.Errorf("revision %s -> %s: the pod template changed", before.Annotations[revision], after.Annotations[revision])
	}
	if got := after.Spec.Template.Labels[kube.LabelCommit]; got != commitA {
		t.Errorf("pod template commit label %s, want %s (the pods' own)", got, commitA)
	}
	if got := after.Labels[kube.LabelCommit]; got != commitB {
		t.Errorf("deployment commit label %s, want %s", got, commitB)
	}
	mustReplicaSets(t, c, ns, 1)
	rel, err := tg.Current(ctx, repo, "staging")
	if err != nil || rel.Commit() != commitB || !rel.Services[0].Running || len(rel.Services[0].Instances) != 1 {
		t.Fatalf("Current after B = %+v, %v; want web running at %s", rel, err, commitB)
	}

	web.Service.Env = map[string]string{"GREETING": "hello"}
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{web}}); err != nil {
		t.Fatalf("Deploy A with a changed env: %v", err)
	}
	if got := mustDeployment(t, c, ns, "web"); got.Annotations[revision] == after.Annotations[revision] || got.Spec.Template.Labels[kube.LabelCommit] != commitA {
		t.Errorf("changed env: revision %s, template commit %s; want a new revision at %s", got.Annotations[revision], got.Spec.Template.Labels[kube.LabelCommit], commitA)
	}
	mustReplicaSets(t, c, ns, 2)
}

// mustReplicaSets checks that ns holds n ReplicaSets.
func mustReplicaSets(t *testing.T, c *kubetest.Cluster, ns string, n int) {
	t.Helper()
	rss, err := c.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(rss.Items) != n {
		t.Errorf("replica sets in %s: %d, %v; want %d", ns, len(rss.Items), err, n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFailedRolloutReappliesThePreviousDigests(t *testing.T) {
	c := kubetest.Shared(t)
	node := c.Node(t)
	ns := c.MustNamespace(t, "rollback")
	// B's pods never pass their readiness probe.
	node.Policy(t, ns, func(p *corev1.Pod) kubetest.Outcome {
		if strings.Contains(p.Spec.Containers[0].Image, digest("b")) {
			return kubetest.Outcome{}
		}
		return kubetest.Outcome{Phase: corev1.PodRunning}
	})
	tg := newTarget(t, c, ns, func(o *kube.Options) { o.RolloutTimeout = 4 * time.Second })
	ctx := ctxFor(t)
	a := deploy.Deployment{Repo: repo, Env: "production", Commit: commitA, Images: []events.Image{image("web", commitA, digest("a"))}}
	if err := tg.Deploy(ctx, a); err != nil {
		t.Fatalf("Deploy A: %v", err)
	}
	b := deploy.Deployment{Repo: repo, Env: "production", Commit: commitB, Images: []events.Image{
		image("web", commitB, digest("b")),
		image("api", commitB, digest("c")), // new in B: removed by the rollback
	}}
	err := tg.Deploy(ctx, b)
	var perm *events.PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "web") {
		t.Fatalf("Deploy B = %v, want a permanent error naming web", err)
	}
	t.Logf("Deploy B: %v", err)
	web := mustDeployment(t, c, ns, "web")
	if got, want := web.Spec.Template.Spec.Containers[0].Image, "localhost:5000/acme/shop/web@"+digest("a"); got != want {
		t.Errorf("after the failed rollout the image is %s, want the previous %s", got, want)
	}
	if web.Labels[kube.LabelCommit] != commitA {
		t.Errorf("commit label %s, want %s", web.Labels[kube.LabelCommit], commitA)
	}
	list, _ := c.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelService + "=api"})
	if len(list.Items) != 0 {
		t.Errorf("the service B added is still there: %d deployments", len(list.Items))
	}
	rel, err := tg.Current(ctx, repo, "production")
	if err != nil || rel.Commit() != commitA || !rel.Services[0].Running {
		t.Errorf("Current after rollback = %+v, %v; want A running", rel, err)
	}
}

func TestTasksRunAsJobs(t *testing.T) {
	c := kubetest.Shared(t)
	node := c.Node(t)
	ns := c.MustNamespace(t, "tasks")
	node.Policy(t, ns, func(p *corev1.Pod) kubetest.Outcome {
		args := strings.Join(p.Spec.Containers[0].Args, " ")
		switch args {
		case "migrate up":
			return kubetest.Outcome{Phase: corev1.PodSucceeded, Message: "applied 3 migrations\n"}
		case "migrate broken":
			return kubetest.Outcome{Phase: corev1.PodFailed, ExitCode: 3, Message: "line 1\nmigration 0004 failed: column exists\n"}
		}
		return kubetest.Outcome{} // never ends: the timeout stops it
	})
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	d := deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA}
	img := image("web", commitA, digest("1"))
	out, code, err := tg.RunTask(ctx, d, img, events.Task{Name: "migrate", Command: []string{"migrate", "up"}})
	if err != nil || code != 0 || !strings.Contains(out, "applied 3 migrations") {
		t.Errorf("RunTask(up) = %q, %d, %v; want its output and 0", out, code, err)
	}
	out, code, err = tg.RunTask(ctx, d, img, events.Task{Name: "broken", Command: []string{"migrate", "broken"}})
	if err != nil || code != 3 || !strings.Contains(out, "migration 0004 failed") {
		t.Errorf("RunTask(broken) = %q, %d, %v; want its last lines and exit code 3", out, code, err)
	}
	_, _, err = tg.RunTask(ctx, d, img, events.Task{Name: "hang", Command: []string{"sleep"}, Timeout: 2 * time.Second})
	var perm *events.PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("RunTask(hang) = %v, want a permanent timeout", err)
	}
	jobs, err := c.Client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(jobs.Items) != 0 {
		t.Errorf("jobs left after the tasks: %d, %v", len(jobs.Items), err)
	}
}

func TestPreviewGetsItsOwnNamespaceDeletedWithIt(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	ns := c.MustNamespace(t, "shop")
	tg := newTarget(t, c, ns, func(o *kube.Options) {
		o.Previews = func(_, env string) bool { return strings.HasPrefix(env, "pr-") }
	})
	ctx := ctxFor(t)
	d := deploy.Deployment{Repo: repo, Env: "pr-7", Commit: commitA, Images: []events.Image{image("web", commitA, digest("1"))}}
	if err := tg.Deploy(ctx, d); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	pns := tg.Namespace(repo, "pr-7")
	if pns == ns {
		t.Fatalf("the preview runs in the target's namespace %s", ns)
	}
	got, err := c.Client.CoreV1().Namespaces().Get(ctx, pns, metav1.GetOptions{})
	if err != nil || got.Labels[kube.LabelPreview] != "true" {
		t.Fatalf("preview namespace %s: %v, labels %v", pns, err, got.Labels)
	}
	mustDeployment(t, c, pns, "web")
	if err := tg.Remove(ctx, repo, "pr-7"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, pns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("preview namespace after Remove: %v, want not found", err)
	}
	if rel, err := tg.Current(ctx, repo, "pr-7"); err != nil || len(rel.Services) != 0 {
		t.Errorf("Current after Remove = %+v, %v; want nothing", rel, err)
	}
}

func TestObjectsNoLongerDeclaredArePruned(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	ns := c.MustNamespace(t, "prune")
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	hosts := func(s *events.ServiceSpec) { s.Hosts = []string{"shop.example.com"} }
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{
		image("web", commitA, digest("1"), hosts), image("worker", commitA, digest("2")),
	}}); err != nil {
		t.Fatalf("Deploy A: %v", err)
	}
	// Another environment and a foreign object beside it stay untouched.
	other := newTarget(t, c, ns)
	if err := other.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "qa", Commit: commitA, Images: []events.Image{image("worker", commitA, digest("2"))}}); err != nil {
		t.Fatalf("Deploy qa: %v", err)
	}
	foreign := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "foreign", Labels: map[string]string{kube.LabelEnv: "staging"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := c.Client.CoreV1().Services(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	worker := mustDeploymentEnv(t, c, ns, "staging", "worker")
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitB, Images: []events.Image{
		image("web", commitB, digest("3")),
	}}); err != nil {
		t.Fatalf("Deploy B: %v", err)
	}
	deps, _ := c.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelEnv + "=staging"})
	if len(deps.Items) != 1 || deps.Items[0].Labels[kube.LabelService] != "web" {
		t.Errorf("staging deployments after B: %d, want web only", len(deps.Items))
	}
	if _, err := c.Client.CoreV1().Services(ns).Get(ctx, worker.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("service of the dropped worker: %v, want not found", err)
	}
	web := mustDeploymentEnv(t, c, ns, "staging", "web")
	if _, err := c.Client.NetworkingV1().Ingresses(ns).Get(ctx, web.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ingress of web without hosts: %v, want not found", err)
	}
	if _, err := c.Client.CoreV1().Services(ns).Get(ctx, "foreign", metav1.GetOptions{}); err != nil {
		t.Errorf("a service Slipway did not apply was pruned: %v", err)
	}
	if rel, err := other.Current(ctx, repo, "qa"); err != nil || rel.Commit() != commitA {
		t.Errorf("qa after staging's prune = %+v, %v", rel, err)
	}
	if err := tg.Remove(ctx, repo, "staging"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if rel, _ := tg.Current(ctx, repo, "staging"); len(rel.Services) != 0 {
		t.Errorf("staging after Remove = %+v", rel)
	}
	if rel, _ := other.Current(ctx, repo, "qa"); rel.Commit() != commitA {
		t.Errorf("qa after staging's Remove = %+v", rel)
	}
}

func mustDeploymentEnv(t *testing.T, c *kubetest.Cluster, ns, env, service string) *appsv1.Deployment {
	t.Helper()
	list, err := c.Client.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: kube.LabelService + "=" + service + "," + kube.LabelEnv + "=" + env,
	})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("deployments of %s in %s/%s: %d, %v; want 1", service, ns, env, len(list.Items), err)
	}
	return &list.Items[0]
}

func TestRegistryCredentialsBecomeAnImagePullSecret(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	ns := c.MustNamespace(t, "private")
	const password = "s3cret-pass"
	tg := newTarget(t, c, ns, func(o *kube.Options) {
		o.Registry = kube.Registry{Push: "localhost:5000", Pull: "registry.internal:5443", Auth: &kube.Auth{Username: "deploy", Password: password}}
	})
	ctx := ctxFor(t)
	if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{image("web", commitA, digest("1"))}}); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	web := mustDeployment(t, c, ns, "web")
	if got, want := web.Spec.Template.Spec.Containers[0].Image, "registry.internal:5443/acme/shop/web@"+digest("1"); got != want {
		t.Errorf("image = %s, want %s (the pull address)", got, want)
	}
	ps := web.Spec.Template.Spec.ImagePullSecrets
	if len(ps) != 1 {
		t.Fatalf("image pull secrets = %v, want one", ps)
	}
	sec, err := c.Client.CoreV1().Secrets(ns).Get(ctx, ps[0].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("pull secret: %v", err)
	}
	cfg := string(sec.Data[corev1.DockerConfigJsonKey])
	if sec.Type != corev1.SecretTypeDockerConfigJson || !strings.Contains(cfg, `"registry.internal:5443"`) ||
		!strings.Contains(cfg, `"username":"deploy"`) || !strings.Contains(cfg, password) {
		t.Errorf("pull secret type %s, config %s", sec.Type, cfg)
	}
	if rel, err := tg.Current(ctx, repo, "staging"); err != nil || strings.Contains(rel.Services[0].Image, password) {
		t.Errorf("Current = %+v, %v", rel, err)
	}
	if s := (&kube.Auth{Username: "deploy", Password: password}).String(); strings.Contains(s, password) {
		t.Errorf("Auth.String() = %q shows the password", s)
	}
}
