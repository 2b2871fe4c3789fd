package swarm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/sshhost"
	swarmtarget "github.com/slipway-dev/slipway/swarm"
)

func TestParseSpec(t *testing.T) {
	auth := map[string]string{"key": "/k", "known_hosts": "/kh"}
	tests := []struct {
		name      string
		endpoints []string
		settings  map[string]string
		wantErr   string
	}{
		{name: "manager and auth", endpoints: []string{"ssh://deploy@manager"}, settings: auth},
		{name: "pull registry", endpoints: []string{"ssh://deploy@manager:2222/run/docker.sock"}, settings: map[string]string{"key": "/k", "known_hosts": "/kh", "pull_registry": "10.0.0.1:5000"}},
		{name: "no manager", settings: auth, wantErr: "want one manager"},
		{name: "two managers", endpoints: []string{"ssh://a@m1", "ssh://a@m2"}, settings: auth, wantErr: "want one manager"},
		{name: "not ssh", endpoints: []string{"unix:///var/run/docker.sock"}, settings: auth, wantErr: "want one manager"},
		{name: "password", endpoints: []string{"ssh://a:secret@m"}, settings: auth, wantErr: "password has no place"},
		{name: "no key", endpoints: []string{"ssh://a@m"}, settings: map[string]string{"known_hosts": "/kh"}, wantErr: "key= and known_hosts= are required"},
		{name: "unknown option", endpoints: []string{"ssh://a@m"}, settings: map[string]string{"key": "/k", "known_hosts": "/kh", "batch": "2"}, wantErr: "unknown option batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := swarmtarget.ParseSpec(tt.endpoints, tt.settings)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSpec() error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Manager != tt.endpoints[0] || opts.Auth.Key != "/k" || opts.Auth.KnownHosts != "/kh" || opts.PullRegistry != tt.settings["pull_registry"] {
				t.Errorf("ParseSpec() = %+v", opts)
			}
		})
	}
}

// TestRemoveNeedsRepository: Remove without a repository or environment
// is refused for good before the manager is contacted: the label filter
// of an empty value would match more than one environment.
func TestRemoveNeedsRepository(t *testing.T) {
	tg, err := swarmtarget.New(swarmtarget.Options{Manager: "ssh://deploy@127.0.0.1:1", Auth: sshhost.Auth{Key: "/nonexistent", KnownHosts: "/nonexistent"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, c := range [][2]string{{"", "staging"}, {"acme/shop", ""}} {
		if err := tg.Remove(context.Background(), c[0], c[1]); !events.IsPermanent(err) || !strings.Contains(err.Error(), "want a repository and an environment") {
			t.Errorf("Remove(%q, %q) = %v, want a permanent refusal", c[0], c[1], err)
		}
	}
	if tg.Dials() != 0 {
		t.Errorf("%d connections opened", tg.Dials())
	}
}
