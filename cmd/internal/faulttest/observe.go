package faulttest

import (
	"context"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/build"
)

// poll is how often a wait looks at the state it waits for.
const poll = 100 * time.Millisecond

// Claim returns the claim of key as recorded in bucket slipway_claims; ok
// is false when the step was never claimed.
func (s *Slipway) Claim(key string) (natsstore.ClaimInfo, bool) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, ok, err := s.claims.Inspect(ctx, key)
	if err != nil {
		s.tb.Fatal(err)
	}
	return info, ok
}

// BuildRequest returns the first stored request to build service of sha.
func (s *Slipway) BuildRequest(sha, service string) (*events.BuildRequested, bool) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range s.events(ctx, events.SubjectBuildRequested) {
		if r := e.(*events.BuildRequested); r.Commit == sha && r.Service.Name == service {
			return r, true
		}
	}
	return nil, false
}

// DeployRequest returns the first stored request to deploy sha to the
// environment.
func (s *Slipway) DeployRequest(sha string) (*events.DeployRequested, bool) {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range s.events(ctx, events.EnvSubject(events.SubjectDeployRequested, sample.RepoName, s.Env)) {
		if r := e.(*events.DeployRequested); r.Commit == sha {
			return r, true
		}
	}
	return nil, false
}

// buildClaimKey is the claim key of a build request, as the build workflow
// names it.
func buildClaimKey(r *events.BuildRequested) string {
	return events.BuildKey(r.Repo.FullName, r.Commit, r.Service.Name)
}

// WaitBuilding waits until the build of service at sha runs: its claim is
// held by a live builder and buildkitd runs its solve. It returns that
// builder.
func (s *Slipway) WaitBuilding(sha, service string, timeout time.Duration) *Proc {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	holder := s.waitHeld(deadline, s.Builders, "build of "+service+" at "+short(sha), func() (string, bool) {
		r, ok := s.BuildRequest(sha, service)
		if !ok {
			return "", false
		}
		return buildClaimKey(r), true
	}, func() bool { return true })
	r, _ := s.BuildRequest(sha, service)
	buildkittest.WaitSolving(s.tb, s.Buildkit, build.ImageRef(s.Registry, r.Repo.FullName, service, sha), time.Until(deadline))
	return holder
}

// WaitDeploying waits until the deploy of sha to the environment runs: its
// claim is held by a live deployer and a container of sha, a candidate, is
// there. It returns that deployer.
func (s *Slipway) WaitDeploying(sha string, timeout time.Duration) *Proc {
	s.tb.Helper()
	return s.waitHeld(time.Now().Add(timeout), s.Deployers, "deploy of "+short(sha), func() (string, bool) {
		r, ok := s.DeployRequest(sha)
		if !ok {
			return "", false
		}
		return r.DedupKey(), true
	}, func() bool {
		// A candidate: named "<live name>.<sha12>" until it is promoted.
		// Any container of the commit would also match once the deploy
		// is over, and a fault placed then cuts nothing.
		for _, c := range dockertest.Containers(s.tb, s.Env) {
			if strings.HasSuffix(c, "."+short(sha)+"@"+sha) {
				return true
			}
		}
		return false
	})
}

// waitHeld waits until the claim key names is running, held by one of
// procs, and also holds; it returns the holder.
func (s *Slipway) waitHeld(deadline time.Time, procs []*Proc, what string, key func() (string, bool), also func() bool) *Proc {
	s.tb.Helper()
	for ; time.Now().Before(deadline); time.Sleep(poll) {
		k, ok := key()
		if !ok {
			continue
		}
		info, ok := s.Claim(k)
		if !ok || info.State != "running" {
			continue
		}
		for _, p := range procs {
			if p.Holds(info.Holder) && also() {
				return p
			}
		}
	}
	s.tb.Fatalf("the %s never ran", what)
	return nil
}

// BuildTook returns how long the build of service at sha took from its
// first request to its success, as the stream's events record it.
func (s *Slipway) BuildTook(sha, service string) time.Duration {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	envs, err := natsjs.Events(ctx, s.JS, events.SubjectBuildRequested, events.SubjectBuildSucceeded)
	if err != nil {
		s.tb.Fatal(err)
	}
	var requested time.Time
	for _, env := range envs {
		e, _ := env.Decode()
		switch e := e.(type) {
		case *events.BuildRequested:
			if e.Commit == sha && e.Service.Name == service && requested.IsZero() {
				requested = env.Time
			}
		case *events.BuildSucceeded:
			if e.Commit == sha && e.Service == service && !e.Cached && !requested.IsZero() {
				return env.Time.Sub(requested)
			}
		}
	}
	s.tb.Fatalf("no request and success of the build of %s at %s in the stream", service, short(sha))
	return 0
}
