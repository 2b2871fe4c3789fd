package events_test

import (
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

func TestCheckCommit(t *testing.T) {
	sha1, sha256 := strings.Repeat("a1", 20), strings.Repeat("0f", 32)
	repo := func(url string) events.Repo { return events.Repo{FullName: "acme/shop", CloneURL: url} }
	tests := []struct {
		name    string
		repo    events.Repo
		sha     string
		wantErr bool
	}{
		{"https", repo("https://github.com/acme/shop.git"), sha1, false},
		{"ssh, sha-256", repo("ssh://git@example.com/acme/shop.git"), sha256, false},
		{"git", repo("git://example.com/acme/shop.git"), sha1, false},
		{"file url", repo("file:///srv/git/other-tenant.git"), sha1, true},
		{"local path", repo("/srv/git/other-tenant.git"), sha1, true},
		{"transport helper", repo("ext::sh -c touch% /tmp/pwned"), sha1, true},
		{"option", repo("--upload-pack=touch /tmp/pwned"), sha1, true},
		{"no host", repo("https:///acme/shop.git"), sha1, true},
		{"no name", events.Repo{CloneURL: "https://github.com/acme/shop.git"}, sha1, true},
		{"short sha", repo("https://github.com/acme/shop.git"), sha1[:39], true},
		{"upper-case sha", repo("https://github.com/acme/shop.git"), strings.ToUpper(sha1), true},
		{"sha with a path", repo("https://github.com/acme/shop.git"), "../../" + sha1[:34], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := events.CheckCommit(tt.repo, tt.sha)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
