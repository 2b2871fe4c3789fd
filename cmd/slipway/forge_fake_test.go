package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub emulates the parts of GitHub's REST API Slipway calls: commit
// statuses, issue comments and pull request state. With down set it
// answers nothing until the caller gives up.
type fakeGitHub struct {
	srv *httptest.Server

	mu       sync.Mutex
	statuses []ghStatus
	comments map[int][]string
	prs      map[int]string
	down     bool
	auth     []string
}

type ghStatus struct {
	SHA, Context, State, Description, TargetURL string
}

func startFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{comments: map[int][]string{}, prs: map[int]string{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if down {
		// Read the body first: only then does the server notice the
		// client giving up and cancel the request's context.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/repos/acme/shop/"), "/")
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "POST" && len(parts) == 2 && parts[0] == "statuses":
		f.statuses = append(f.statuses, ghStatus{parts[1], body["context"], body["state"], body["description"], body["target_url"]})
		w.WriteHeader(http.StatusCreated)
	case r.Method == "POST" && len(parts) == 3 && parts[0] == "issues" && parts[2] == "comments":
		n, _ := strconv.Atoi(parts[1])
		f.comments[n] = append(f.comments[n], body["body"])
		w.WriteHeader(http.StatusCreated)
	case r.Method == "GET" && len(parts) == 2 && parts[0] == "pulls":
		n, _ := strconv.Atoi(parts[1])
		state, ok := f.prs[n]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"state": state})
		return
	default:
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte("{}"))
}

// setPR records the state GitHub would show for pull request n.
func (f *fakeGitHub) setPR(n int, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prs[n] = state
}

func (f *fakeGitHub) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// status returns the last status of context on sha, or "".
func (f *fakeGitHub) status(sha, context string) ghStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.statuses) - 1; i >= 0; i-- {
		if s := f.statuses[i]; s.SHA == sha && s.Context == context {
			return s
		}
	}
	return ghStatus{}
}

func (f *fakeGitHub) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

func (f *fakeGitHub) commentsOf(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.comments[n]...)
}
