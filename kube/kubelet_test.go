package kube_test

// These tests run pods for real: kubetest.Kubelet is the node, running
// each pod's container on the Docker daemon beside the tests, its readiness
// probe against the container and its log served to the API server, so the
// target's health gate, its failure reports and its task output come from
// real processes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/kube/kubetest"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

var (
	serveCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo ok > /www/healthz && echo "serving $SLIPWAY_SERVICE in $SLIPWAY_ENV" && exec httpd -f -p 8080 -h /www`}
	noHealthCmd = []string{"sh", "-c", `mkdir -p /www && echo "$SLIPWAY_COMMIT" > /www/index.html && ` +
		`echo "started without a health endpoint" && exec httpd -f -p 8080 -h /www`}
	crashCmd = []string{"sh", "-c", `echo "fatal: missing DATABASE_URL" >&2; exit 3`}
)

func realImage(i dockertest.Image, svc string, replicas int) events.Image {
	return events.Image{Service: events.ServiceSpec{Name: svc, Port: 8080, HealthPath: "/healthz", Replicas: replicas}, Ref: i.Ref, Digest: i.Digest}
}

// get sends GET / to addr through the target's Dial.
func get(ctx context.Context, tg *kube.Target, addr string) (string, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) { return tg.Dial(ctx, network, addr) }}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

func TestPodsRunForRealBehindTheRolloutGate(t *testing.T) {
	cli := dockertest.MustDocker(t)
	serve := dockertest.MustImage(t, cli, "kube-serve", serveCmd...)
	noHealth := dockertest.MustImage(t, cli, "kube-nohealth", noHealthCmd...)
	crash := dockertest.MustImage(t, cli, "kube-crash", crashCmd...)
	c := kubetest.Shared(t)
	ns := c.MustNamespace(t, "real")
	c.Kubelet(t, cli).Run(t, ns)
	tg := newTarget(t, c, ns, func(o *kube.Options) { o.RolloutTimeout = 15 * time.Second })
	ctx := ctxFor(t)

	d := deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{realImage(serve, "web", 2)}}
	if err := tg.Deploy(ctx, d); err != nil {
		t.Fatalf("Deploy A: %v", err)
	}
	addrs, err := tg.ResolveAll(ctx, repo, "staging", "web")
	if err != nil || len(addrs) != 2 {
		t.Fatalf("ResolveAll = %v, %v; want 2 pods", addrs, err)
	}
	for _, a := range addrs {
		if body, err := get(ctx, tg, a); err != nil || body != commitA {
			t.Errorf("GET / at %s = %q, %v; want %s", a, body, err, commitA)
		}
	}

	for _, bad := range []struct {
		img  dockertest.Image
		want string
	}{
		{crash, "fatal: missing DATABASE_URL"},
		{noHealth, "started without a health endpoint"},
	} {
		err := tg.Deploy(ctx, deploy.Deployment{Repo: repo, Env: "staging", Commit: commitB, Images: []events.Image{realImage(bad.img, "web", 2)}})
		var perm *events.PermanentError
		if !errors.As(err, &perm) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Deploy of a failing image = %v; want a permanent error with %q", err, bad.want)
		}
		after, err := tg.ResolveAll(ctx, repo, "staging", "web")
		if err != nil || len(after) != 2 {
			t.Fatalf("ResolveAll after the failed deploy = %v, %v", after, err)
		}
		for _, a := range after {
			if body, err := get(ctx, tg, a); err != nil || body != commitA {
				t.Errorf("after the failed deploy GET / at %s = %q, %v; want the previous %s", a, body, err, commitA)
			}
		}
	}

	out, code, err := tg.RunTask(ctx, d, d.Images[0], events.Task{Name: "migrate", Command: []string{"sh", "-c", `echo "task $SLIPWAY_TASK of $SLIPWAY_COMMIT"`}})
	if err != nil || code != 0 || !strings.Contains(out, "task migrate of "+commitA) {
		t.Errorf("RunTask = %q, %d, %v; want its output (the pod's log) and 0", out, code, err)
	}
	out, code, err = tg.RunTask(ctx, d, d.Images[0], events.Task{Name: "seed", Command: []string{"sh", "-c", "echo seeding failed >&2; exit 3"}})
	if err != nil || code != 3 || !strings.Contains(out, "seeding failed") {
		t.Errorf("RunTask(seed) = %q, %d, %v; want its output and 3", out, code, err)
	}
}

// TestCrashAfterApplyIsFinishedByTheCluster: a deploy whose process dies
// right after the apply leaves a rollout the cluster finishes on its own
// (the new commit serving, the old pods gone), and the next deploy of
// that commit is a no-op.
func TestCrashAfterApplyIsFinishedByTheCluster(t *testing.T) {
	cli := dockertest.MustDocker(t)
	serve := dockertest.MustImage(t, cli, "kube-serve", serveCmd...)
	c := kubetest.Shared(t)
	ns := c.MustNamespace(t, "crash")
	c.Kubelet(t, cli).Run(t, ns)
	tg := newTarget(t, c, ns)
	ctx := ctxFor(t)
	a := deploy.Deployment{Repo: repo, Env: "staging", Commit: commitA, Images: []events.Image{realImage(serve, "web", 2)}}
	if err := tg.Deploy(ctx, a); err != nil {
		t.Fatalf("Deploy A: %v", err)
	}
	// B changes the service (a commit that changed nothing would keep A's
	// pods): its pods must roll out.
	b := a
	b.Commit = commitB
	b.Images = []events.Image{realImage(serve, "web", 2)}
	b.Images[0].Service.Env = map[string]string{"RELEASE": commitB}
	if err := tg.ApplyOnly(ctx, b); err != nil {
		t.Fatalf("apply B: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		rel, err := tg.Current(ctx, repo, "staging")
		if err == nil && rel.Commit() == commitB && rel.Services[0].Running && len(rel.Services[0].Addrs) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Current after a crash past the apply = %+v, %v; want B rolled out by the cluster", rel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	addrs, _ := tg.ResolveAll(ctx, repo, "staging", "web")
	for _, addr := range addrs {
		if body, err := get(ctx, tg, addr); err != nil || body != commitB {
			t.Errorf("GET / at %s = %q, %v; want %s", addr, body, err, commitB)
		}
	}
	// What Slipway writes is the spec (generation), labels and
	// annotations; the controller may still write the status (its
	// conditions) meanwhile, so the resource version is no measure.
	written := func() string {
		d := mustDeployment(t, c, ns, "web")
		return fmt.Sprintf("generation %d labels %v annotations %v", d.Generation, d.Labels, d.Annotations)
	}
	before := written()
	if err := tg.Deploy(ctx, b); err != nil {
		t.Fatalf("Deploy B after the crash: %v", err)
	}
	if after := written(); after != before {
		t.Errorf("Deploy B after the cluster finished it wrote the deployment (%s -> %s), want a no-op", before, after)
	}
}
