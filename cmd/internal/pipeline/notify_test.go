package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forgeapi"
)

func kindOf(c forgeapi.Client) string {
	switch c.(type) {
	case *forgeapi.GitHub:
		return "github"
	case *forgeapi.Gitea:
		return "gitea"
	case *forgeapi.GitLab:
		return "gitlab"
	case *forgeapi.Bitbucket:
		return "bitbucket"
	}
	return ""
}

func TestForgeClients(t *testing.T) {
	var r ReleaseConfig
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	r.Bind(fs)
	err := fs.Parse([]string{"-forge-token", "github=ghp_secret,gitea=tea", "-forge-token", "gitlab=glpat",
		"-forge-api", "github=https://ghe.example.com/api/v3"})
	if err != nil {
		t.Fatal(err)
	}
	if s := fs.Lookup("forge-token").Value.String(); s != "gitea=***,github=***,gitlab=***" {
		t.Errorf("tokens print as %q", s)
	}
	if err := r.ForgeTokens.Set("github:ghp_other"); err == nil || strings.Contains(err.Error(), "ghp_other") {
		t.Errorf("a malformed token: %v", err)
	}
	f := newForgeClients(&r)
	tests := []struct {
		forge, want string
	}{
		{"github", "github"},
		{"forgejo", "gitea"},
		{"gogs", "gitea"},
		{"gitlab", "gitlab"},
		{"bitbucket", ""},
		{"azuredevops", ""},
	}
	for _, tt := range tests {
		c, ok := f.client(events.Repo{Forge: tt.forge, FullName: "a/b", CloneURL: "https://code.example.org/a/b.git"})
		if got := map[bool]string{true: kindOf(c)}[ok]; got != tt.want {
			t.Errorf("client of %s = %q, want %q", tt.forge, got, tt.want)
		}
	}
	a, _ := f.client(events.Repo{Forge: "github", FullName: "a/b"})
	b, _ := f.client(events.Repo{Forge: "github", FullName: "x/y"})
	if a != b {
		t.Error("clients of one host are not reused")
	}
	if hostOf("https://code.example.org/a/b.git") != "https://code.example.org" || hostOf("git@x:a/b") != "" {
		t.Error("hostOf")
	}
}

// TestForgeAPIsCheckedAtStart: each configured API is asked once who its
// token belongs to, and the log says which one answers and what is wrong
// with the others, never the token; -forge-api takes the API URL or the
// host's root.
func TestForgeAPIsCheckedAtStart(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/user" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "token tea-secret" && r.Header.Get("Authorization") != "token fj-secret" {
			http.Error(w, "{}", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"login":"slipway-bot"}`))
	}))
	defer good.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
	}))
	defer refusing.Close()
	var r ReleaseConfig
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	r.Bind(fs)
	if err := fs.Parse([]string{"-forge-token", "gitea=tea-secret,gitlab=glpat-secret,forgejo=fj-secret",
		"-forge-api", "gitea=" + good.URL + "/api/v1,gitlab=" + refusing.URL + ",forgejo=" + good.URL + "/nothing"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx := zerolog.New(&out).WithContext(context.Background())
	newForgeClients(&r).check(ctx)
	logs := out.String()
	for _, want := range []string{
		`"kind":"gitea","api":"` + good.URL + `","user":"slipway-bot","message":"git host API answers"`,
		`refused the token (401 Unauthorized): check -forge-token`,
		`no API at ` + good.URL + `/nothing (404 Not Found): check -forge-api`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret") {
		t.Errorf("a token reached the log:\n%s", logs)
	}
}

// TestUpLogsHooks: `slipway up` logs, per configured repository, the hook
// URL of each git host kind and the events to enable on it.
func TestUpLogsHooks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr = -1, "127.0.0.1:0"
	cfg.RepoSecrets = RepoSecrets{"acme/shop": {[]byte("s1")}, "acme/blog": {[]byte("s2")}}
	var out bytes.Buffer
	ctx := zerolog.New(&out).WithContext(context.Background())
	up := &Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	out.Reset()
	up.LogHooks(ctx)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line per repository:\n%s", out.String())
	}
	base := up.IngestURL()
	for i, repo := range []string{"acme/blog", "acme/shop"} {
		var line struct {
			Repo, Hook string
			Events     map[string]string
		}
		if err := json.Unmarshal([]byte(lines[i]), &line); err != nil {
			t.Fatal(err)
		}
		if line.Repo != repo || line.Hook != base+"/webhooks/<forge>" || line.Events[base+"/webhooks/github"] != "push, pull_request" ||
			!strings.Contains(line.Events[base+"/webhooks/gitea"], "delete") || len(line.Events) != len(HookEvents) {
			t.Errorf("line %d: %+v", i, line)
		}
	}
	if strings.Contains(out.String(), "s1") || strings.Contains(out.String(), "s2\"") {
		t.Errorf("a secret reached the log:\n%s", out.String())
	}
}
