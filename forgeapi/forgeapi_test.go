package forgeapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forgeapi"
	"github.com/slipway-dev/slipway/workflows/notify"
)

const (
	sha   = "0123456789abcdef0123456789abcdef01234567"
	token = "s3cr3t-token-value"
)

// request is one call a fake API received.
type request struct {
	Method, Path, Auth string
	Body               map[string]any
}

// fakeAPI emulates a host's API: it records calls and answers GETs of pull
// requests with state.
type fakeAPI struct {
	mu    sync.Mutex
	calls []request
	state string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	auth := r.Header.Get("Authorization")
	if auth == "" {
		auth = "PRIVATE-TOKEN " + r.Header.Get("PRIVATE-TOKEN")
	}
	f.mu.Lock()
	f.calls = append(f.calls, request{Method: r.Method, Path: r.URL.EscapedPath(), Auth: auth, Body: body})
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet {
		_ = json.NewEncoder(w).Encode(map[string]string{"state": f.state})
		return
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{}`))
}

func TestClients(t *testing.T) {
	repo := events.Repo{FullName: "acme/shop"}
	tests := []struct {
		kind       string
		repo       string
		open       string
		wantStatus request
		wantNote   request
		wantPR     string
	}{
		{forgeapi.KindGitHub, "acme/shop", "open",
			request{"POST", "/repos/acme/shop/statuses/" + sha, "Bearer " + token, map[string]any{"state": "failure", "context": "slipway/deploy/staging", "description": "api unhealthy", "target_url": "http://web.staging.localhost:8080/"}},
			request{"POST", "/repos/acme/shop/issues/7/comments", "Bearer " + token, map[string]any{"body": "plan"}},
			"/repos/acme/shop/pulls/7"},
		{forgeapi.KindGitea, "acme/shop", "open",
			request{"POST", "/api/v1/repos/acme/shop/statuses/" + sha, "token " + token, map[string]any{"state": "failure", "context": "slipway/deploy/staging", "description": "api unhealthy", "target_url": "http://web.staging.localhost:8080/"}},
			request{"POST", "/api/v1/repos/acme/shop/issues/7/comments", "token " + token, map[string]any{"body": "plan"}},
			"/api/v1/repos/acme/shop/pulls/7"},
		{forgeapi.KindGitLab, "acme/group/shop", "opened",
			request{"POST", "/api/v4/projects/acme%2Fgroup%2Fshop/statuses/" + sha, "PRIVATE-TOKEN " + token, map[string]any{"state": "failed", "name": "slipway/deploy/staging", "description": "api unhealthy", "target_url": "http://web.staging.localhost:8080/"}},
			request{"POST", "/api/v4/projects/acme%2Fgroup%2Fshop/merge_requests/7/notes", "PRIVATE-TOKEN " + token, map[string]any{"body": "plan"}},
			"/api/v4/projects/acme%2Fgroup%2Fshop/merge_requests/7"},
		{forgeapi.KindBitbucket, "acme/shop", "OPEN",
			request{"POST", "/2.0/repositories/acme/shop/commit/" + sha + "/statuses/build", "Bearer " + token, map[string]any{"state": "FAILED", "key": "slipway/deploy/staging", "name": "slipway/deploy/staging", "description": "api unhealthy", "url": "http://web.staging.localhost:8080/"}},
			request{"POST", "/2.0/repositories/acme/shop/pullrequests/7/comments", "Bearer " + token, map[string]any{"content": map[string]any{"raw": "plan"}}},
			"/2.0/repositories/acme/shop/pullrequests/7"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			api := &fakeAPI{state: tt.open}
			srv := httptest.NewServer(api)
			defer srv.Close()
			c, err := forgeapi.New(tt.kind, srv.URL, token)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			r := repo
			r.FullName = tt.repo
			if err := c.PostStatus(ctx, notify.Status{Repo: r, SHA: sha, State: notify.Failure, Context: "slipway/deploy/staging",
				Description: "api unhealthy", TargetURL: "http://web.staging.localhost:8080/"}); err != nil {
				t.Fatal(err)
			}
			if err := c.Comment(ctx, r, 7, "plan"); err != nil {
				t.Fatal(err)
			}
			open, err := c.PullRequestOpen(ctx, r, 7)
			if err != nil || !open {
				t.Fatalf("PullRequestOpen() = %v, %v", open, err)
			}
			api.state = "closed"
			if open, _ := c.PullRequestOpen(ctx, r, 7); open {
				t.Error("a closed pull request is open")
			}
			if len(api.calls) != 4 {
				t.Fatalf("%d calls, want 4", len(api.calls))
			}
			for i, want := range []request{tt.wantStatus, tt.wantNote} {
				got := api.calls[i]
				gb, _ := json.Marshal(got.Body)
				wb, _ := json.Marshal(want.Body)
				if got.Method != want.Method || got.Path != want.Path || got.Auth != want.Auth || string(gb) != string(wb) {
					t.Errorf("call %d = %+v\nwant %+v", i, got, want)
				}
			}
			if got := api.calls[2]; got.Method != "GET" || got.Path != tt.wantPR {
				t.Errorf("pull request call %+v, want GET %s", got, tt.wantPR)
			}
		})
	}
}

func TestStateMapping(t *testing.T) {
	want := map[string][]string{
		forgeapi.KindGitHub:    {"pending", "success", "failure", "error"},
		forgeapi.KindGitea:     {"pending", "success", "failure", "warning"},
		forgeapi.KindGitLab:    {"pending", "success", "failed", "canceled"},
		forgeapi.KindBitbucket: {"INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED"},
	}
	for kind, states := range want {
		api := &fakeAPI{}
		srv := httptest.NewServer(api)
		c, _ := forgeapi.New(kind, srv.URL, "")
		for _, s := range []notify.State{notify.Pending, notify.Success, notify.Failure, notify.Canceled} {
			_ = c.PostStatus(context.Background(), notify.Status{Repo: events.Repo{FullName: "a/b"}, SHA: sha, State: s, Context: "c"})
		}
		srv.Close()
		for i, st := range states {
			if got := api.calls[i].Body["state"]; got != st {
				t.Errorf("%s: state %d = %v, want %s", kind, i, got, st)
			}
		}
	}
}

// TestDownAPI: an API that fails or hangs is an error within the caller's
// deadline, and the token appears in no error.
func TestDownAPI(t *testing.T) {
	hang := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hanging.Close()
	defer close(hang)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad credentials "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	defer failing.Close()
	st := notify.Status{Repo: events.Repo{FullName: "acme/shop"}, SHA: sha, State: notify.Success, Context: "c"}
	for name, url := range map[string]string{"hanging": hanging.URL, "failing": failing.URL, "refusing": "http://127.0.0.1:1"} {
		c, _ := forgeapi.New(forgeapi.KindGitHub, url, token)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err := c.PostStatus(ctx, st)
		cancel()
		if err == nil || time.Since(start) > 2*time.Second {
			t.Errorf("%s: err = %v after %s, want an error within the deadline", name, err, time.Since(start))
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
	if _, err := forgeapi.New("azuredevops", "", token); err == nil {
		t.Error("New(azuredevops) has a client")
	}
}
