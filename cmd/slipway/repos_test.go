package main

import (
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestPositional: flags may follow the environment ("slipway rollback
// staging -repo acme/shop"), as well as precede it.
func TestPositional(t *testing.T) {
	tests := []struct {
		args     []string
		wantArgs []string
		wantRepo string
		wantErr  bool
	}{
		{[]string{"staging"}, []string{"staging"}, "", false},
		{[]string{"staging", "-repo", "acme/shop"}, []string{"staging"}, "acme/shop", false},
		{[]string{"staging", "-repo", "acme/shop", "extra"}, []string{"staging", "extra"}, "acme/shop", false},
		{[]string{"staging", "-nope"}, nil, "", true},
		{nil, nil, "", false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(discard{})
		repo := fs.String("repo", "", "")
		got, err := positional(fs, tt.args)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.wantArgs) || *repo != tt.wantRepo {
			t.Errorf("positional(%q) = %q, %v, repo %q; want %q, repo %q", tt.args, got, err, *repo, tt.wantArgs, tt.wantRepo)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestRepoCommandsAskForTheRepository: every command about one repository
// connects and resolves it the same way (operatorNATS.withRepo): against a
// real embedded NATS holding environments of two repositories, each one
// run without -repo exits 1 naming both and asking for -repo, each one
// given a -repo that is not owner/name says so, and those that can run on
// an environment without deploys do with -repo acme/shop.
func TestRepoCommandsAskForTheRepository(t *testing.T) {
	up := openUp(t)
	ctx := context.Background()
	envs, err := up.Conn().Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"acme/shop", "other/shop"} {
		if err := envs.Record(ctx, deploy.State{Env: "staging", Repo: events.Repo{FullName: repo}, Commit: strings.Repeat("a", 40), DeployedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	sha := strings.Repeat("a", 40)
	commands := [][]string{
		{"history", "staging"},
		{"logs", sha},
		{"rollback", "staging", "-wait", "0"},
		{"promote", "staging"},
		{"abort", "staging"},
		{"lock", "staging", "-m", "freeze"},
		{"unlock", "staging"},
		{"secret", "list", "staging"},
		{"secret", "rm", "staging", "API_KEY"},
		{"checks", sha},
		{"diff", "staging", "production"},
	}
	conn := []string{"-nats-url", up.NATSURL(), "-data-dir", up.Config.DataDir}
	for _, args := range commands {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			code, stderr := runCLI(t, append(slices.Clone(args), conn...)...)
			if code != 1 || !strings.Contains(stderr, "name the repository with -repo owner/name") || !strings.Contains(stderr, "acme/shop, other/shop") {
				t.Errorf("%q without -repo: exit %d, want 1 naming both repositories and asking for -repo:\n%s", args, code, stderr)
			}
			code, stderr = runCLI(t, append(slices.Clone(args), append(conn, "-repo", "shop")...)...)
			if code != 1 || !strings.Contains(stderr, `repository "shop": want owner/name`) {
				t.Errorf("%q -repo shop: exit %d, want 1 saying owner/name:\n%s", args, code, stderr)
			}
		})
	}
	for _, args := range [][]string{
		{"history", "staging"},
		{"lock", "staging", "-m", "freeze"},
		{"unlock", "staging"},
		{"secret", "list", "staging"},
	} {
		if code, stderr := runCLI(t, append(slices.Clone(args), append(conn, "-repo", "acme/shop")...)...); code != 0 {
			t.Errorf("%q -repo acme/shop: exit %d:\n%s", args, code, stderr)
		}
	}
}

// TestPositionalN: a command of n arguments takes flags after them, and
// any other number of arguments is the error naming the command and what
// it wants, with its usage.
func TestPositionalN(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "flags after", args: []string{"staging", "API_KEY", "-repo", "acme/shop"}, want: []string{"staging", "API_KEY"}},
		{name: "too few", args: []string{"staging", "-repo", "acme/shop"}, wantErr: "secret rm: want an environment and a name"},
		{name: "too many", args: []string{"staging", "A", "B"}, wantErr: "secret rm: want an environment and a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("slipway secret rm", flag.ContinueOnError)
			repo := fs.String("repo", "", "")
			got, err := positionalN(fs, tt.args, 2, "secret rm", "an environment and a name")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr+": "+flag.ErrHelp.Error() || !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("error %v, want %q with the usage", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) || *repo != "acme/shop" {
				t.Errorf("got %q, -repo %q, %v; want %q and acme/shop", got, *repo, err, tt.want)
			}
		})
	}
}
