package pipeline

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/forge"
)

const fileSecret = "s3cr3t-from-the-file"

// mustSecretsFile writes content to a file of mode perm.
func mustSecretsFile(t *testing.T, content string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadRepoSecretsFile(t *testing.T) {
	good := "# webhook secrets\n\nacme/shop=" + fileSecret + "\n  acme/shop = rotated=with=equals  \nAcme/Cart=x\n"
	tests := []struct {
		name    string
		content string
		perm    os.FileMode
		want    RepoSecrets
		wantErr string
	}{
		{"owner only", good, 0o600, RepoSecrets{"acme/shop": {[]byte(fileSecret), []byte("rotated=with=equals")}, "Acme/Cart": {[]byte("x")}}, ""},
		{"owner read only", good, 0o400, RepoSecrets{"acme/shop": {[]byte(fileSecret), []byte("rotated=with=equals")}, "Acme/Cart": {[]byte("x")}}, ""},
		{"group readable", good, 0o640, nil, "has mode 0640: it must be accessible by its owner only (chmod 600"},
		{"world readable", good, 0o644, nil, "has mode 0644"},
		{"group writable", good, 0o620, nil, "has mode 0620"},
		{"line without secret", "acme/shop=" + fileSecret + "\nacme/cart\n", 0o600, nil, "line 2: want owner/name=secret"},
		{"empty secret", "acme/shop=\n", 0o600, nil, "line 1: want owner/name=secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.RepoSecretsFile = mustSecretsFile(t, tt.content, tt.perm)
			err := c.LoadRepoSecretsFile()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), fileSecret) {
					t.Fatalf("LoadRepoSecretsFile() = %v, want an error containing %q and no secret", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.RepoSecrets) != len(tt.want) {
				t.Fatalf("secrets of %d repositories, want %d", len(c.RepoSecrets), len(tt.want))
			}
			for repo, want := range tt.want {
				got := c.RepoSecrets[repo]
				if len(got) != len(want) {
					t.Fatalf("%s: %d secrets, want %d", repo, len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("%s: secret %d differs", repo, i+1)
					}
				}
			}
		})
	}
	c := DefaultConfig()
	c.RepoSecretsFile = filepath.Join(t.TempDir(), "missing")
	if err := c.LoadRepoSecretsFile(); err == nil {
		t.Error("a missing file loaded")
	}
}

// TestIngestSecretsFromFile starts the ingest binary's configuration with
// a secrets file and checks, through the real receiver on an embedded NATS
// server, that a delivery signed with the file's secret is accepted and
// that no warning about secret flags is logged.
func TestIngestSecretsFromFile(t *testing.T) {
	srv := natsjs.MustServer(t)
	var logs bytes.Buffer
	m := &Main{Name: "ingest", Bind: func(c *Config, fs *flag.FlagSet) { c.BindIngest(fs) }, Stderr: &logs}
	file := mustSecretsFile(t, "woodpecker-ci/woodpecker="+fileSecret+"\n", 0o600)
	if err := m.ParseFlags([]string{"-nats-url", srv.ClientURL(), "-log-format", "json", "-repo-secrets-file", file}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "secret given on the command line") {
		t.Errorf("warned with the secrets in a file: %s", logs.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx, err := m.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h, err := IngestHandler(ctx, &m.Config, m.conn)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../../ingest/testdata/push-main-1commit.json")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", "file-1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, []byte(fileSecret))))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(zerolog.Nop().WithContext(req.Context())))
	if rec.Code != http.StatusAccepted {
		t.Errorf("delivery signed with the file's secret: %d %s, want 202", rec.Code, rec.Body)
	}
}

// TestSecretFlagsWarn checks that a secret given as a flag is warned about
// by name, without its value, and one from the environment is not.
func TestSecretFlagsWarn(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want []string
	}{
		{"repo secret flag", []string{"-repo-secret", "a/b=" + fileSecret}, "", []string{"-repo-secret"}},
		{"both, double dash and equals", []string{"--repo-secret=a/b=" + fileSecret, "-allow-unknown-repos", "-fallback-secret", fileSecret}, "", []string{"-repo-secret", "-fallback-secret"}},
		{"environment", nil, "a/b=" + fileSecret, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("SLIPWAY_REPO_SECRET", tt.env)
			}
			var logs bytes.Buffer
			m := &Main{Name: "ingest", Bind: func(c *Config, fs *flag.FlagSet) { c.BindIngest(fs) }, Stderr: &logs}
			if err := m.ParseFlags(append([]string{"-nats-url", "nats://127.0.0.1:1", "-log-format", "json"}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			if len(m.Config.RepoSecrets["a/b"]) != 1 {
				t.Fatalf("secrets %v: the secret was not read", m.Config.RepoSecrets)
			}
			out := logs.String()
			for _, flag := range tt.want {
				if !strings.Contains(out, `"flag":"`+flag+`"`) {
					t.Errorf("no warning about %s in %s", flag, out)
				}
			}
			if n := strings.Count(out, "secret given on the command line"); n != len(tt.want) || strings.Contains(out, fileSecret) {
				t.Errorf("%d warnings, want %d, and no secret: %s", n, len(tt.want), out)
			}
		})
	}
}
