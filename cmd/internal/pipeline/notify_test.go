package pipeline

import (
	"flag"
	"strings"
	"testing"

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
