package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// targets is deploy.Targets over named in-memory targets; the real
// placement is tested in workflows/target and in the wiring.
type targets map[string]*target

func (ts targets) Target(repo, env, name string) (deploy.Target, error) {
	t, ok := ts[events.TargetName(name)]
	if !ok {
		return nil, events.Permanent(fmt.Errorf("target %q is not configured", name))
	}
	return t, nil
}

// TestDeployGoesToItsTarget: a request runs on the target it names, is
// recorded with it, and a target that cannot run it fails the deploy for
// good with its name, once, nothing started on any target.
func TestDeployGoesToItsTarget(t *testing.T) {
	local, hosts := &target{live: map[string]deploy.Release{}}, &target{live: map[string]deploy.Release{}}
	h, p, st := newHandler(t, local)
	h.Target = nil
	h.Targets = targets{"local": local, "prod-hosts": hosts}
	ctx := context.Background()

	onHosts := request(commit(1), "")
	onHosts.Target = "prod-hosts"
	if err := h.HandleDeploy(ctx, onHosts); err != nil {
		t.Fatal(err)
	}
	if hosts.deploys != 1 || local.deploys != 0 {
		t.Errorf("deploys: %d on prod-hosts, %d on local; want the one on prod-hosts", hosts.deploys, local.deploys)
	}
	if len(st.states) != 1 || st.states[0].Target != "prod-hosts" {
		t.Errorf("records %+v, want one on prod-hosts", st.states)
	}
	ok := p.OfType(events.TypeDeploySucceeded)
	if len(ok) != 1 || ok[0].(*events.DeploySucceeded).Target != "prod-hosts" {
		t.Errorf("succeeded events %+v, want one naming prod-hosts", ok)
	}
	// Read back from the target it names: a redelivery is a no-op there.
	if err := h.HandleDeploy(ctx, request(commit(1), "again")); err != nil {
		t.Fatal(err)
	}
	if local.deploys != 1 {
		t.Errorf("the same commit without a target deployed %d times on local, want once", local.deploys)
	}

	nowhere := request(commit(2), "")
	nowhere.Target = "nowhere"
	if err := h.HandleDeploy(ctx, nowhere); !events.IsPermanent(err) {
		t.Fatalf("deploy to an unknown target: %v, want permanent", err)
	}
	_ = h.HandleDeploy(ctx, nowhere) // a redelivery finds it done
	failed := p.OfType(events.TypeDeployFailed)
	if len(failed) != 1 || !strings.Contains(failed[0].(*events.DeployFailed).Reason, `target "nowhere"`) || failed[0].(*events.DeployFailed).Target != "nowhere" {
		t.Errorf("failed events %+v, want one naming target nowhere", failed)
	}
	if hosts.deploys != 1 || local.deploys != 1 || len(st.states) != 2 {
		t.Errorf("after the refused deploy: %d and %d deploys, %d records; want nothing more", hosts.deploys, local.deploys, len(st.states))
	}
}

// TestDeployTargetLookupRetried: a placement that cannot answer yet (not
// permanent) is retried, and records nothing.
func TestDeployTargetLookupRetried(t *testing.T) {
	h, p, _ := newHandler(t, &target{live: map[string]deploy.Release{}})
	h.Targets = failingTargets{}
	if err := h.HandleDeploy(context.Background(), request(commit(1), "")); err == nil || events.IsPermanent(err) {
		t.Fatalf("deploy: %v, want a retry", err)
	}
	if n := len(p.OfType(events.TypeDeployFailed)); n != 0 {
		t.Errorf("%d failed events, want none", n)
	}
}

type failingTargets struct{}

func (failingTargets) Target(string, string, string) (deploy.Target, error) {
	return nil, events.Retryable(errors.New("placement not loaded"), 0)
}
