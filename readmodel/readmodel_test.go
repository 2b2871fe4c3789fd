package readmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
)

// projector is the consumer the tests fold with, declared as the wiring
// declares it.
var projector = natsjs.Consumer{Name: "readmodel", Role: natsjs.RoleDeployer, MaxAckPending: 1,
	Subjects: []string{events.SubjectRoot + ".>"}, Buckets: natsjs.ReadModelBuckets}

// bus is an embedded JetStream with the read model provisioned.
type bus struct {
	url  string
	js   jetstream.JetStream
	topo natsjs.Topology
	m    *readmodel.Model
	pub  *natsjs.Publisher
}

// mustBus starts a server provisioned with topo and the projector's
// consumer.
func mustBus(tb testing.TB, topo natsjs.Topology) *bus {
	tb.Helper()
	topo.Consumers = append(topo.Consumers, projector)
	s := natsjs.MustServerWith(tb, topo)
	_, js := natsjs.MustJetStream(tb, s.ClientURL())
	m, err := readmodel.Open(context.Background(), js)
	if err != nil {
		tb.Fatal(err)
	}
	return &bus{url: s.ClientURL(), js: js, topo: topo, m: m, pub: natsjs.NewPublisher(js, "/test")}
}

// run runs a projector until the test ends.
func (b *bus) run(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- natsjs.Fold(ctx, b.js, projector.Name, zerolog.Nop(), b.m.Project) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("projector: %v", err)
		}
	})
}

// caughtUp waits until the projector folded every event stored.
func (b *bus) caughtUp(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := readmodel.CaughtUp(ctx, b.js, projector.Name); err != nil {
		tb.Fatal(err)
	}
}

func (b *bus) publish(tb testing.TB, evs ...events.Event) {
	tb.Helper()
	for _, e := range evs {
		if _, err := b.pub.Publish(context.Background(), e); err != nil {
			tb.Fatal(err)
		}
	}
}

// snapshot returns every record of the read model, by bucket and key.
func (b *bus) snapshot(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, name := range natsjs.ReadModelBuckets {
		kv, err := b.js.KeyValue(ctx, name)
		if err != nil {
			tb.Fatal(err)
		}
		keys, err := kv.Keys(ctx)
		if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
			tb.Fatal(err)
		}
		for _, k := range keys {
			e, err := kv.Get(ctx, k)
			if err != nil {
				tb.Fatal(err)
			}
			out[name+"/"+k] = string(e.Value())
		}
	}
	return out
}

var repo = events.Repo{Forge: "github", FullName: "Acme/Shop", CloneURL: "https://example.com/acme/shop.git", DefaultBranch: "main"}

func sha(i int) string { return fmt.Sprintf("%040x", i+1) }

// deployOf is a deploy request of commit i to env and its result.
func deployOf(env string, i int, outcome events.DeployOutcome, kind events.DeployKind) (*events.DeployRequested, events.Event) {
	req := &events.DeployRequested{Env: env, Repo: repo, Commit: sha(i), Trigger: "test", Kind: kind, Actor: "ann",
		Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha(i), Digest: "sha256:" + sha(i)}}}
	if kind != events.KindAuto {
		req.Nonce = kind.Nonce(fmt.Sprint(i))
	}
	r := req.Result(outcome, "", time.Unix(int64(1000+i), 0).UTC())
	r.Duration = time.Duration(i+1) * time.Millisecond
	if outcome == events.OutcomeFailed {
		r.Reason = "health check failed"
	}
	return req, r.Event()
}

