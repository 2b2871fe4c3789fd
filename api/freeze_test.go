package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/freeze"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// TestLockAndUnlockByAPI freezes staging through the API with a deploy
// token: the freeze record names the token as its actor, a read token
// is refused, the freeze holds an automatic deploy, and the unlock
// publishes it and ends the freeze.
func TestLockAndUnlockByAPI(t *testing.T) {
	f := mustFixture(t)
	ctx := context.Background()
	path := "/api/v1/repos/acme/shop/envs/staging"
	store, err := (actions.Bus{JS: f.js}).Freezes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := f.call(t, "POST", path+"/lock", f.read, `{"reason":"by a reader"}`); code != http.StatusForbidden {
		t.Fatalf("lock by a read token: %d %s, want 403", code, body)
	}
	if _, _, found, err := store.Get(ctx, "acme/shop", "staging"); err != nil || found {
		t.Fatalf("a refused lock froze staging (found %v, %v)", found, err)
	}
	before := time.Now()
	code, body := f.call(t, "POST", path+"/lock", f.deploy, `{"reason":"release freeze","for":"2h"}`)
	if code != http.StatusOK {
		t.Fatalf("lock: %d %s", code, body)
	}
	var res api.ActionResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Actor != "ops-ann" || res.Freeze == nil || res.Freeze.Actor != "ops-ann" || !strings.Contains(res.Log, "frozen by ops-ann") {
		t.Fatalf("lock answered %+v, want a freeze by ops-ann", res)
	}
	got, _, found, err := store.Get(ctx, "acme/shop", "staging")
	if err != nil || !found {
		t.Fatalf("no freeze recorded (%v)", err)
	}
	if got.Actor != "ops-ann" || got.Reason != "release freeze" || got.Until.Before(before.Add(2*time.Hour)) || got.Until.After(time.Now().Add(2*time.Hour)) {
		t.Fatalf("freeze %+v, want release freeze by ops-ann for 2h", got)
	}
	auto := &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha(5), Kind: events.KindAuto, Actor: "slipway", Trigger: "test"}
	v, err := (&freeze.Gate{Store: store}).Admit(ctx, auto, nil)
	if err != nil || v.State != gate.Held {
		t.Fatalf("the freeze admits an automatic deploy: %+v, %v", v, err)
	}
	code, body = f.call(t, "POST", path+"/unlock", f.deploy, "")
	if code != http.StatusOK {
		t.Fatalf("unlock: %d %s", code, body)
	}
	res = api.ActionResult{}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Request != auto.DedupKey() || res.Commit != sha(5) || !strings.Contains(res.Log, "deploying the commit it held") {
		t.Fatalf("unlock answered %+v, want the held deploy %s", res, auto.DedupKey())
	}
	if _, _, found, err := store.Get(ctx, "acme/shop", "staging"); err != nil || found {
		t.Fatalf("staging still frozen after unlock (%v)", err)
	}
	if _, err := natsstore.FindEvent(ctx, f.js, 0, auto.DedupKey()); err != nil {
		t.Fatalf("the held deploy was not published: %v", err)
	}
}

// TestRollbackByAPIWaitsForInFlightDeploy: a rollback asked through the
// API while a deploy of the environment is in flight waits for it and
// goes back from it, as `slipway rollback` does.
func TestRollbackByAPIWaitsForInFlightDeploy(t *testing.T) {
	asked := make(chan struct{}, 1)
	var watched string
	f := mustFixtureWith(t, func(c workflows.Claims) workflows.Claims {
		return observedClaims{Claims: c, key: &watched, noResult: asked}
	})
	ctx := context.Background()
	inflight := &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha(2), Trigger: "test", Kind: events.KindAuto, Actor: "slipway",
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha(2), Digest: "sha256:" + sha(2)}}}
	watched = inflight.DedupKey()
	pub := natsjs.NewPublisher(f.js, "/test")
	if _, err := pub.Publish(ctx, inflight); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		body string
	}
	answered := make(chan answer, 1)
	go func() {
		code, body := f.call(t, "POST", "/api/v1/repos/acme/shop/envs/staging/rollback", f.deploy, `{}`)
		answered <- answer{code, body}
	}()
	// Once the rollback found the deploy without a result, it ends, as a
	// deployer ends it.
	select {
	case <-asked:
	case a := <-answered:
		t.Fatalf("the rollback answered without waiting for the deploy in flight: %d %s", a.code, a.body)
	}
	l, err := f.claims.Claim(ctx, inflight.DedupKey(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, inflight.Result(events.OutcomeSucceeded, "", time.Unix(1100, 0).UTC()).Event()); err != nil {
		t.Fatal(err)
	}
	done, _ := json.Marshal(deploy.Done{Outcome: events.OutcomeSucceeded, Kind: inflight.Kind})
	if err := l.Complete(ctx, done); err != nil {
		t.Fatal(err)
	}
	var a answer
	select {
	case a = <-answered:
	case <-time.After(time.Minute):
		t.Fatal("the rollback never answered")
	}
	var res api.ActionResult
	if err := json.Unmarshal([]byte(a.body), &res); err != nil {
		t.Fatalf("%d %s: %v", a.code, a.body, err)
	}
	if res.Commit != sha(1) || !strings.Contains(res.Log, "waiting for the deploy of "+sha(2)[:12]) {
		t.Fatalf("rollback answered %d %s, want it to wait for the deploy of %s and go back to %s", a.code, a.body, sha(2), sha(1))
	}
}

// observedClaims are real claims that tell noResult when the result of
// *key was asked for and there was none yet.
type observedClaims struct {
	workflows.Claims
	key      *string
	noResult chan struct{}
}

func (c observedClaims) Result(ctx context.Context, key string) ([]byte, error) {
	b, err := c.Claims.Result(ctx, key)
	if key == *c.key && errors.Is(err, workflows.ErrNoResult) {
		select {
		case c.noResult <- struct{}{}:
		default:
		}
	}
	return b, err
}
