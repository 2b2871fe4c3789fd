package kube_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/kube/kubetest"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
	"github.com/slipway-dev/slipway/workflows/target/targettest"
)

// TestConformance runs the target conformance suite against the
// Kubernetes target, its pods run for real by kubetest.Kubelet on the
// Docker daemon beside the tests.
func TestConformance(t *testing.T) {
	cli := dockertest.MustDocker(t)
	img := func(name string, cmd []string) targettest.Image {
		i := dockertest.MustImage(t, cli, name, cmd...)
		return targettest.Image{Ref: i.Ref, Digest: i.Digest}
	}
	c := kubetest.Shared(t)
	ns := c.MustNamespace(t, "conformance")
	c.Kubelet(t, cli).Run(t, ns)
	targettest.Run(t, targettest.Config{
		New: func(tb testing.TB) target.Target {
			tg, err := kube.New(kube.Options{Config: c.Config, Namespace: ns, RolloutTimeout: 15 * time.Second, Poll: 100 * time.Millisecond})
			if err != nil {
				tb.Fatal(err)
			}
			return tg
		},
		Images: targettest.Images{
			Serve:    img("serve", targettest.ServeCmd),
			NoHealth: img("nohealth", targettest.NoHealthCmd),
			Crash:    img("crash", targettest.CrashCmd),
		},
		// Pods of the environment other than the ready ones of its
		// Deployments' pod templates' commits (a kept service's pods run
		// the commit they were started at), replica sets of another
		// commit still scaled up, and Jobs.
		Leftovers: func(tb testing.TB, ctx context.Context, repo, env string) int {
			sel := metav1.ListOptions{LabelSelector: kube.LabelEnv + "=" + env + "," + kube.LabelRepo + "=" + events.RepoToken(repo)}
			deps, err := c.Client.AppsV1().Deployments(ns).List(ctx, sel)
			if err != nil {
				tb.Fatal(err)
			}
			commit := map[string]string{}
			for _, d := range deps.Items {
				commit[d.Labels[kube.LabelService]] = d.Spec.Template.Labels[kube.LabelCommit]
			}
			n := 0
			rss, _ := c.Client.AppsV1().ReplicaSets(ns).List(ctx, sel)
			for _, rs := range rss.Items {
				if rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 && rs.Labels[kube.LabelCommit] != commit[rs.Labels[kube.LabelService]] {
					n++
				}
			}
			pods, _ := c.Client.CoreV1().Pods(ns).List(ctx, sel)
			for _, p := range pods.Items {
				if p.DeletionTimestamp != nil {
					continue
				}
				if p.Labels[kube.LabelCommit] != commit[p.Labels[kube.LabelService]] || !ready(&p) {
					n++
				}
			}
			jobs, _ := c.Client.BatchV1().Jobs(ns).List(ctx, sel)
			return n + len(jobs.Items)
		},
		// On Kubernetes the swap is the apply: once a Deployment names the
		// new commit the cluster rolls it out whether Slipway lives or not
		// (TestCrashAfterApplyIsFinishedByTheCluster). What a crashed deploy
		// leaves with the previous commit still serving is therefore a
		// task's Job still running (tasks run before the apply); the next
		// deploy prunes it.
		Crash: func(tb testing.TB, ctx context.Context, tg target.Target, d deploy.Deployment) {
			task := events.Task{Name: "migrate", Command: []string{"sleep", "300"}}
			if err := tg.(*kube.Target).StartTask(ctx, d, task); err != nil {
				tb.Fatal(err)
			}
		},
	})
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
