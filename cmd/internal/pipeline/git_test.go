package pipeline

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/gitserver"
)

// syncBuffer is a log sink written by several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPushOfPrivateRepository runs the builder's push consumer with
// -git-credentials against the project's gitserver behind basic
// authentication: the push of a repository with a wrong token is handled
// once (acknowledged, never redelivered), requests no build and leaves the
// token in no log line; the push of a repository with the right token
// requests its build.
func TestPushOfPrivateRepository(t *testing.T) {
	const good, bad = "gitea-GoodToken0123456789", "gitea-BadToken9876543210"
	repo := gittest.MustRepo(t)
	repo.WriteFile("slipway.yaml", "version: 1\nservices:\n  - name: web\n    context: .\n    port: 8080\n")
	sha := repo.Commit("private")
	root := t.TempDir()
	for _, name := range []string{"shop", "locked"} {
		repo.Git("clone", "--quiet", "--bare", repo.Dir(), filepath.Join(root, "acme", name+".git"))
	}
	git, err := gitserver.Start(root, "127.0.0.1:0", gitserver.WithBasicAuth("ci", good))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = git.Close() })
	credsFile := filepath.Join(t.TempDir(), "git-credentials")
	creds := "repo acme/shop token " + good + " user ci\nrepo acme/locked token " + bad + " user ci\n"
	if err := os.WriteFile(credsFile, []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConfig()
	cfg.MirrorDir, cfg.GitCredentialsFile = t.TempDir(), credsFile
	var logs syncBuffer
	ctx, cancel := context.WithCancel(zerolog.New(&logs).WithContext(context.Background()))
	defer cancel()
	c, requested := pushConsumer(t, ctx, cancel, &cfg, time.Minute)

	pub := natsjs.NewPublisher(c.JS, "/test")
	push := func(name string) {
		r := events.Repo{Forge: "gitea", FullName: name, CloneURL: git.URL(name), DefaultBranch: "main"}
		if _, err := pub.Publish(ctx, &events.PushReceived{Repo: r, Ref: "refs/heads/main", Branch: "main", After: sha}); err != nil {
			t.Fatal(err)
		}
	}
	push("acme/locked")
	cons, err := c.JS.Consumer(ctx, natsjs.StreamName, ConsumerPush)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Consumer >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push of acme/locked is not acknowledged after 20s (delivered %d, redelivered %d)", info.Delivered.Consumer, info.NumRedelivered)
		}
		time.Sleep(20 * time.Millisecond)
	}
	push("acme/shop")
	msg, err := requested.NextMsg(20 * time.Second)
	if err != nil {
		t.Fatalf("no build of acme/shop requested: %v", err)
	}
	if id := msg.Header.Get(natsjs.HeaderID); !strings.HasPrefix(id, "build."+events.KeyPart("acme/shop")+".") {
		t.Fatalf("build requested: %s, want acme/shop's only", id)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 || info.Delivered.Consumer != 2 {
		t.Errorf("push consumer delivered %d, redelivered %d: want each push handled once", info.Delivered.Consumer, info.NumRedelivered)
	}
	if n, _, _ := requested.Pending(); n != 0 {
		t.Errorf("%d more builds requested, want none for acme/locked", n)
	}
	out := logs.String()
	if !strings.Contains(out, "acme/locked") || !strings.Contains(out, "authentication failed") {
		t.Errorf("the log does not say acme/locked's authentication failed:\n%s", out)
	}
	for _, secret := range []string{good, bad, base64.StdEncoding.EncodeToString([]byte("ci:" + good)), base64.StdEncoding.EncodeToString([]byte("ci:" + bad))} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a token:\n%s", out)
		}
	}
}

// TestGitCredentialsSetting: -git-credentials (or SLIPWAY_GIT_CREDENTIALS)
// is checked by Validate, so a bad file stops the process at start with an
// error naming it, never the token.
func TestGitCredentialsSetting(t *testing.T) {
	const secret = "ghp_SettingSecret01234567"
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	open := filepath.Join(dir, "open")
	for path, mode := range map[string]os.FileMode{good: 0o600, open: 0o644} {
		if err := os.WriteFile(path, []byte("host git.example.com token "+secret+"\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		args    []string
		env     string
		wantErr string
	}{
		{"flag", []string{"-git-credentials", good}, "", ""},
		{"environment", nil, good, ""},
		{"readable by others", []string{"-git-credentials", open}, "", open + " has mode 0644"},
		{"missing", nil, filepath.Join(dir, "missing"), "credentials file: open " + filepath.Join(dir, "missing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLIPWAY_GIT_CREDENTIALS", tt.env)
			c := DefaultConfig()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			c.BindBuilder(fs)
			if err := ParseFlagSet(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate: %v, want %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), secret):
				t.Fatalf("Validate: %q holds the token", err)
			}
			if _, err := c.newMirror(t.TempDir()); (err != nil) != (tt.wantErr != "") {
				t.Errorf("newMirror: %v", err)
			}
		})
	}
}
