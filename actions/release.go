package actions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/release"
)

// DecideWait bounds how long Release waits for the release workflow to
// decide a request: reading the commit's slipway.yaml and its records.
const DecideWait = 30 * time.Second

// ReleaseRequest returns the request of an operator's release of commit
// (a full id) to env of repo, under a new nonce.
func ReleaseRequest(repo events.Repo, env, commit, actor, reason string) *events.ReleaseRequested {
	return &events.ReleaseRequested{Repo: repo, Env: env, Commit: commit, Actor: actor, Reason: reason,
		Nonce: Nonce(), RequestedAt: time.Now().UTC()}
}

// Release publishes e and waits, up to DecideWait, for the release
// workflow's decision (release.Handler.HandleRequested). A refusal is an
// error wrapping release.ErrNotReleasable that gives its reason; a
// request still undecided then is left to be decided (the decision is
// empty). Once the deploy is requested, its outcome is waited for up to
// d.Wait, as Request does.
func Release(ctx context.Context, b Bus, e *events.ReleaseRequested, d Deliberate, out io.Writer) (natsstore.DeployDone, release.Decision, error) {
	start := time.Now()
	if _, err := natsjs.NewPublisher(b.JS, b.Source).Publish(ctx, e); err != nil {
		return natsstore.DeployDone{}, release.Decision{}, fmt.Errorf("request release: %w", err)
	}
	fmt.Fprintf(out, "==> asked to release %s to %s (%s)\n", Short(e.Commit), e.Env, e.DedupKey())
	dec, err := awaitDecision(ctx, b, e.DedupKey(), DecideWait)
	if errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintf(out, "==> not decided within %s: the deployer decides it when it runs (slipway history -repo %s %s)\n", DecideWait, e.Repo.FullName, e.Env)
		return natsstore.DeployDone{}, dec, nil
	}
	if err != nil {
		return natsstore.DeployDone{}, dec, err
	}
	if err := dec.Err(); err != nil {
		fmt.Fprintf(out, "==> refused: %s\n", dec.Refused)
		return natsstore.DeployDone{}, dec, fmt.Errorf("refusing to release %s to %s: %w", Short(e.Commit), e.Env, err)
	}
	fmt.Fprintf(out, "==> requested %s\n", dec.Deploy)
	o, err := awaitDeploy(ctx, b, e.Repo.FullName, e.Env, e.Commit, dec.Deploy, d.Wait, start, out)
	return o, dec, err
}

// awaitDecision waits up to wait for the decision recorded by the claim on
// the release request key.
func awaitDecision(ctx context.Context, b Bus, key string, wait time.Duration) (release.Decision, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := b.Claims.Result(wctx, key)
		switch {
		case err == nil:
			return release.ParseDecision(res)
		case !errors.Is(err, workflows.ErrNoResult):
			return release.Decision{}, fmt.Errorf("read release decision %s: %w", key, err)
		}
		select {
		case <-wctx.Done():
			return release.Decision{}, fmt.Errorf("wait for release decision %s: %w", key, wctx.Err())
		case <-tick.C:
		}
	}
}
