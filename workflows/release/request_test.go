package release_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

const (
	c5 = "5555555555555555555555555555555555555555"
	c6 = "6666666666666666666666666666666666666666"
)

// checked is declared with a check of web.
const checked = declared + `checks:
  - {name: unit, service: web, run: go test ./...}
`

// checkRecorded records the result of check unit of sha as the checks
// workflow completes its claim.
func checkRecorded(c workflowstest.Results, sha string, passed bool) {
	b, _ := json.Marshal(&events.CheckFinished{Repo: repo, Commit: sha, Check: "unit", Service: "web", Passed: passed, Reason: "exit code: 1"})
	c[events.CheckKey(repo.FullName, sha, "unit")] = b
}

// TestReleasable is the table of the gates a release through the API
// passes: those `slipway release` applies before it writes a pin file.
func TestReleasable(t *testing.T) {
	src := workflowstest.Files{
		c1: {"slipway.yaml": declared},
		c2: {"slipway.yaml": declared},
		c3: {"slipway.yaml": checked},
		c4: {"slipway.yaml": checked},
		c5: {"slipway.yaml": checked},
		c6: {},
	}
	c := workflowstest.Results{}
	for _, sha := range []string{c1, c3, c4, c5} {
		built(c, sha, webSpec, apiSpec)
	}
	checkRecorded(c, c3, false)
	checkRecorded(c, c5, true)
	healthy := func(shas ...string) history {
		h := history{}
		for i, sha := range shas {
			h["stage"] = append(h["stage"], deployed("stage", sha, events.OutcomeSucceeded, uint64(i+1), ""))
		}
		return h
	}
	tests := []struct {
		name    string
		env     string
		sha     string
		hist    history
		wantErr string // "" releasable; otherwise in the refusal
	}{
		{"built, healthy on staging", "prod", c1, healthy(c1), ""},
		{"checks passed", "prod", c5, healthy(c5), ""},
		{"never built", "prod", c2, healthy(c2), "never built"},
		{"a check failed", "prod", c3, healthy(c3), "unit"},
		{"a check still running", "prod", c4, healthy(c4), "unit"},
		{"never ran on staging", "prod", c1, healthy(c5), "never ran on stage"},
		{"failed on staging", "prod", c1, history{"stage": {deployed("stage", c1, events.OutcomeFailed, 1, "")}}, "never ran healthy on stage"},
		{"an environment following a branch", "stage", c1, healthy(c1), `no environment "stage" following a pin file`},
		{"an environment not declared", "nope", c1, healthy(c1), `no environment "nope"`},
		{"no slipway.yaml", "prod", c6, healthy(c6), "slipway.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p := newHandler(src, c, envs{}, tt.hist, nil)
			req, err := h.Releasable(context.Background(), repo, tt.env, tt.sha)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Releasable() = %v, want releasable", err)
				}
				if req.Env != "prod" || req.Commit != tt.sha || len(req.Images) != 2 {
					t.Fatalf("request %+v, want prod at %s with both images", req, tt.sha)
				}
				if w := req.Images[0]; w.Digest != image("web", tt.sha).Digest || w.Service.Env["GREETING"] != "hello from prod" || w.Service.Replicas != 2 {
					t.Errorf("web image %+v: want the built digest with prod's values", w)
				}
			} else if !errors.Is(err, release.ErrNotReleasable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Releasable() = %v, want ErrNotReleasable saying %q", err, tt.wantErr)
			}
			if n := len(p.Events()); n != 0 {
				t.Errorf("Releasable published %d events, want none", n)
			}
		})
	}
}

// claimsOver are the real claims (an embedded JetStream) for the release
// workflow's own claims, reading the builds and checks of c.
type claimsOver struct {
	*natsstore.Claims
	c workflowstest.Results
	// other are the claims of another deployer on the same bucket.
	other *natsstore.Claims
}

func (o claimsOver) Result(ctx context.Context, key string) ([]byte, error) {
	if b, err := o.c.Result(ctx, key); err == nil {
		return b, nil
	}
	return o.Claims.Result(ctx, key)
}

func mustClaims(t *testing.T, c workflowstest.Results) claimsOver {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	return claimsOver{Claims: natsstore.NewClaims(kv, "release-test"), c: c, other: natsstore.NewClaims(kv, "other-deployer")}
}

