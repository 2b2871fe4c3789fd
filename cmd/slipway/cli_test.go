package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
)

// openUp opens a `slipway up` (embedded NATS with its keys, the webhook
// listener, its state file) without running its components.
func openUp(t testing.TB) *pipeline.Up {
	t.Helper()
	cfg := pipeline.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.MirrorDir = t.TempDir()
	cfg.NATSPort = -1
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.ProxyAddr = "127.0.0.1:18123"
	cfg.ProxyDomain = "state.test"
	up := &pipeline.Up{Config: cfg}
	ctx := zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background())
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	return up
}

// runCLI runs the command line args as main does and returns its exit code
// and what it wrote to stderr.
func runCLI(t testing.TB, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	code := newCLI(rootCommand()).run(ctx, args, &stderr)
	return code, stderr.String()
}

// TestFlagsAnywhere: every command takes its flags before and after its
// positional arguments (the README's `slipway release 5a0d079 -remote
// origin`, `slipway rollback production -steps 2`), here -nats-url and
// -data-dir last, against a real embedded NATS on a random port; the
// command then fails for what it is about, not with its usage.
func TestFlagsAnywhere(t *testing.T) {
	up := openUp(t)
	conn := []string{"-nats-url", up.NATSURL(), "-data-dir", up.Config.DataDir}
	tests := []struct {
		name    string
		args    []string
		wantErr string // on stderr; "" for success
	}{
		{"release", []string{"release", "5a0d079", "-remote", "origin", "-repo-dir", t.TempDir()}, "not a git repository"},
		{"rollback", []string{"rollback", "production", "-steps", "2", "-repo", "acme/shop"}, "production has no successful deploy"},
		{"plan", []string{"plan", "production", "-repo", "acme/shop"}, "no release of production of acme/shop planned"},
		{"history", []string{"history", "staging", "-repo", "acme/shop"}, ""},
		{"replay", []string{"replay", "999", "-wait", "0"}, "999"},
		{"status", []string{"status", "acme/shop", "-proxy-addr", "127.0.0.1:1"}, ""},
		{"dlq retry", []string{"dlq", "retry", "7"}, "7"},
		{"dlq list", []string{"dlq", "list"}, ""},
		{"gc", []string{"gc", "-dry-run", "-keep", "3"}, ""},
		{"builds", []string{"builds", "0123abc", "-repo", "acme/shop"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runCLI(t, append(tt.args, conn...)...)
			if strings.Contains(stderr, "USAGE") {
				t.Fatalf("%q printed its usage (exit %d):\n%s", tt.args, code, stderr)
			}
			if tt.wantErr == "" && code != 0 {
				t.Fatalf("%q: exit %d:\n%s", tt.args, code, stderr)
			}
			if tt.wantErr != "" && (code != 1 || !strings.Contains(stderr, tt.wantErr)) {
				t.Fatalf("%q: exit %d, want 1 with %q:\n%s", tt.args, code, tt.wantErr, stderr)
			}
		})
	}
}

