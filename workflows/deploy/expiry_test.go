package deploy_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
)

// TestDeployRedeliveredAfterItsClaimExpired: once the claims of completed
// deploys expired ("w" waits for that), a redelivered request still
// deploys nothing twice: the environment's state and the order of the
// requests decide (a commit the environment runs is unchanged, an older
// or overtaken one superseded). Scripts as in TestDeployOrder.
func TestDeployRedeliveredAfterItsClaimExpired(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		applied    []int
		superseded int
	}{
		{name: "the running commit's request", script: "p1 h1 w h1", applied: []int{1}},
		{name: "an older commit's request", script: "p1 h1 p2 h2 w h1", applied: []int{1, 2}, superseded: 1},
		{name: "an automatic request a rollback overtook", script: "p3 h3 P1 h1 w h3", applied: []int{3, 1}, superseded: 1},
		{name: "the rollback itself", script: "p2 h2 P1 h1 w h1", applied: []int{2, 1}},
		{name: "a rollback a later push overtook", script: "p2 h2 P1 h1 p3 h3 w h1", applied: []int{2, 1, 3}, superseded: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := natsjs.DefaultTopology()
			topo.ClaimRetention, topo.AllowShortRetention = time.Second, true
			s := natsjs.MustServerWith(t, topo)
			_, js := natsjs.MustJetStream(t, s.ClientURL())
			ctx := context.Background()
			tg := newSlowTarget(0)
			h, rec := lockedHandler(t, js, "a", tg, time.Minute)
			claims, err := natsstore.OpenClaims(ctx, js, "a")
			if err != nil {
				t.Fatal(err)
			}
			h.Claims, h.Queue, h.Ancestry = claims, natsstore.NewDeployQueue(js), line{}
			pub := natsjs.NewPublisher(js, "/test")
			last := map[int]*events.DeployRequested{}
			for i, step := range strings.Fields(tt.script) {
				if step == "w" {
					waitDeployClaimsGone(t, claims)
					continue
				}
				n, _ := strconv.Atoi(step[1:])
				switch step[0] {
				case 'p', 'P':
					req := deployRequest("staging", n)
					if step[0] == 'P' {
						req.Ask(events.KindRollback, req.Trigger, "ada", strconv.Itoa(i))
					}
					if _, err := pub.Publish(ctx, req); err != nil {
						t.Fatal(err)
					}
					last[n] = req
				case 'h':
					if err := h.HandleDeploy(ctx, last[n]); err != nil && !errors.Is(err, events.ErrAlreadyDone) {
						t.Fatalf("%s: %v", step, err)
					}
				}
			}
			var want []string
			for _, n := range tt.applied {
				want = append(want, deployRequest("", n).Commit)
			}
			if got := tg.applied["staging"]; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("applied %v, want %v", got, want)
			}
			if got := results(rec, events.TypeDeploySuperseded); len(got) != tt.superseded {
				t.Errorf("superseded %v, want %d", got, tt.superseded)
			}
		})
	}
}

// waitDeployClaimsGone waits until no deploy claim is left.
func waitDeployClaimsGone(t *testing.T, claims *natsstore.Claims) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		l, err := claims.KV().ListKeysFiltered(context.Background(), "deploy.>")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range l.Keys() {
			n++
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deploy claims left after 15s: completed claims do not expire", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