// TestHandleRequested checks that a release request passing the gates
// becomes one deploy request of kind release with the request's actor and
// id as trigger, that one failing them is refused with its reason and
// nothing published, and that a redelivered request decides nothing again.
func TestHandleRequested(t *testing.T) {
	ctx := context.Background()
	src := workflowstest.Files{c1: {"slipway.yaml": declared}, c2: {"slipway.yaml": declared}}
	c := workflowstest.Results{}
	built(c, c1, webSpec, apiSpec)
	claims := mustClaims(t, c)
	hist := history{"stage": {deployed("stage", c1, events.OutcomeSucceeded, 1, ""), deployed("stage", c2, events.OutcomeSucceeded, 2, "")}}
	h, p := newHandler(src, c, envs{}, hist, nil)
	h.Claims = claims
	tests := []struct {
		name        string
		sha         string
		wantRefused string
	}{
		{"releasable", c1, ""},
		{"never built", c2, "never built"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &events.ReleaseRequested{Repo: repo, Env: "prod", Commit: tt.sha, Actor: "ops-ann", Reason: "ship it", Nonce: "n-" + tt.sha[:4], RequestedAt: time.Now()}
			for range 2 { // delivered, then redelivered
				if err := h.HandleRequested(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			b, err := claims.Result(ctx, e.DedupKey())
			if err != nil {
				t.Fatalf("no decision recorded: %v", err)
			}
			d, err := release.ParseDecision(b)
			if err != nil {
				t.Fatal(err)
			}
			reqs := workflowstest.Of[*events.DeployRequested](p)
			p.Take()
			if tt.wantRefused != "" {
				if !strings.Contains(d.Refused, tt.wantRefused) || d.Deploy != "" || len(reqs) != 0 {
					t.Fatalf("decision %+v, %d requests: want refused with %q and nothing requested", d, len(reqs), tt.wantRefused)
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d deploy requests over two deliveries, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Kind != events.KindRelease || r.Actor != "ops-ann" || r.Trigger != e.DedupKey() || !r.Explicit ||
				r.Env != "prod" || r.Commit != tt.sha || d.Deploy != r.DedupKey() || d.Refused != "" {
				t.Fatalf("request %+v, decision %+v: want a release by ops-ann triggered by %s", r, d, e.DedupKey())
			}
		})
	}
	if _, err := claims.Claim(ctx, (&events.ReleaseRequested{Repo: repo, Env: "prod", Commit: c1, Nonce: "n-1111"}).DedupKey(), time.Minute); !errors.Is(err, events.ErrAlreadyDone) {
		t.Errorf("claim of a decided request: %v, want ErrAlreadyDone", err)
	}

	// A malformed request is dropped (permanent), nothing claimed.
	for _, bad := range []*events.ReleaseRequested{
		{Repo: repo, Env: "prod", Commit: "main", Nonce: "n-bad"},
		{Repo: repo, Env: "", Commit: c1, Nonce: "n-bad"},
		{Repo: events.Repo{FullName: "acme/shop", CloneURL: "file:///etc"}, Env: "prod", Commit: c1, Nonce: "n-bad"},
	} {
		if err := h.HandleRequested(ctx, bad); !events.IsPermanent(err) {
			t.Errorf("HandleRequested(%+v) = %v, want a permanent error", bad, err)
		}
		if _, err := claims.Result(ctx, bad.DedupKey()); err == nil {
			t.Errorf("malformed request %s decided, want it dropped", bad.DedupKey())
		}
	}

	// A request another deployer is deciding is retried later, not decided twice.
	held := &events.ReleaseRequested{Repo: repo, Env: "prod", Commit: c1, Actor: "ops-ann", Nonce: "n-held"}
	if _, err := claims.other.Claim(ctx, held.DedupKey(), time.Minute); err != nil {
		t.Fatal(err)
	}
	var retry *events.RetryableError
	if err := h.HandleRequested(ctx, held); !errors.As(err, &retry) {
		t.Errorf("HandleRequested of a request held elsewhere = %v, want a retryable error", err)
	}
	if n := len(p.Events()); n != 0 {
		t.Errorf("%d events published for a request held elsewhere, want none", n)
	}
}
