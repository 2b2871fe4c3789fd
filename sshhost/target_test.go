package sshhost_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/sshhost"
)

func TestDeployToEveryHost(t *testing.T) {
	f := mustFixture(t, 3)
	target := mustTarget(t, f.options(2))
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	for _, commit := range []string{v1, v2} {
		if err := target.Deploy(f.ctx, f.deployment(commit, f.serve)); err != nil {
			t.Fatalf("deploy %s: %v", commit[:7], err)
		}
		f.wantEverywhere(t, commit)
		for _, h := range f.hosts.List {
			if got := f.get(t, h, f.publishedAddr(t, h)); got != "200 "+commit {
				t.Errorf("%s answers %q, want 200 %s", h.NS, got, commit)
			}
		}
	}
	rel, err := target.Current(f.ctx, f.repo, f.env)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Commit() != v2 || len(rel.Services) != 1 || !rel.Services[0].Running || rel.Services[0].Replicas != 3 {
		t.Errorf("current %+v, want web at %s running on 3 hosts", rel, v2[:7])
	}
	if n := target.Dials(); n != 3 {
		t.Errorf("%d SSH connections for two deploys to 3 hosts, want one per host", n)
	}
}

func TestNoOpRedeployChangesNothing(t *testing.T) {
	f := mustFixture(t, 2)
	target := mustTarget(t, f.options(1))
	d := f.deployment(dockertest.RandomCommit(), f.serve)
	if err := target.Deploy(f.ctx, d); err != nil {
		t.Fatal(err)
	}
	before := f.containerIDs(t)
	if err := target.Deploy(f.ctx, d); err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	if after := f.containerIDs(t); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("containers %v after a no-op redeploy, want %v", after, before)
	}
}

func TestFailedHealthOnOneHostRollsEveryHostBack(t *testing.T) {
	f := mustFixture(t, 3)
	target := mustTarget(t, f.options(1))
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	if err := target.Deploy(f.ctx, f.deployment(v1, f.serve)); err != nil {
		t.Fatal(err)
	}
	bad := dockertest.MustImage(t, dockertest.MustDocker(t), "web", failOn2Cmd...)
	err := target.Deploy(f.ctx, f.deployment(v2, bad))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "host "+f.hosts.List[1].IP+":22") {
		t.Fatalf("deploy failing on host 2: %v, want a permanent error naming it", err)
	}
	f.wantEverywhere(t, v1)
}

func TestUnreachableHostMidRolloutThenConverges(t *testing.T) {
	f := mustFixture(t, 3)
	target := mustTarget(t, f.options(1))
	v1, v2 := dockertest.RandomCommit(), dockertest.RandomCommit()
	if err := target.Deploy(f.ctx, f.deployment(v1, f.serve)); err != nil {
		t.Fatal(err)
	}
	second := f.hosts.List[1]
	sshhost.SetBeforeBatch(target, func(batch int) {
		if batch == 1 { // host 1 runs v2 by now
			second.StopSSHD(t)
		}
	})
	err := target.Deploy(f.ctx, f.deployment(v2, f.serve))
	if err == nil || events.IsPermanent(err) || !strings.Contains(err.Error(), "host "+second.IP+":22") {
		t.Fatalf("deploy with host 2 unreachable: %v, want a retryable error naming it", err)
	}
	f.wantEverywhere(t, v1)

	sshhost.SetBeforeBatch(target, nil)
	second.StartSSHD(t)
	dials := target.Dials()
	if err := target.Deploy(f.ctx, f.deployment(v2, f.serve)); err != nil {
		t.Fatalf("deploy once host 2 is back: %v", err)
	}
	f.wantEverywhere(t, v2)
	if n := target.Dials() - dials; n != 1 {
		t.Errorf("%d SSH connections opened by the deploy after host 2 came back, want 1 (host 2's, the others reused)", n)
	}
}

func TestUnknownOrChangedHostKeyIsRefused(t *testing.T) {
	f := mustFixture(t, 1)
	h := f.hosts.List[0]
	other := filepath.Join(t.TempDir(), "other")
	otherKey := mustKeygen(t, other)
	for _, tc := range []struct {
		name, knownHosts, want string
	}{
		{"unknown", "10.231.9.9 " + h.HostKey(t) + "\n", "is not in known_hosts"},
		{"changed", h.IP + " " + otherKey + "\n", "does not match known_hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(tc.knownHosts), 0o600); err != nil {
				t.Fatal(err)
			}
			opts := f.options(1)
			opts.Auth.KnownHosts = kh
			err := mustTarget(t, opts).Deploy(f.ctx, f.deployment(dockertest.RandomCommit(), f.serve))
			if !events.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), h.IP) {
				t.Fatalf("deploy: %v, want a permanent error naming %s: %q", err, h.IP, tc.want)
			}
			if got := f.liveCommits(t)[0]; got != h.NS+": " {
				t.Errorf("host runs %q after a refused deploy, want nothing", got)
			}
		})
	}
}
