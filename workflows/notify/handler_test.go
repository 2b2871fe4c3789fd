package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/notify"
)

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "https://github.com/acme/shop.git"}

const sha = "0123456789abcdef0123456789abcdef01234567"

// host records what is posted; with err set every call fails, with hang
// every call waits for its context.
type host struct {
	mu       sync.Mutex
	posted   []string
	comments []string
	calls    int
	err      error
	hang     bool
}

func (h *host) PostStatus(ctx context.Context, s notify.Status) error {
	h.mu.Lock()
	h.calls++
	h.mu.Unlock()
	if h.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if h.err != nil {
		return h.err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posted = append(h.posted, fmt.Sprintf("%s %s %s %s %s", s.SHA[:4], s.Context, s.State, s.Description, s.TargetURL))
	return nil
}

func (h *host) Comment(_ context.Context, _ events.Repo, n int, body string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.comments = append(h.comments, fmt.Sprintf("#%d %s", n, body))
	return nil
}

func newHandler(h *host) *notify.Handler {
	return &notify.Handler{
		Config: notify.Config{
			URL:     func(_, env, svc string) string { return "http://" + svc + "." + env + ".localhost:8080/" },
			Timeout: 100 * time.Millisecond, Pause: 10 * time.Millisecond, Rest: time.Minute,
		},
		Hosts: func(r events.Repo) (notify.Host, bool) { return h, r.Forge == "github" },
	}
}

func TestStatuses(t *testing.T) {
	img := []events.Image{{Service: events.ServiceSpec{Name: "web"}}}
	res := events.DeployResult{Env: "staging", Repo: repo, Commit: sha, Images: img, Duration: 1500 * time.Millisecond}
	tests := []struct {
		name  string
		event events.Event
		want  string
	}{
		{"build requested", &events.BuildRequested{Repo: repo, Commit: sha, Service: events.ServiceSpec{Name: "web"}}, "0123 slipway/build/web pending building "},
		{"build succeeded", &events.BuildSucceeded{Repo: repo, Commit: sha, Service: "web", Digest: "sha256:abcdefabcdefabcdefabcdef"}, "0123 slipway/build/web success built sha256:abcdefabcdef "},
		{"build failed", &events.BuildFailed{Repo: repo, Commit: sha, Service: "web", Reason: "permanent: RUN make\nlog"}, "0123 slipway/build/web failure RUN make "},
		{"commit failed", &events.BuildFailed{Repo: repo, Commit: sha, Reason: "slipway.yaml not found"}, "0123 slipway/build failure slipway.yaml not found "},
		{"deploy requested", &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha, Images: img}, "0123 slipway/deploy/staging pending deploying to staging http://web.staging.localhost:8080/"},
		{"deploy succeeded", &events.DeploySucceeded{DeployResult: res}, "0123 slipway/deploy/staging success running on staging (deployed in 1.5s) http://web.staging.localhost:8080/"},
		{"deploy failed", &events.DeployFailed{DeployResult: func() events.DeployResult { r := res; r.Reason = "api unhealthy"; return r }()}, "0123 slipway/deploy/staging failure api unhealthy "},
		{"deploy superseded", &events.DeploySuperseded{DeployResult: func() events.DeployResult { r := res; r.Reason = "superseded by x"; return r }()}, "0123 slipway/deploy/staging canceled superseded by x "},
		{"release planned", &events.ReleasePlanned{Env: "production", Repo: repo, Number: 9, HeadSHA: sha, To: sha, CommitCount: 3}, "0123 slipway/release/production success ready: 3 commit(s) to production "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &host{}
			if err := newHandler(h).Handle(context.Background(), tt.event); err != nil {
				t.Fatal(err)
			}
			if len(h.posted) != 1 || h.posted[0] != tt.want {
				t.Errorf("posted %q, want %q", h.posted, tt.want)
			}
		})
	}
	h := &host{}
	if err := newHandler(h).Handle(context.Background(), &events.ReleasePlanned{Env: "production", Repo: repo, Number: 9, HeadSHA: sha, To: sha,
		Problems: []string{"never ran on staging"}}); err != nil {
		t.Fatal(err)
	}
	if len(h.comments) != 1 || !strings.HasPrefix(h.comments[0], "#9 ### Slipway release plan: production") || !strings.Contains(h.posted[0], "failure never ran on staging") {
		t.Errorf("plan with problems: posted %q, comments %q", h.posted, h.comments)
	}
}

func TestWithoutToken(t *testing.T) {
	h := &host{}
	err := newHandler(h).Handle(context.Background(), &events.BuildRequested{Repo: events.Repo{Forge: "gitlab", FullName: "a/b"}, Commit: sha})
	var ign *events.IgnoredError
	if !errors.As(err, &ign) || h.calls != 0 {
		t.Errorf("Handle() = %v with %d calls, want ignored", err, h.calls)
	}
}

// TestHostDown: a failing or hanging host costs at most two bounded tries,
// then it is left alone: its statuses are dropped at once, and Handle
// never asks for a redelivery.
func TestHostDown(t *testing.T) {
	for _, h := range []*host{{err: errors.New("503")}, {hang: true}} {
		n := newHandler(h)
		ev := &events.DeploySucceeded{DeployResult: events.DeployResult{Env: "staging", Repo: repo, Commit: sha}}
		start := time.Now()
		if err := n.Handle(context.Background(), ev); err != nil {
			t.Fatalf("Handle() = %v, want nil (dropped)", err)
		}
		if took := time.Since(start); took > time.Second || h.calls != 2 {
			t.Errorf("first event: %d calls in %s, want 2 bounded tries", h.calls, took)
		}
		start = time.Now()
		for i := 0; i < 100; i++ {
			if err := n.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took > 100*time.Millisecond || h.calls != 2 {
			t.Errorf("while down: %d calls in %s, want none", h.calls, took)
		}
	}
}