// history publishes the life of a repository: pushes, builds (one failed),
// deploys of every outcome, a release plan and a preview removed.
func history(tb testing.TB, b *bus) {
	tb.Helper()
	b.publish(tb,
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: sha(-1), After: sha(0), Pusher: "ann", Message: "first", ReceivedAt: time.Unix(900, 0).UTC()},
		&events.BuildRequested{Repo: repo, Commit: sha(0), Branch: "main", Service: events.ServiceSpec{Name: "web"}},
		&events.BuildRequested{Repo: repo, Commit: sha(0), Branch: "main", Service: events.ServiceSpec{Name: "api"}},
		&events.BuildSucceeded{Repo: repo, Commit: sha(0), Branch: "main", Service: "web", Image: "r/acme/shop/web:" + sha(0), Digest: "sha256:aa",
			StartedAt: time.Unix(950, 0).UTC(), Duration: 3 * time.Second},
		&events.BuildFailed{Repo: repo, Commit: sha(0), Branch: "main", Service: "api", Reason: "RUN make: exit 2",
			Step: "[2/3] RUN make", Output: []string{"make: *** [all] Error 2"}, Duration: time.Second},
		&events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: sha(0), After: sha(1), Pusher: "bob", ReceivedAt: time.Unix(990, 0).UTC()},
		&events.CommitBuilt{Repo: repo, Commit: sha(1), Branch: "main"},
	)
	for i, o := range []events.DeployOutcome{events.OutcomeSucceeded, events.OutcomeFailed, events.OutcomeSucceeded, events.OutcomeSuperseded} {
		req, res := deployOf("staging", i, o, events.KindAuto)
		b.publish(tb, req, res)
	}
	req, res := deployOf("staging", 0, events.OutcomeSucceeded, events.KindRollback)
	b.publish(tb, req, res)
	preq, pres := deployOf("pr-7", 1, events.OutcomeSucceeded, events.KindPreview)
	b.publish(tb, preq, pres,
		&events.PreviewRemoved{Env: "pr-7", Repo: repo, Number: 7},
		&events.ReleasePlanned{Env: "production", Repo: repo, Number: 3, HeadSHA: sha(5), To: sha(1), CommitCount: 2, PlannedAt: time.Unix(2000, 0).UTC()},
	)
}

