package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestRolloutReachesTargetAndRollbackIsRecorded: the request's rollout is
// handed to the target, and a rollout that went back by itself is recorded
// as a failed deploy carrying its figures, the previous commit kept.
func TestRolloutReachesTargetAndRollbackIsRecorded(t *testing.T) {
	analysis := events.Analysis{Automatic: true, Cause: "error rate 50.0% > 5.0% (previous commit 0.0%)", Weight: 10,
		Canary: events.ReleaseFigures{Requests: 12, Errors: 6, P99: 40 * time.Millisecond},
		Stable: events.ReleaseFigures{Requests: 108}}
	tg := &rolloutTarget{target: target{live: map[string]deploy.Release{}, fail: events.Permanent(&deploy.RolledBackError{Analysis: analysis})}}
	h, p, st := newHandler(t, &tg.target)
	h.Target = tg
	req := request(commit(2), "")
	req.Rollout = &events.Rollout{Strategy: events.StrategyCanary, Steps: []int{10, 100}, Pause: time.Minute, MaxErrorRate: 5}
	if err := h.HandleDeploy(context.Background(), req); !events.IsPermanent(err) {
		t.Fatalf("deploy = %v, want the permanent rollback", err)
	}
	if tg.got == nil || tg.got.Strategy != events.StrategyCanary {
		t.Errorf("target got rollout %+v, want the request's", tg.got)
	}
	failed := p.OfType(events.TypeDeployFailed)
	if len(failed) != 1 || len(st.states) != 0 {
		t.Fatalf("%d failed events, %d states recorded; want one failure, no state", len(failed), len(st.states))
	}
	res, _ := events.ResultOf(failed[0])
	if res.Analysis == nil || *res.Analysis != analysis {
		t.Errorf("recorded analysis %+v, want %+v", res.Analysis, analysis)
	}
	if !strings.Contains(res.Reason, "rolled back automatically at step 1 (10%): error rate 50.0%") || !strings.Contains(res.Reason, "6/12 requests failed") {
		t.Errorf("reason %q", res.Reason)
	}
}

// rolloutTarget records the rollout it is asked to run.
type rolloutTarget struct {
	target
	got *events.Rollout
}

func (t *rolloutTarget) Deploy(ctx context.Context, d deploy.Deployment) error {
	t.got = d.Rollout
	return t.target.Deploy(ctx, d)
}