// TestUsageErrorFirst: a command called wrongly prints the error line
// first, then its usage, and exits 2; -h prints the usage and exits 0.
func TestUsageErrorFirst(t *testing.T) {
	tests := []struct {
		args      []string
		wantFirst string
		wantCode  int
	}{
		{[]string{"rollback"}, "slipway rollback: want one environment", 2},
		{[]string{"rollback", "production", "-stepz", "2"}, "slipway rollback: flag provided but not defined: -stepz", 2},
		{[]string{"release", "-nope", "5a0d079"}, "slipway release: flag provided but not defined: -nope", 2},
		{[]string{"release", "a", "b"}, "slipway release: want one commit", 2},
		{[]string{"dlq", "retry"}, "slipway dlq retry: want the sequence of at least one dead letter", 2},
		{[]string{"history", "staging", "-steps", "x"}, "slipway history: flag provided but not defined: -steps", 2},
		{nil, "slipway: want a command", 2},
		{[]string{"status", "-h"}, "DESCRIPTION", 0},
	}
	for _, tt := range tests {
		code, stderr := runCLI(t, tt.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != tt.wantCode || first != tt.wantFirst || !strings.Contains(stderr, "USAGE") {
			t.Errorf("%q: exit %d, first line %q; want exit %d, %q, then the usage:\n%s", tt.args, code, first, tt.wantCode, tt.wantFirst, stderr)
		}
	}
}

// TestOperatorCommandsReadUpState: `slipway up` writes what it listens on
// to <data-dir>/up.json (0600, no secret), and the operator commands given
// only -data-dir reach its NATS on a random port and show its proxy's URLs.
func TestOperatorCommandsReadUpState(t *testing.T) {
	up := openUp(t)
	path := filepath.Join(up.Config.DataDir, pipeline.StateFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	st, ok, err := pipeline.ReadState(up.Config.DataDir)
	if err != nil || !ok {
		t.Fatalf("read state: %v, %v", ok, err)
	}
	want := pipeline.State{NATSURL: up.NATSURL(), HTTPAddr: strings.TrimPrefix(up.IngestURL(), "http://"), ProxyAddr: "127.0.0.1:18123",
		ProxyDomain: "state.test", DataDir: up.Config.DataDir, PID: os.Getpid()}
	if st != want {
		t.Errorf("state = %+v, want %+v", st, want)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("SU")) || bytes.Contains(b, []byte("@")) {
		t.Errorf("state holds what looks like a key or credentials:\n%s", b)
	}
	for _, args := range [][]string{{"status", "-data-dir", up.Config.DataDir}, {"dlq", "list", "-data-dir", up.Config.DataDir}} {
		if code, stderr := runCLI(t, args...); code != 0 {
			t.Errorf("%q: exit %d:\n%s", args, code, stderr)
		}
	}
	var n operatorNATS
	fs := newFlagSetForState(&n)
	if err := fs.Parse([]string{"-data-dir", up.Config.DataDir}); err != nil {
		t.Fatal(err)
	}
	if err := n.fromState(); err != nil {
		t.Fatal(err)
	}
	if n.cfg.NATSURL != up.NATSURL() || n.cfg.ProxyAddr != "127.0.0.1:18123" || n.cfg.ProxyDomain != "state.test" {
		t.Errorf("from the state: nats %q, proxy %q %q", n.cfg.NATSURL, n.cfg.ProxyAddr, n.cfg.ProxyDomain)
	}
	if err := fs.Parse([]string{"-nats-url", "nats://127.0.0.1:1", "-proxy-addr", ":9"}); err != nil {
		t.Fatal(err)
	}
	if err := n.fromState(); err != nil {
		t.Fatal(err)
	}
	if n.cfg.NATSURL != "nats://127.0.0.1:1" || n.cfg.ProxyAddr != ":9" {
		t.Errorf("a flag given lost to the state: nats %q, proxy %q", n.cfg.NATSURL, n.cfg.ProxyAddr)
	}
}

// TestUpHelpPlaceholders: `slipway up -h` shows a placeholder, not words of
// the usage text, for -nats-url.
func TestUpHelpPlaceholders(t *testing.T) {
	code, stderr := runCLI(t, "up", "-h")
	if code != 0 || !regexp.MustCompile(`(?m)^\s+-nats-url URL\s+NATS server`).MatchString(stderr) {
		t.Errorf("exit %d; -nats-url line:\n%s", code, regexp.MustCompile(`(?m)^.*-nats-url.*$`).FindString(stderr))
	}
}

// newFlagSetForState binds n as the status command binds its settings.
func newFlagSetForState(n *operatorNATS) *flag.FlagSet {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	*n = *bindOperatorNATSTo(fs, &cfg)
	fs.StringVar(&cfg.ProxyAddr, "proxy-addr", cfg.ProxyAddr, "")
	fs.StringVar(&cfg.ProxyDomain, "proxy-domain", cfg.ProxyDomain, "")
	return fs
}
