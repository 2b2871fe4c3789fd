package natsstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
)

func TestPreviewStore(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketPreviews)
	if err != nil {
		t.Fatal(err)
	}
	st := natsstore.NewPreviewStore(kv)
	if all, err := st.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("List() on an empty bucket = %v, %v", all, err)
	}
	repo := events.Repo{FullName: "acme/shop"}
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, n := range []int{12, 3} {
		p := preview.Preview{Env: "pr-" + string(rune('0'+n%10)), Repo: repo, Number: n, HeadSHA: "abc", Open: true, TTL: time.Hour, UpdatedAt: at}
		if err := st.Put(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := st.Get(ctx, "acme/shop", 12)
	if err != nil || !ok || got.Number != 12 || !got.Open || got.TTL != time.Hour || !got.UpdatedAt.Equal(at) {
		t.Fatalf("Get() = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := st.Get(ctx, "acme/shop", 99); ok || err != nil {
		t.Fatalf("Get(missing) = %v, %v", ok, err)
	}
	all, err := st.List(ctx)
	if err != nil || len(all) != 2 || all[0].Number != 3 || all[1].Number != 12 {
		t.Fatalf("List() = %+v, %v", all, err)
	}
	if err := st.Delete(ctx, "acme/shop", 3); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "acme/shop", 3); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if all, _ := st.List(ctx); len(all) != 1 {
		t.Errorf("List() after Delete = %+v", all)
	}
}

func TestDeployLogAndFindEvent(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	p := natsjs.NewPublisher(js, "/test")
	res := func(sha, nonce string) events.DeployResult {
		return events.DeployResult{Env: "stg", Repo: shop, Commit: sha, Request: events.DeployKey(shop.FullName, "stg", sha, nonce)}
	}
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	for _, e := range []events.Event{
		&events.DeploySucceeded{DeployResult: res(a, "")},
		&events.DeployRequested{Env: "other", Repo: shop, Commit: a},
		&events.DeployFailed{DeployResult: res(b, "")},
		&events.DeploySuperseded{DeployResult: res(b, "x")},
		&events.DeploySucceeded{DeployResult: res(a, "rollback-1")},
	} {
		if _, err := p.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := natsstore.NewDeployLog(js).Deploys(ctx, shop.FullName, "stg")
	if err != nil {
		t.Fatal(err)
	}
	want := []events.DeployOutcome{events.OutcomeSucceeded, events.OutcomeFailed, events.OutcomeSuperseded, events.OutcomeSucceeded}
	if len(ds) != len(want) {
		t.Fatalf("%d deploys, want %d", len(ds), len(want))
	}
	for i, d := range ds {
		if d.Outcome != want[i] || d.Seq == 0 || d.ID == "" || d.Time.IsZero() {
			t.Errorf("deploy %d = %+v, want %s with its place in the stream", i, d, want[i])
		}
	}
	if !release.IsRollback(ds[3].DeployResult) || release.Stack(ds)[0].Seq != ds[3].Seq {
		t.Errorf("the rollback is not recognised: %+v", ds[3])
	}

	bySeq, err := natsstore.FindEvent(ctx, js, ds[1].Seq, "")
	if err != nil || bySeq.ID != ds[1].ID || bySeq.Type != events.TypeDeployFailed {
		t.Fatalf("FindEvent(seq) = %+v, %v", bySeq, err)
	}
	mustFold(t, js) // an id is found through the read model's index
	byID, err := natsstore.FindEvent(ctx, js, 0, ds[0].ID)
	if err != nil || byID.Seq != ds[0].Seq {
		t.Fatalf("FindEvent(id) = %+v, %v", byID, err)
	}
	if _, err := natsstore.FindEvent(ctx, js, 999, ""); !errors.Is(err, natsstore.ErrEventNotFound) {
		t.Errorf("FindEvent(999): %v", err)
	}
	if _, err := natsstore.FindEvent(ctx, js, 0, "nope"); !errors.Is(err, natsstore.ErrEventNotFound) {
		t.Errorf("FindEvent(nope): %v", err)
	}
	last, err := natsstore.LastEvent(ctx, js, events.EnvSubject(events.SubjectDeploySucceeded, shop.FullName, "stg"))
	if err != nil || last.Seq != ds[3].Seq {
		t.Errorf("LastEvent() = %+v, %v", last, err)
	}
	if _, err := natsstore.LastEvent(ctx, js, events.SubjectReleasePlanned+".stg"); !errors.Is(err, natsstore.ErrEventNotFound) {
		t.Errorf("LastEvent(none): %v", err)
	}

	envKV, err := js.KeyValue(ctx, natsjs.BucketEnvs)
	if err != nil {
		t.Fatal(err)
	}
	envs := natsstore.NewEnvStore(envKV)
	if err := envs.Record(ctx, deploy.State{Env: "pr-1", Repo: shop, Commit: a}); err != nil {
		t.Fatal(err)
	}
	if err := envs.Delete(ctx, shop.FullName, "pr-1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := envs.Get(ctx, shop.FullName, "pr-1"); ok || err != nil {
		t.Errorf("Get after Delete: %v %v", ok, err)
	}
	if all, err := envs.List(ctx); err != nil || len(all) != 0 {
		t.Errorf("List after Delete: %+v %v", all, err)
	}
}

// mustFold folds every event stored into the read model, as its projector
// does.
func mustFold(tb testing.TB, js jetstream.JetStream) {
	tb.Helper()
	ctx := context.Background()
	m, err := readmodel.Open(ctx, js)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		tb.Fatal(err)
	}
	for seq := s.CachedInfo().State.FirstSeq; seq <= s.CachedInfo().State.LastSeq; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		if err != nil {
			tb.Fatal(err)
		}
		env, err := natsjs.DecodeHeaders(raw.Header, raw.Data)
		if err != nil {
			tb.Fatal(err)
		}
		if err := m.Project(natsjs.WithStored(ctx, natsjs.Stored{Seq: seq, Subject: raw.Subject}), env); err != nil {
			tb.Fatal(err)
		}
	}
}
