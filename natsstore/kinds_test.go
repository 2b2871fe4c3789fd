package natsstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/release"
)

// TestDeployLogKindFromFields: the log tells a rollback by its kind field,
// not by its id: a rollback whose id carries no "rollback-" is one, an
// automatic deploy whose id does is not, and the rollback pops the stack.
func TestDeployLogKindFromFields(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	const c1, c2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	results := []struct{ sha, kind, actor, nonce string }{
		{c1, "auto", "slipway", ""},
		{c2, "auto", "slipway", "rollback-looks-like-one"},
		{c1, "rollback", "ada", "x1"},
	}
	p := natsjs.NewPublisher(js, "/test")
	for _, r := range results {
		request := events.DeployKey(shop.FullName, "stg", r.sha, r.nonce)
		data := `{"env":"stg","repo":{"full_name":"acme/shop"},"commit":"` + r.sha + `","images":[],"trigger":"t","kind":"` + r.kind +
			`","actor":"` + r.actor + `","outcome":"succeeded","request":"` + request + `"}`
		env := events.Envelope{ID: request + ".succeeded", Type: events.TypeDeploySucceeded, Source: "/test", Subject: "stg@" + r.sha,
			Time: time.Now().UTC(), Data: []byte(data)}
		if _, err := p.PublishEnvelope(ctx, events.EnvSubject(events.SubjectDeploySucceeded, shop.FullName, "stg"), env); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := natsstore.NewDeployLog(js).Deploys(ctx, shop.FullName, "stg")
	if err != nil || len(ds) != len(results) {
		t.Fatalf("Deploys() = %d deploys, %v; want %d", len(ds), err, len(results))
	}
	for i, d := range ds {
		want := results[i].kind == "rollback"
		if release.IsRollback(d.DeployResult) != want || d.Actor != results[i].actor {
			t.Errorf("deploy %d (%s): rollback %v by %q, want %v by %q", i, d.Request, release.IsRollback(d.DeployResult), d.Actor, want, results[i].actor)
		}
	}
	if stack := release.Stack(ds); len(stack) != 1 || stack[0].Commit != c1 || stack[0].Actor != "ada" {
		t.Errorf("Stack() = %+v, want the rollback to c1 alone", stack)
	}
}

// TestWaitDeployReadsDoneRecords: WaitDeploy reads the outcome from the
// claim's record, as the deploy workflow writes it now and as earlier
// versions wrote it ("deployed"), and finds the result event.
func TestWaitDeployReadsDoneRecords(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	claims := natsstore.NewClaims(kv, "test")
	p := natsjs.NewPublisher(js, "/test")
	tests := []struct {
		name, record string
		outcome      events.DeployOutcome
		publish      bool
		wantKind     events.DeployKind
	}{
		{"earlier version", `{"outcome":"deployed"}`, events.OutcomeSucceeded, true, events.KindUnknown},
		{"succeeded", `{"outcome":"succeeded","kind":"rollback","actor":"ada"}`, events.OutcomeSucceeded, true, events.KindRollback},
		{"failed", `{"outcome":"failed","kind":"replay","actor":"ada"}`, events.OutcomeFailed, true, events.KindReplay},
		{"unchanged", `{"outcome":"unchanged","kind":"auto","actor":"slipway"}`, events.OutcomeUnchanged, false, events.KindAuto},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := (&events.DeployRequested{Env: "stg", Repo: shop, Commit: "1111111111111111111111111111111111111111"}).
				Ask(events.KindRollback, "t", "ada", string(rune('a'+i)))
			if tt.publish {
				if _, err := p.Publish(ctx, req.Result(tt.outcome, "", time.Now()).Event()); err != nil {
					t.Fatal(err)
				}
			}
			lease, err := claims.Claim(ctx, req.DedupKey(), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := lease.Complete(ctx, []byte(tt.record)); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			done, err := natsstore.WaitDeploy(wctx, js, claims, shop.FullName, "stg", req.DedupKey())
			if err != nil || done.Outcome != tt.outcome || done.Kind != tt.wantKind || (done.Result != nil) != tt.publish {
				t.Fatalf("WaitDeploy() = %+v, %v; want %s of kind %q, result %v", done, err, tt.outcome, tt.wantKind, tt.publish)
			}
			if tt.publish && done.Result.ID != req.DedupKey()+"."+tt.outcome.String() {
				t.Errorf("result %s, want the request's", done.Result.ID)
			}
		})
	}
}
