package build_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// projected publishes into a recorder and folds each event into the read
// model, as the projector of stream SLIPWAY does.
type projected struct {
	workflowstest.Recorder
	m   *readmodel.Model
	mu  sync.Mutex
	seq uint64
}

func (p *projected) Publish(ctx context.Context, e events.Event) (bool, error) {
	if _, err := p.Recorder.Publish(ctx, e); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	env, err := events.NewEnvelope(e, "test", time.Now())
	if err != nil {
		return false, err
	}
	p.seq++
	return false, p.m.Project(natsjs.WithStored(ctx, natsjs.Stored{Seq: p.seq, Subject: e.Subject()}), env)
}

// tagger records the tags put by digest; gone makes every manifest missing.
type tagger struct {
	mu   sync.Mutex
	tags []string
	gone bool
}

func (g *tagger) Present(context.Context, string, string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		return build.ErrNoManifest
	}
	return nil
}

func (g *tagger) Retag(_ context.Context, repo, digest, tag string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		return build.ErrNoManifest
	}
	g.tags = append(g.tags, repo+":"+tag+"@"+digest)
	return nil
}

// expiringRig is a builder on claims that expire after a second, whose
// events are folded into the read model.
func expiringRig(t *testing.T, g *tagger) (*build.Handler, *natsstore.Claims, *builder, *projected) {
	t.Helper()
	topo := natsjs.DefaultTopology()
	topo.ClaimRetention, topo.AllowShortRetention = time.Second, true
	s := natsjs.MustServerWith(t, topo)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	claims, err := natsstore.OpenClaims(ctx, js, "test")
	if err != nil {
		t.Fatal(err)
	}
	m, err := readmodel.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	src, b := sources, &builder{}
	p := &projected{m: m}
	h := &build.Handler{
		Config: build.Config{Registry: "localhost:5000", ClaimTTL: time.Minute},
		Source: src, Builder: b, Claims: claims, Publisher: p, Tagger: g,
		Planner: &build.Planner{Source: src, Publisher: p},
	}
	return h, claims, b, p
}

// TestBuildRedeliveredAfterItsClaimExpired: the claim of a completed build
// expires; then a release still finds its image (BuiltImagesOf), and a
// redelivery of its request is answered from the read model's record of
// the build: no second solve, the image's tag put again by digest, the
// same digest announced, the claim completed again with it.
func TestBuildRedeliveredAfterItsClaimExpired(t *testing.T) {
	g := &tagger{}
	h, claims, b, p := expiringRig(t, g)
	ctx := context.Background()
	req := requests()[0]
	if _, err := p.Publish(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleBuild(ctx, req); err != nil {
		t.Fatal(err)
	}
	key := events.BuildKey(repo.FullName, sha, "web")
	first, err := claims.Result(ctx, key)
	if err != nil {
		t.Fatalf("result after the build: %v", err)
	}
	waitClaimGone(t, claims, key)
	// A release of the commit still finds its image, with the spec its
	// manifest declares.
	images, err := build.BuiltImagesOf(ctx, claims, repo.FullName, sha, []events.ServiceSpec{req.Service})
	if err != nil || len(images) != 1 || images[0].Digest == "" || images[0].Service.Port != req.Service.Port {
		t.Fatalf("BuiltImagesOf after the claim expired = %+v, %v; want the recorded image of web", images, err)
	}

	if err := h.HandleBuild(ctx, req); err != nil {
		t.Fatalf("redelivery after expiry: %v", err)
	}
	if len(b.solves) != 1 {
		t.Fatalf("solves = %v, want 1: a redelivery after the claim expired built again", b.solves)
	}
	got := workflowstest.Of[*events.BuildSucceeded](&p.Recorder)
	if len(got) != 2 || got[1].Digest != got[0].Digest || got[1].Image != got[0].Image {
		t.Fatalf("announced %+v, want the first build announced again", got)
	}
	if want := "acme/shop/web:" + sha + "@" + got[0].Digest; len(g.tags) != 1 || g.tags[0] != want {
		t.Errorf("tags put = %v, want %s", g.tags, want)
	}
	again, err := claims.Result(ctx, key)
	if err != nil {
		t.Fatalf("result after the redelivery: %v", err)
	}
	if d := got[0].Digest; d == "" || !strings.Contains(string(first), d) || !strings.Contains(string(again), d) {
		t.Fatalf("claim after the redelivery = %s, want the digest %s", again, d)
	}
}

// TestBuildRecordedButImageGoneIsBuiltAgain: a build whose claim expired
// and whose image the registry lost is solved again.
func TestBuildRecordedButImageGoneIsBuiltAgain(t *testing.T) {
	g := &tagger{gone: true}
	h, claims, b, p := expiringRig(t, g)
	ctx := context.Background()
	req := requests()[0]
	if _, err := p.Publish(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleBuild(ctx, req); err != nil {
		t.Fatal(err)
	}
	waitClaimGone(t, claims, events.BuildKey(repo.FullName, sha, "web"))
	if err := h.HandleBuild(ctx, req); err != nil {
		t.Fatal(err)
	}
	if len(b.solves) != 2 {
		t.Fatalf("solves = %d, want 2: the image was gone from the registry", len(b.solves))
	}
}

// waitClaimGone waits until the claim of key expired.
func waitClaimGone(t *testing.T, claims *natsstore.Claims, key string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, ok, err := claims.Inspect(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim %s still there after 15s: completed claims do not expire", key)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
