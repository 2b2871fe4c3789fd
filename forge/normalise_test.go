package forge

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

const (
	shaA = "366701fde727cb7a9e7f21eb88264f59f6f9b89c"
	shaB = "2f780193b136b72bfea4eeb640786a8c4450c7a2"
	zero = "0000000000000000000000000000000000000000"
)

func push(ref, before, after string) Push {
	return Push{Forge: "f", FullName: "a/b", CloneURL: "https://tok@h/a/b.git", DefaultBranch: "refs/heads/main", Ref: ref, Before: before, After: after}
}

func TestPushNormalise(t *testing.T) {
	repo := events.Repo{Forge: "f", FullName: "a/b", CloneURL: "https://h/a/b.git", DefaultBranch: "main"}
	deletedFlag := push("refs/heads/x", shaB, "")
	deletedFlag.Deleted = true
	created := push("refs/heads/x", "", shaA)
	created.Created = true
	annotated := push("refs/tags/v1", zero, shaA)
	annotated.Commit = shaB
	tests := []struct {
		name    string
		push    Push
		want    events.Event
		wantErr error
	}{
		{"branch", push("refs/heads/main", shaB, shaA), &events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: shaB, After: shaA}, nil},
		{"branch created, zero before", push("refs/heads/x", zero, shaA), &events.PushReceived{Repo: repo, Ref: "refs/heads/x", Branch: "x", Before: zero, After: shaA, Created: true}, nil},
		{"branch created, host flag", created, &events.PushReceived{Repo: repo, Ref: "refs/heads/x", Branch: "x", After: shaA, Created: true}, nil},
		{"branch deleted, zero after", push("refs/heads/x", shaB, zero), &events.BranchDeleted{Repo: repo, Ref: "refs/heads/x", Branch: "x", Before: shaB}, nil},
		{"branch deleted, host flag", deletedFlag, &events.BranchDeleted{Repo: repo, Ref: "refs/heads/x", Branch: "x", Before: shaB}, nil},
		{"tag created", push("refs/tags/v1", zero, shaA), &events.TagPushed{Repo: repo, Ref: "refs/tags/v1", Tag: "v1", After: shaA, Commit: shaA, Created: true}, nil},
		{"annotated tag", annotated, &events.TagPushed{Repo: repo, Ref: "refs/tags/v1", Tag: "v1", After: shaA, Commit: shaB, Created: true}, nil},
		{"tag moved", push("refs/tags/v1", shaB, shaA), &events.TagPushed{Repo: repo, Ref: "refs/tags/v1", Tag: "v1", Before: shaB, After: shaA, Commit: shaA}, nil},
		{"tag deleted", push("refs/tags/v1", shaB, zero), &events.TagDeleted{Repo: repo, Ref: "refs/tags/v1", Tag: "v1", Before: shaB}, nil},
		{"note", push("refs/notes/x", shaB, shaA), nil, nil},
		{"bare branch prefix", push("refs/heads/", shaB, shaA), nil, nil},
		{"no after, not deleted", push("refs/heads/x", shaB, ""), nil, ErrMalformed},
		{"upper-case after", push("refs/heads/x", shaB, strings.ToUpper(shaA)), nil, ErrMalformed},
		{"short before", push("refs/heads/x", "abc", shaA), nil, ErrMalformed},
		{"no repository", Push{Ref: "refs/heads/x", After: shaA, CloneURL: "https://h/a"}, nil, ErrMalformed},
		{"no clone url", Push{FullName: "a/b", Ref: "refs/heads/x", After: shaA}, nil, ErrMalformed},
		{"option as a branch", push("refs/heads/--upload-pack=x", shaB, shaA), nil, ErrMalformed},
		{"dot dot in a branch", push("refs/heads/a..b", shaB, shaA), nil, ErrMalformed},
		{"invalid utf-8 branch", push("refs/heads/\xff", shaB, shaA), nil, ErrMalformed},
		{"option as a tag", push("refs/tags/-v1", shaB, shaA), nil, ErrMalformed},
		{"deleted bad branch", push("refs/heads/a..b", shaB, zero), nil, ErrMalformed},
		{"default branch an option", Push{FullName: "a/b", CloneURL: "https://h/a/b", DefaultBranch: "refs/heads/-x", Ref: "refs/heads/x", After: shaA}, nil, ErrMalformed},
		{"ssh host beginning with -", Push{FullName: "a/b", CloneURL: "ssh://x@-oProxyCommand=x/a/b", Ref: "refs/heads/x", After: shaA}, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.push.Normalise()
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Normalise() = %v, want %v", err, tt.wantErr)
				}
			case tt.want == nil:
				if reason, _ := IgnoredReason(err); reason != ReasonNotBranch {
					t.Errorf("Normalise() = %v, want ignored", err)
				}
			case err != nil || !reflect.DeepEqual(got, tt.want):
				t.Errorf("Normalise() = %#v, %v\nwant %#v", got, err, tt.want)
			}
		})
	}
}

