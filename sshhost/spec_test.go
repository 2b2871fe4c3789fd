package sshhost_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/sshhost"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		name, in string
		want     sshhost.Address
		wantErr  string
	}{
		{"default port and socket", "ssh://deploy@app1.example.com", sshhost.Address{User: "deploy", Host: "app1.example.com:22", Socket: "/var/run/docker.sock"}, ""},
		{"port and socket", "ssh://root@10.0.0.2:2222/run/docker.sock", sshhost.Address{User: "root", Host: "10.0.0.2:2222", Socket: "/run/docker.sock"}, ""},
		{"other scheme", "tcp://app1:2375", sshhost.Address{}, "scheme must be ssh"},
		{"no user", "ssh://app1", sshhost.Address{}, "no user"},
		{"password", "ssh://deploy:hunter2@app1", sshhost.Address{}, "use a key file"},
		{"unclean socket", "ssh://deploy@app1/run/../docker.sock", sshhost.Address{}, "not clean"},
		{"query", "ssh://deploy@app1?socket=/x", sshhost.Address{}, "query"},
		{"no URL, a password", "ssh://deploy:hunter2@app1:port", sshhost.Address{}, "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sshhost.ParseAddress(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAddress(%q) = %v, %v; want error %q", tc.in, got, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseAddress(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseSpec(t *testing.T) {
	hosts := []string{"ssh://deploy@app1", "ssh://deploy@app2"}
	tests := []struct {
		name     string
		settings map[string]string
		wantErr  string
		batch    int
	}{
		{"minimal", map[string]string{"key": "/k", "known_hosts": "/kh"}, "", 0},
		{"batch", map[string]string{"key": "/k", "known_hosts": "/kh", "batch": "2"}, "", 2},
		{"no key", map[string]string{"known_hosts": "/kh"}, "key= and known_hosts= are required", 0},
		{"bad batch", map[string]string{"key": "/k", "known_hosts": "/kh", "batch": "0"}, "batch=", 0},
		{"unknown", map[string]string{"key": "/k", "known_hosts": "/kh", "StrictHostKeyChecking": "no"}, "unknown option StrictHostKeyChecking", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := sshhost.ParseSpec(hosts, tc.settings)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec = %v; want error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || opts.Batch != tc.batch || opts.Auth.Key != "/k" || len(opts.Hosts) != 2 {
				t.Fatalf("ParseSpec = %+v, %v", opts, err)
			}
			if _, err := sshhost.New(opts); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}

// TestKeyOpenToOthersIsRefused: a key file others may read is refused
// before any connection, permanently, naming the file and not its content.
func TestKeyOpenToOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	mustKeygen(t, key)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := sshhost.ParseAddress("ssh://deploy@127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	conn := sshhost.NewConn(a, sshhost.Auth{Key: key, KnownHosts: filepath.Join(dir, "known_hosts")})
	_, err = conn.DialDocker(context.Background(), "", "")
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("dial with a key of mode 0644: %v, want a permanent error naming the file", err)
	}
	if conn.Dials() != 0 {
		t.Errorf("%d connections opened with a refused key", conn.Dials())
	}
}
