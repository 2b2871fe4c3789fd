package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
)

// TestTokenCommandsAndCLIOverAPI creates tokens with the commands'
// functions, serves the API as `slipway up` does on real NATS with a
// folded history, and runs `slipway rollback` and `slipway dlq list`
// through it with -api: the deploy token's rollback is published with the
// token's name as actor, the read token's is refused with 403.
func TestTokenCommandsAndCLIOverAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := natsjs.MustServerWith(t, pipeline.Topology())
	c, err := pipeline.Dial(ctx, s.ClientURL(), "token-test", pipeline.Topology())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	repo := events.Repo{Forge: "github", FullName: "acme/shop", DefaultBranch: "main"}
	pub := natsjs.NewPublisher(c.JS, "/test")
	for i, sha := range []string{strings.Repeat("a", 40), strings.Repeat("b", 40)} {
		req := &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha, Trigger: "test", Kind: events.KindAuto, Actor: "slipway"}
		push := &events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: zeroSHA, After: sha}
		for _, e := range []events.Event{push, req, req.Result(events.OutcomeSucceeded, "", time.Unix(int64(1000+i), 0)).Event()} {
			if _, err := pub.Publish(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := c.ReadModel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fctx, stop := context.WithCancel(ctx)
	folded := make(chan error, 1)
	go func() { folded <- natsjs.Fold(fctx, c.JS, pipeline.ConsumerReadModel, zerolog.Nop(), m.Project) }()
	t.Cleanup(func() {
		stop()
		if err := <-folded; err != nil {
			t.Errorf("projector: %v", err)
		}
	})
	if _, err := readmodel.CaughtUp(ctx, c.JS, pipeline.ConsumerReadModel); err != nil {
		t.Fatal(err)
	}

	tokens, err := api.OpenTokens(ctx, c.JS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, tc := range []struct{ name, role string }{{"ann", "deploy"}, {"wall", "read"}} {
		var out bytes.Buffer
		if err := createToken(ctx, tokens, tc.name, tc.role, &out); err != nil {
			t.Fatal(err)
		}
		files[tc.name] = filepath.Join(dir, tc.name)
		if err := os.WriteFile(files[tc.name], out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := createToken(ctx, tokens, "x", "admin", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "want read or deploy") {
		t.Fatalf("role admin: %v, want it refused", err)
	}
	var list bytes.Buffer
	if err := listTokens(ctx, tokens, &list); err != nil {
		t.Fatal(err)
	}
	if !regexpLine(list.String(), "ann", "deploy") || !regexpLine(list.String(), "wall", "read") || strings.Contains(list.String(), "slw_") {
		t.Fatalf("token list:\n%s", list.String())
	}

	h, err := pipeline.APIHandler(zerolog.Nop().WithContext(ctx), c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	rollbackAs := func(who string) error {
		return rollbackCommand().ParseAndRun(ctx, []string{"-api", srv.URL, "-token-file", files[who], "-wait", "0", "staging"})
	}
	if err := rollbackAs("wall"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("rollback with a read token: %v, want 403", err)
	}
	if err := rollbackAs("ann"); err != nil {
		t.Fatal(err)
	}
	var found *events.DeployRequested
	deadline := time.Now().Add(10 * time.Second)
	for found == nil && time.Now().Before(deadline) {
		found = lastRollbackRequest(t, ctx, c)
		if found == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if found == nil || found.Actor != "ann" || found.Commit != strings.Repeat("a", 40) {
		t.Fatalf("rollback request %+v, want one to aaaa… by ann", found)
	}
	var dl bytes.Buffer
	if err := dlqOverAPI(ctx, &apiClient{URL: srv.URL, TokenFile: files["wall"]}, "list", nil, &dl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dl.String(), "(no dead letters)") {
		t.Fatalf("dlq list over the API: %q", dl.String())
	}
	t.Setenv("SLIPWAY_TOKEN", "")
	if err := dlqOverAPI(ctx, &apiClient{URL: srv.URL}, "list", nil, &dl); err == nil || !strings.Contains(err.Error(), "needs a token") {
		t.Fatalf("no token: %v", err)
	}
}

// regexpLine reports whether a line of out starts with name and holds role.
func regexpLine(out, name, role string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == name && f[1] == role {
			return true
		}
	}
	return false
}

// lastRollbackRequest returns the last rollback request in the stream.
func lastRollbackRequest(t *testing.T, ctx context.Context, c *pipeline.Conn) *events.DeployRequested {
	t.Helper()
	st, err := c.JS.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.LastSeq; seq > 0; seq-- {
		m, err := natsstore.FindEvent(ctx, c.JS, seq, "")
		if err != nil {
			continue
		}
		ev, err := m.Decode()
		if req, ok := ev.(*events.DeployRequested); err == nil && ok && req.Kind == events.KindRollback {
			return req
		}
	}
	return nil
}