func TestPushNormaliseCaps(t *testing.T) {
	p := push("refs/heads/main", shaB, shaA)
	p.Message = strings.Repeat("é", MaxMessage)
	for range MaxCommits + 5 {
		p.Commits = append(p.Commits, events.Commit{ID: shaB, Message: strings.Repeat("x", 5000)})
	}
	p.Commits[len(p.Commits)-1].ID = shaA
	e, err := p.Normalise()
	if err != nil {
		t.Fatal(err)
	}
	got := e.(*events.PushReceived)
	if len(got.Message) > MaxMessage || !strings.HasSuffix(got.Message, "é") {
		t.Errorf("message of %d bytes, cut inside a rune: %q", len(got.Message), got.Message[len(got.Message)-3:])
	}
	if len(got.Commits) != MaxCommits || got.CommitCount != MaxCommits+5 || got.Commits[MaxCommits-1].ID != shaA {
		t.Errorf("%d commits, count %d, last %s", len(got.Commits), got.CommitCount, got.Commits[len(got.Commits)-1].ID)
	}
	if len(got.Commits[0].Message) > 1024 {
		t.Errorf("commit message of %d bytes", len(got.Commits[0].Message))
	}
}

func TestPullRequestNormalise(t *testing.T) {
	base := PullRequest{
		Forge: "f", Action: events.PROpened, Number: 3, FullName: "a/b", CloneURL: "https://h/a/b.git",
		HeadSHA: shaA, HeadBranch: "x", BaseBranch: "main",
		SourceFullName: "c/b", SourceCloneURL: "https://u:p@h/c/b.git",
	}
	got, err := base.Normalise()
	if err != nil {
		t.Fatal(err)
	}
	if got.SourceRepo.CloneURL != "https://h/c/b.git" || got.SourceRepo.Forge != "f" {
		t.Errorf("source repo %+v", got.SourceRepo)
	}
	short := base
	short.HeadSHA = shaA[:12]
	if _, err := short.Normalise(); err != nil {
		t.Errorf("abbreviated head: %v", err)
	}
	tests := []struct {
		name  string
		patch func(*PullRequest)
	}{
		{"unknown action", func(p *PullRequest) { p.Action = "labeled" }},
		{"no number", func(p *PullRequest) { p.Number = 0 }},
		{"head too short", func(p *PullRequest) { p.HeadSHA = "abc" }},
		{"head upper-case", func(p *PullRequest) { p.HeadSHA = strings.ToUpper(shaA) }},
		{"no base", func(p *PullRequest) { p.BaseBranch = "" }},
		{"head branch an option", func(p *PullRequest) { p.HeadBranch = "--upload-pack=x" }},
		{"base branch with dot dot", func(p *PullRequest) { p.BaseBranch = "a..b" }},
		{"head branch invalid utf-8", func(p *PullRequest) { p.HeadBranch = "\xff" }},
		{"source host beginning with -", func(p *PullRequest) { p.SourceCloneURL = "ssh://git@-oProxyCommand=x/a/b" }},
		{"bad merge sha", func(p *PullRequest) { p.MergeSHA = "zz" }},
		{"bad source url", func(p *PullRequest) { p.SourceCloneURL = "file:///x" }},
		{"no repository", func(p *PullRequest) { p.FullName = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			tt.patch(&p)
			if _, err := p.Normalise(); !errors.Is(err, ErrMalformed) {
				t.Errorf("Normalise() = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestVerifyToken(t *testing.T) {
	a, b := []byte("token-a"), []byte("token-b")
	tests := []struct {
		name, token string
		secrets     [][]byte
		wantErr     error
	}{
		{"match", "token-a", [][]byte{a}, nil},
		{"rotated", "token-a", [][]byte{b, a}, nil},
		{"no match", "token-c", [][]byte{a, b}, ErrBadSignature},
		{"prefix of the secret", "token-", [][]byte{a}, ErrBadSignature},
		{"empty secret skipped", "", [][]byte{nil}, ErrMissingSignature},
		{"missing", "", [][]byte{a}, ErrMissingSignature},
		{"no secrets", "token-a", nil, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyToken(tt.token, tt.secrets)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyToken() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},
		{"aé", 3, "aé"},
		{"日本", 4, "日"},
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