func TestProjectorFoldsTheHistory(t *testing.T) {
	b := mustBus(t, natsjs.DefaultTopology())
	b.run(t)
	history(t, b)
	b.caughtUp(t)
	ctx := context.Background()

	c, err := b.m.Commit(ctx, repo.FullName, sha(0))
	if err != nil {
		t.Fatal(err)
	}
	web, api := c.Builds["web"], c.Builds["api"]
	if c.Pusher != "ann" || c.Message != "first" || web == nil || api == nil {
		t.Fatalf("commit = %+v", c)
	}
	if web.Result != readmodel.BuildSucceeded || web.Digest != "sha256:aa" || web.Duration != 3*time.Second ||
		web.Log != natsjs.LogSubject(repo.FullName, sha(0), "web") {
		t.Errorf("web build = %+v", web)
	}
	if api.Result != readmodel.BuildFailed || api.Step != "[2/3] RUN make" || len(api.Output) != 1 || api.Duration != time.Second {
		t.Errorf("api build = %+v", api)
	}
	commits, err := b.m.Commits(ctx, repo.FullName, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 2 || commits[0].SHA != sha(1) || !commits[0].Built || commits[1].SHA != sha(0) {
		t.Errorf("commits = %+v", commits)
	}

	env, err := b.m.Env(ctx, repo.FullName, "staging")
	if err != nil {
		t.Fatal(err)
	}
	if env.Commit != sha(0) || env.Previous != sha(2) || env.Health != readmodel.HealthHealthy || env.Deploys != 5 || env.Pending != "" {
		t.Errorf("staging = %+v", env)
	}
	deploys, err := b.m.Deploys(ctx, repo.FullName, "staging")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range deploys {
		got = append(got, fmt.Sprintf("%s %s %s %s", d.Outcome, d.Kind, d.Actor, d.Commit[38:]))
	}
	want := []string{"succeeded auto ann 01", "failed auto ann 02", "succeeded auto ann 03", "superseded auto ann 04", "succeeded rollback ann 01"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("deploys = %q, want %q", got, want)
	}
	if last, _ := b.m.LastDeploys(ctx, repo.FullName, "staging", 2); len(last) != 2 || last[1].Kind != events.KindRollback {
		t.Errorf("last 2 deploys = %+v", last)
	}

	previews, err := b.m.Previews(ctx, repo.FullName)
	if err != nil {
		t.Fatal(err)
	}
	if len(previews) != 1 || previews[0].Env != "pr-7" || previews[0].Health != readmodel.HealthRemoved {
		t.Errorf("previews = %+v", previews)
	}
	plan, err := b.m.Plan(ctx, repo.FullName, "production", 0)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Number != 3 || plan.To != sha(1) || plan.Seq == 0 {
		t.Errorf("plan = %+v", plan)
	}
	id := deploys[4].ID
	s, err := b.m.Event(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seq != deploys[4].Seq || !strings.HasPrefix(s.Subject, events.SubjectDeploySucceeded+".") {
		t.Errorf("event %s = %+v", id, s)
	}
	if _, err := b.m.Event(ctx, "no.such.event"); !errors.Is(err, readmodel.ErrNotFound) {
		t.Errorf("unknown event: %v, want ErrNotFound", err)
	}
}

// TestProjectorIgnoresRedelivery folds every stored event a second time,
// as a redelivery would: nothing changes.
func TestProjectorIgnoresRedelivery(t *testing.T) {
	b := mustBus(t, natsjs.DefaultTopology())
	b.run(t)
	history(t, b)
	b.caughtUp(t)
	before := b.snapshot(t)
	if len(before) < 10 {
		t.Fatalf("read model holds %d records", len(before))
	}
	ctx := context.Background()
	s, err := b.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= s.CachedInfo().State.LastSeq; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		env, err := natsjs.DecodeHeaders(raw.Header, raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.m.Project(natsjs.WithStored(ctx, natsjs.Stored{Seq: seq, Subject: raw.Subject}), env); err != nil {
			t.Fatal(err)
		}
	}
	if after := b.snapshot(t); !maps.Equal(before, after) {
		t.Errorf("redelivery changed the read model:\nbefore %v\nafter  %v", before, after)
	}
}

func TestReindexEqualsLive(t *testing.T) {
	b := mustBus(t, natsjs.DefaultTopology())
	b.run(t)
	history(t, b)
	b.caughtUp(t)
	live := b.snapshot(t)

	if err := readmodel.Wipe(context.Background(), b.js, b.topo, projector); err != nil {
		t.Fatal(err)
	}
	if wiped := b.snapshot(t); len(wiped) != 0 {
		t.Fatalf("wiped read model holds %d records", len(wiped))
	}
	b.caughtUp(t)
	if rebuilt := b.snapshot(t); !maps.Equal(live, rebuilt) {
		for k, v := range live {
			if rebuilt[k] != v {
				t.Errorf("%s: live %s, rebuilt %s", k, v, rebuilt[k])
			}
		}
		t.Errorf("rebuilt holds %d records, live %d", len(rebuilt), len(live))
	}
}

// TestHistoryOutlivesStreamRetention bounds the stream to a few
// kilobytes: the deploys it dropped are still in the history, rollback's
// input, and an event id the stream no longer holds is not found.
func TestHistoryOutlivesStreamRetention(t *testing.T) {
	topo := natsjs.DefaultTopology()
	topo.MaxAge, topo.MaxBytes, topo.AllowShortRetention = 0, 16<<10, true
	b := mustBus(t, topo)
	b.run(t)
	const n = 40
	for i := range n {
		req, res := deployOf("staging", i, events.OutcomeSucceeded, events.KindAuto)
		b.publish(t, req, res)
		b.caughtUp(t) // the projector keeps up, as it does live
	}
	ctx := context.Background()
	s, err := b.js.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if first := s.CachedInfo().State.FirstSeq; first < 10 {
		t.Fatalf("stream still holds from #%d: retention not reached", first)
	}
	if _, err := s.GetMsg(ctx, 1); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("first event: %v, want it gone", err)
	}
	deploys, err := b.m.Deploys(ctx, repo.FullName, "staging")
	if err != nil {
		t.Fatal(err)
	}
	if len(deploys) != n || deploys[0].Commit != sha(0) || len(deploys[0].Images) != 1 {
		t.Fatalf("history holds %d deploys, first %+v; want %d from %s", len(deploys), deploys[0], n, sha(0))
	}
	b2, _ := json.Marshal(deploys[0].Images)
	if !strings.Contains(string(b2), "sha256:"+sha(0)) {
		t.Errorf("first deploy's images = %s", b2)
	}
}
