package kube_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/kube/kubetest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

const manifestDir = "../deployments/k8s"

// kustomization is the part of deployments/k8s/kustomization.yaml that
// `kubectl apply -k` reads: the files, in order, and the image names it
// rewrites.
type kustomization struct {
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

// mustManifests reads the objects of deployments/k8s as kustomize would
// build them: every resource file in order, images renamed.
func mustManifests(t *testing.T, only ...string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	images := map[string]string{}
	for _, i := range k.Images {
		images[i.Name] = i.NewName + ":" + i.NewTag
	}
	var objs []*unstructured.Unstructured
	for _, f := range k.Resources {
		if len(only) > 0 && !contains(only, f) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(manifestDir, f))
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if m == nil {
				continue
			}
			o := &unstructured.Unstructured{Object: m}
			renameImages(m, images)
			objs = append(objs, o)
		}
	}
	return objs
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// renameImages applies the kustomization's images: a container image
// named exactly as an entry becomes its new name and tag.
func renameImages(v any, images map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "image" && images[s] != "" {
				x[k] = images[s]
				continue
			}
			renameImages(val, images)
		}
	case []any:
		for _, e := range x {
			renameImages(e, images)
		}
	}
}

type applier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newApplier(t *testing.T, c *kubetest.Cluster) *applier {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

func (a *applier) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.dyn.Resource(m.Resource).Namespace(o.GetNamespace()), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

// apply applies o server-side (for real, no dry run) and returns it as the
// server read it back.
func (a *applier) apply(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r, err := a.resource(o)
	if err != nil {
		return nil, err
	}
	if _, err := r.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "slipway-manifests-test", Force: true}); err != nil {
		return nil, err
	}
	return r.Get(ctx, o.GetName(), metav1.GetOptions{})
}

func TestDeploymentsK8sAppliesServerSideAsDeclared(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	a := newApplier(t, c)
	ctx := ctxFor(t)
	objs := mustManifests(t)
	kinds := map[string]int{}
	for _, o := range objs {
		live, err := a.apply(ctx, o)
		if err != nil {
			t.Errorf("apply %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			continue
		}
		declared := o.DeepCopy().Object
		stringDataToData(declared)
		if diff := subset("", declared, live.Object); diff != "" {
			t.Errorf("%s %s/%s read back differs from what was declared: %s", o.GetKind(), o.GetNamespace(), o.GetName(), diff)
		}
		kinds[o.GetKind()]++
	}
	t.Logf("applied and read back %d objects: %v", len(objs), kinds)
	for _, k := range []string{"Namespace", "ConfigMap", "Secret", "Service", "Deployment", "StatefulSet", "NetworkPolicy", "PodDisruptionBudget", "ClusterRole", "ClusterRoleBinding", "ServiceAccount"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the manifests applied", k)
		}
	}
	ing, err := c.Client.AppsV1().Deployments("slipway").Get(ctx, "ingest", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ing.Spec.Template.Spec.Containers[0].Image; got != "registry.example.internal/slipway:dev" {
		t.Errorf("ingest image = %s, want the kustomization's registry.example.internal/slipway:dev", got)
	}
}

// stringDataToData turns a Secret's stringData into the data the server
// stores it as.
func stringDataToData(o map[string]any) {
	sd, ok := o["stringData"].(map[string]any)
	if !ok {
		return
	}
	data, _ := o["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(v)))
	}
	o["data"] = data
	delete(o, "stringData")
}

// subset returns where want is not contained in got ("" when it is):
// every declared field must come back with its value; the server may add
// defaults. Numbers compare by value, quantities ("1Gi", "100m") by amount.
func subset(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want a map, got %T", path, got)
		}
		for k, v := range w {
			if d := subset(path+"."+k, v, g[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %d items, got %v", path, len(w), got)
		}
		for i := range w {
			if d := subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if wn, ok := number(want); ok {
		if gn, ok := number(got); ok && wn == gn {
			return ""
		}
	}
	if ws, ok := want.(string); ok {
		if gs, ok := got.(string); ok && sameQuantity(path, ws, gs) {
			return ""
		}
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: declared %v (%T), read back %v (%T)", path, want, want, got, got)
	}
	return ""
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func sameQuantity(path, a, b string) bool {
	if !strings.Contains(path, "resources") && !strings.Contains(path, "storage") {
		return a == b
	}
	qa, err1 := resource.ParseQuantity(a)
	qb, err2 := resource.ParseQuantity(b)
	return err1 == nil && err2 == nil && qa.Cmp(qb) == 0
}

// TestShippedRBACIsEnoughForTheTarget runs the target as the service
// account deployments/k8s/rbac.yaml binds, with exactly the rights of its
// ClusterRole (a client certificate naming the service account's user):
// a deploy with an Ingress and a pull secret, a task, a prune, a preview's
// namespace and its removal. Any missing right is a Forbidden error.
func TestShippedRBACIsEnoughForTheTarget(t *testing.T) {
	c := kubetest.Shared(t)
	c.Node(t)
	a := newApplier(t, c)
	ctx := ctxFor(t)
	for _, o := range mustManifests(t, "namespace.yaml", "rbac.yaml") {
		if _, err := a.apply(ctx, o); err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	_, cfg := c.User(t, "system:serviceaccount:slipway:slipway-deployer")
	ns := c.MustNamespace(t, "rbac")
	tg, err := kube.New(kube.Options{
		Config: cfg, Namespace: ns, Poll: 100 * time.Millisecond,
		Previews: func(_, env string) bool { return strings.HasPrefix(env, "pr-") },
		Registry: kube.Registry{Push: "localhost:5000", Auth: &kube.Auth{Username: "u", Password: "p"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hosts := func(s *events.ServiceSpec) { s.Hosts = []string{"shop.example.com"} }
	for _, env := range []string{"staging", "pr-1"} {
		if _, _, err := tg.RunTask(ctx, deploy.Deployment{Repo: repo, Env: env, Commit: commitA}, image("web", commitA, digest("1")),
			events.Task{Name: "migrate", Command: []string{"true"}}); err != nil {
			t.Errorf("RunTask in %s: %v", env, err)
		}
		if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: env, Commit: commitA, Images: []events.Image{
			image("web", commitA, digest("1"), hosts), image("worker", commitA, digest("2")),
		}}); err != nil {
			t.Fatalf("Deploy A to %s: %v", env, err)
		}
		if err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: env, Commit: commitB, Images: []events.Image{
			image("web", commitB, digest("3")),
		}}); err != nil {
			t.Fatalf("Deploy B to %s (prunes): %v", env, err)
		}
		if _, err := tg.Current(ctx, repo, env); err != nil {
			t.Errorf("Current of %s: %v", env, err)
		}
		if err := tg.Remove(ctx, repo, env); err != nil {
			t.Errorf("Remove %s: %v", env, err)
		}
	}
}
