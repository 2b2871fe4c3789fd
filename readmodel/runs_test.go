package readmodel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// noScan is the read model as a release.History that fails the test when
// the whole history of an environment is read.
type noScan struct {
	*readmodel.Model
	t *testing.T
}

func (h noScan) Deploys(ctx context.Context, repo, env string) ([]release.Deploy, error) {
	h.t.Errorf("read every deploy of %s: a release check of one commit scans the history", env)
	return h.Model.Deploys(ctx, repo, env)
}

// TestReleaseCheckReadsTheCommitNotTheHistory: whether a commit ran
// healthy on staging (asked on every release pull request event) is read
// from the commit's record, however long the environment's history.
func TestReleaseCheckReadsTheCommitNotTheHistory(t *testing.T) {
	b := mustBus(t, natsjs.DefaultTopology())
	b.run(t)
	history(t, b)
	b.caughtUp(t)
	ctx := context.Background()
	claims := workflowstest.Results{}
	for _, i := range []int{0, 1} {
		claims.Built(repo.FullName, sha(i), events.Image{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web", Digest: "sha256:aa"})
	}
	h := noScan{Model: b.m, t: t}
	if err := release.CheckReleasable(ctx, claims, h, repo.FullName, sha(0), []string{"web"}, "staging"); err != nil {
		t.Errorf("commit that ran healthy: %v", err)
	}
	err := release.CheckReleasable(ctx, claims, h, repo.FullName, sha(1), []string{"web"}, "staging")
	if !errors.Is(err, release.ErrNotReleasable) || !strings.Contains(err.Error(), "its deploy failed: health check failed") {
		t.Errorf("commit whose deploy failed: %v, want not releasable with the reason", err)
	}
}
