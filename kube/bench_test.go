package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/kube/kubetest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// BenchmarkApplyToAvailable measures a deploy of one service (2 replicas)
// from apply to available: Slipway's Deploy against the same objects
// applied server-side by a bare client-go loop and waited for with a watch
// the way `kubectl apply` + `kubectl rollout status` do (kubectl is not
// built here), in turns within one run. Both alternate between two
// commits, so every iteration is a real rollout; kubetest's status-only
// node makes the pods ready.
func BenchmarkApplyToAvailable(b *testing.B) {
	c := kubetest.Shared(b)
	c.Node(b)
	ctx := context.Background()
	commits := []string{strings.Repeat("a", 40), strings.Repeat("b", 40)}
	deployment := func(i int) deploy.Deployment {
		commit := commits[i%2]
		return deploy.Deployment{Repo: "acme/shop", Env: "bench", Commit: commit, Images: []events.Image{{
			Service: events.ServiceSpec{Name: "web", Port: 8080, HealthPath: "/healthz", Replicas: 2},
			Ref:     "localhost:5000/acme/shop/web:" + commit, Digest: "sha256:" + strings.Repeat(commit[:1], 64),
		}}}
	}
	newTarget := func(b *testing.B, ns string) *Target {
		tg, err := New(Options{Config: c.Config, Namespace: ns})
		if err != nil {
			b.Fatal(err)
		}
		return tg
	}
	nsS, nsR := c.MustNamespace(b, "bench-slipway"), c.MustNamespace(b, "bench-raw")
	tgS, tgR := newTarget(b, nsS), newTarget(b, nsR)
	var slipway, raw time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := tgS.Deploy(ctx, deployment(i)); err != nil {
			b.Fatal(err)
		}
		slipway += time.Since(start)
		start = time.Now()
		if err := applyAndWatch(ctx, tgR, nsR, deployment(i)); err != nil {
			b.Fatal(err)
		}
		raw += time.Since(start)
	}
	b.ReportMetric(float64(slipway.Milliseconds())/float64(b.N), "slipway-ms/op")
	b.ReportMetric(float64(raw.Milliseconds())/float64(b.N), "raw-ms/op")
	b.ReportMetric(float64(slipway)/float64(raw), "slipway/raw-ratio")
}

// applyAndWatch is `kubectl apply --server-side` of the service's objects
// and `kubectl rollout status`: one apply per object, then a watch of the
// Deployment until its rollout is complete.
func applyAndWatch(ctx context.Context, tg *Target, ns string, d deploy.Deployment) error {
	img := d.Images[0]
	if _, err := tg.client.CoreV1().Services(ns).Apply(ctx, service(ns, d, img.Service), applyOptions); err != nil {
		return err
	}
	dep, err := tg.deployment(ns, d, img, d.Commit)
	if err != nil {
		return err
	}
	applied, err := tg.client.AppsV1().Deployments(ns).Apply(ctx, dep, applyOptions)
	if err != nil {
		return err
	}
	w, err := tg.client.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", applied.Name).String(), ResourceVersion: applied.ResourceVersion,
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		if ev.Type != watch.Modified && ev.Type != watch.Added {
			continue
		}
		if done, _ := rolloutStatus(ev.Object.(*appsv1.Deployment)); done {
			return nil
		}
	}
	return ctx.Err()
}
