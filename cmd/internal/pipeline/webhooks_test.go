package pipeline

import (
	"flag"
	"strings"
	"testing"
)

func TestForges(t *testing.T) {
	reg, err := Forges(DefaultWebhookConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(reg.Names(), ",")
	if want := "azuredevops,bitbucket,bitbucketserver,forgejo,generic,gitea,github,gitlab,gogs"; got != want {
		t.Errorf("routes %s, want %s", got, want)
	}
}

func TestWebhookConfigBind(t *testing.T) {
	w := DefaultWebhookConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	w.Bind(fs)
	err := fs.Parse([]string{"-max-body-bytes", "1024", "-default-branch", "trunk", "-github-allow-sha1", "-bitbucket-server-url", "https://bb.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	want := WebhookConfig{MaxBodyBytes: 1024, DefaultBranch: "trunk", GitHubSHA1: true, BitbucketServerURL: "https://bb.example.com"}
	if w != want {
		t.Errorf("config %+v, want %+v", w, want)
	}
}

func TestForgesBitbucketServerURL(t *testing.T) {
	for _, u := range []string{"bitbucket.example.com", "ftp://x", "https://"} {
		w := DefaultWebhookConfig()
		w.BitbucketServerURL = u
		if _, err := Forges(w); err == nil {
			t.Errorf("Forges(%q) accepted it", u)
		}
	}
	w := DefaultWebhookConfig()
	w.BitbucketServerURL = "https://bitbucket.example.com/context"
	if _, err := Forges(w); err != nil {
		t.Errorf("Forges() = %v", err)
	}
}
