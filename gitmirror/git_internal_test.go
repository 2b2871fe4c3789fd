package gitmirror

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/acme/shop.git", "https://github.com/acme/shop.git"},
		{"https://x-access-token:ghs_abc@github.com/acme/shop.git", "https://github.com/acme/shop.git"},
		{"https://ghp_token@github.com/acme/shop", "https://github.com/acme/shop"},
		{"git@github.com:acme/shop.git", "git@github.com:acme/shop.git"},
		{"file:///tmp/repo", "file:///tmp/repo"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	const secretURL = "https://oauth2:glpat-0123456789@gitlab.example.com/acme/shop.git"
	tests := []struct{ in, want string }{
		{"fatal: unable to access '" + secretURL + "/': 403",
			"fatal: unable to access 'https://gitlab.example.com/acme/shop.git/': 403"},
		{"remote: token glpat-0123456789 expired", "remote: token xxxxx expired"},
		{"fatal: oauth2:glpat-0123456789@gitlab.example.com refused", "fatal: gitlab.example.com refused"},
		{"nothing secret", "nothing secret"},
	}
	for _, tt := range tests {
		if got := scrub(tt.in, secretURL); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSSHBounds: fetches bound SSH connections unless the operator chose
// how git runs ssh.
func TestSSHBounds(t *testing.T) {
	tests := []struct {
		name, envName, envValue string
		want                    string
	}{
		{"none chosen", "", "", "GIT_SSH_COMMAND=" + sshCommand},
		{"GIT_SSH_COMMAND", "GIT_SSH_COMMAND", "ssh -i /keys/deploy", ""},
		{"GIT_SSH", "GIT_SSH", "/usr/local/bin/my-ssh", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
			t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			if tt.envName != "" {
				t.Setenv(tt.envName, tt.envValue)
			}
			m, err := New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, kv := range m.remoteCommand(t.Context(), m.dir, "ls-remote").Env {
				if strings.HasPrefix(kv, "GIT_SSH_COMMAND=") && kv != "GIT_SSH_COMMAND="+tt.envValue {
					got = kv
				}
			}
			if got != tt.want {
				t.Errorf("added %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("core.sshCommand", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "gitconfig")
		if err := os.WriteFile(cfg, []byte("[core]\n\tsshCommand = ssh -i /keys/deploy\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GIT_CONFIG_GLOBAL", cfg)
		m, err := New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if m.sshCommand != "" {
			t.Errorf("sshCommand %q, want none beside the operator's core.sshCommand", m.sshCommand)
		}
	})
}

// TestTokenConfigIndex: a token's http.extraHeader takes the index after
// the operator's own GIT_CONFIG_COUNT entries, which stay as they are.
func TestTokenConfigIndex(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"none of the operator's", []string{"LC_ALL=C"},
			[]string{"LC_ALL=C", "GIT_CONFIG_KEY_0=http.https://git.example.com/.extraHeader", "GIT_CONFIG_COUNT=1"}},
		{"two of the operator's", []string{"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=a.b", "GIT_CONFIG_KEY_1=c.d"},
			[]string{"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=a.b", "GIT_CONFIG_KEY_1=c.d", "GIT_CONFIG_KEY_2=http.https://git.example.com/.extraHeader", "GIT_CONFIG_COUNT=3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := access{repo: "acme/shop", url: "https://git.example.com/acme/shop.git", cred: &Credential{Name: "token", User: "u", Token: "t0ken"}}
			if err := a.withToken(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, kv := range a.environ(tt.env) {
				if !strings.HasPrefix(kv, "GIT_CONFIG_VALUE_") && kv != "GIT_TRACE_REDACT=1" {
					got = append(got, kv)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("environment\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
