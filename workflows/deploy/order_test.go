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
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// line is a linear history: commit i is an ancestor of commit j when i <= j.
type line struct{}

func (line) IsAncestor(_ context.Context, _ events.Repo, a, b string) (bool, error) {
	return a <= b, nil // deployRequest's commits are zero-padded hex numbers
}

// TestDeployOrder checks "latest wins, never move back". A script publishes
// requests (p3: automatic deploy of commit 3; P1: explicit deploy of
// commit 1, a rollback) and handles them (h3: handle the last request
// published for commit 3); the environment must have applied exactly the
// commits of applied, in that order.
func TestDeployOrder(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		applied    []int
		superseded int
	}{
		{name: "in order, one at a time", script: "p1 h1 p2 h2", applied: []int{1, 2}},
		{name: "queued behind a running deploy: only the latest runs", script: "p1 p2 p3 h1 h2 h3", applied: []int{3}, superseded: 2},
		{name: "builds finished out of order: the older commit is skipped", script: "p3 p2 h3 h2", applied: []int{3}, superseded: 1},
		{name: "older one handled first (redelivery): both apply, newer last", script: "p3 p2 h2 h3", applied: []int{2, 3}},
		{name: "explicit rollback moves back", script: "p2 h2 P1 h1", applied: []int{2, 1}},
		{name: "explicit rollback overtakes a queued automatic deploy", script: "p2 P1 h2 h1", applied: []int{1}, superseded: 1},
		{name: "new push after a rollback moves forward again", script: "p2 h2 P1 h1 p3 h3", applied: []int{2, 1, 3}},
		{name: "after a rollback, a late build moves forward from the running commit", script: "p3 h3 P1 h1 p2 h2", applied: []int{3, 1, 2}},
		{name: "redelivery of an old request after a rollback does nothing", script: "p3 h3 P1 h1 h3", applied: []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := natsjs.MustServer(t)
			_, js := natsjs.MustJetStream(t, s.ClientURL())
			tg := newSlowTarget(0)
			h, rec := lockedHandler(t, js, "a", tg, time.Minute)
			h.Queue, h.Ancestry = natsstore.NewDeployQueue(js), line{}
			pub := natsjs.NewPublisher(js, "/test")
			last := map[int]*events.DeployRequested{}
			for i, step := range strings.Fields(tt.script) {
				n, _ := strconv.Atoi(step[1:])
				switch step[0] {
				case 'p', 'P':
					req := deployRequest("staging", n)
					if step[0] == 'P' {
						req.Ask(events.KindRollback, req.Trigger, "ada", strconv.Itoa(i))
					}
					if _, err := pub.Publish(context.Background(), req); err != nil {
						t.Fatal(err)
					}
					last[n] = req
				case 'h':
					if err := h.HandleDeploy(context.Background(), last[n]); err != nil && !errors.Is(err, events.ErrAlreadyDone) {
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

var _ deploy.Ancestry = line{}

// TestDeploySupersededWhileWaiting: a request waiting for its environment's
// lock, held by a long deploy, is recorded as superseded as soon as a later
// request is published, without waiting for the lock.
func TestDeploySupersededWhileWaiting(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, _ := js.KeyValue(context.Background(), natsjs.BucketLocks)
	held, err := natsstore.NewEnvLocks(kv, "busy").Lock(context.Background(), repo.FullName, "staging", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := held.Release(context.Background()); err != nil {
			t.Errorf("release the held lock: %v", err)
		}
	}()
	tg := newSlowTarget(0)
	h, rec := lockedHandler(t, js, "a", tg, time.Minute)
	h.Queue, h.Ancestry = natsstore.NewDeployQueue(js), line{}
	pub := natsjs.NewPublisher(js, "/test")
	first, second := deployRequest("staging", 1), deployRequest("staging", 2)
	if _, err := pub.Publish(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(500*time.Millisecond, func() { _, _ = pub.Publish(context.Background(), second) })
	start := time.Now()
	err = h.HandleDeploy(context.Background(), first)
	if !errors.Is(err, events.ErrAlreadyDone) {
		t.Fatalf("HandleDeploy() = %v, want done (superseded)", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to notice the later request", took)
	}
	if got := results(rec, events.TypeDeploySuperseded); len(got) != 1 || tg.total != 0 {
		t.Errorf("superseded %v, %d deploys; want one superseded, no deploy", got, tg.total)
	}
	if err := h.HandleDeploy(context.Background(), first); !errors.Is(err, events.ErrAlreadyDone) {
		t.Errorf("redelivery: %v, want done", err)
	}
}
