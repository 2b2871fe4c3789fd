package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forgeapi"
	"github.com/slipway-dev/slipway/workflows/notify"
)

// githubAPI is an HTTP server speaking GitHub's commit status API: it
// answers 503 while down, 422 for the commits in refuse, and records every
// status it accepted.
type githubAPI struct {
	mu     sync.Mutex
	down   bool
	refuse map[string]bool
	posted []string // "<sha4> <context> <state>"
}

func (g *githubAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sha := path.Base(r.URL.Path)
	switch {
	case r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/repos/acme/shop/statuses/"):
		http.NotFound(w, r)
	case g.down:
		http.Error(w, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
	case g.refuse[sha]:
		http.Error(w, `{"message":"No commit found for SHA"}`, http.StatusUnprocessableEntity)
	default:
		var body struct{ State, Context string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.posted = append(g.posted, sha[:4]+" "+body.Context+" "+body.State)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("{}"))
	}
}

func (g *githubAPI) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

func (g *githubAPI) statuses() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.posted...)
}

func newQueued(t *testing.T, api *githubAPI, maxPending int) *notify.Handler {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := forgeapi.New(forgeapi.KindGitHub, srv.URL, "gh-token")
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Handler{
		Config: notify.Config{Timeout: time.Second, Pause: 10 * time.Millisecond, Rest: 200 * time.Millisecond, MaxPending: maxPending},
		Hosts:  func(events.Repo) (notify.Host, bool) { return c, true },
	}
}

func waitPending(t *testing.T, h *notify.Handler, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.Pending() != want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d statuses pending, want %d", h.Pending(), want)
		}
	}
}

func waitPosted(t *testing.T, api *githubAPI, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(api.statuses()) < want; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the host got %q, want %d statuses", api.statuses(), want)
		}
	}
}

// TestStatusesDelayedWhileHostDown: statuses the host does not take while
// it answers 503 are kept, the latest per commit and check, and posted once
// it answers again; none is lost but those superseded.
func TestStatusesDelayedWhileHostDown(t *testing.T) {
	api := &githubAPI{down: true}
	h := newQueued(t, api, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()

	sha2 := strings.Repeat("b", 40)
	for _, ev := range []events.Event{
		&events.BuildRequested{Repo: repo, Commit: sha, Service: events.ServiceSpec{Name: "web"}},
		&events.BuildSucceeded{Repo: repo, Commit: sha, Service: "web", Digest: "sha256:abc"},
		&events.DeployRequested{Env: "staging", Repo: repo, Commit: sha},
		&events.DeploySucceeded{DeployResult: events.DeployResult{Env: "staging", Repo: repo, Commit: sha}},
		&events.BuildFailed{Repo: repo, Commit: sha2, Service: "api", Reason: "RUN make"},
	} {
		if err := h.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := api.statuses(); len(got) != 0 {
		t.Fatalf("posted while down: %q", got)
	}
	api.setDown(false)
	waitPosted(t, api, 3)
	waitPending(t, h, 0)
	want := []string{"0123 slipway/build/web success", "0123 slipway/deploy/staging success", "bbbb slipway/build/api failure"}
	if got := api.statuses(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("posted after the host came back:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRefusedStatusGivenUp: a status the host refuses for itself (422) is
// given up, and does not hold back the next.
func TestRefusedStatusGivenUp(t *testing.T) {
	bad := strings.Repeat("c", 40)
	api := &githubAPI{refuse: map[string]bool{bad: true}}
	h := newQueued(t, api, 0)
	ctx := context.Background()
	for _, c := range []string{bad, sha} {
		if err := h.Handle(ctx, &events.BuildSucceeded{Repo: repo, Commit: c, Service: "web"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := api.statuses(); h.Pending() != 0 || len(got) != 1 || got[0] != "0123 slipway/build/web success" {
		t.Errorf("posted %q, %d pending; want the good one posted, the refused one given up", got, h.Pending())
	}
}

// TestPendingBounded: past MaxPending the oldest waiting status is lost,
// the newest kept.
func TestPendingBounded(t *testing.T) {
	api := &githubAPI{down: true}
	h := newQueued(t, api, 2)
	ctx := context.Background()
	for _, svc := range []string{"a", "b", "c"} {
		if err := h.Handle(ctx, &events.BuildSucceeded{Repo: repo, Commit: sha, Service: svc}); err != nil {
			t.Fatal(err)
		}
	}
	api.setDown(false)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = h.Run(rctx) }()
	waitPosted(t, api, 2)
	waitPending(t, h, 0)
	if got := api.statuses(); strings.Join(got, ",") != "0123 slipway/build/b success,0123 slipway/build/c success" {
		t.Errorf("posted %q, want b and c", got)
	}
}
