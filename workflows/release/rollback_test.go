package release_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

func commitsOf(ds []release.Deploy) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Commit[:1])
	}
	return strings.Join(out, "")
}

func rollbackOf(env, sha string, seq uint64) release.Deploy {
	d := deployed(env, sha, events.OutcomeSucceeded, seq, events.DeployKey(repo.FullName, env, sha, "rollback-n"+string(rune('0'+seq))))
	d.Kind = events.KindRollback
	return d
}

func TestStack(t *testing.T) {
	ok, failed := events.OutcomeSucceeded, events.OutcomeFailed
	tests := []struct {
		name    string
		deploys []release.Deploy
		want    string
	}{
		{"nothing", nil, ""},
		{"forward", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), deployed("s", c3, ok, 3, "")}, "123"},
		{"failures do not count", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, failed, 2, "")}, "1"},
		{"same commit twice", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c1, ok, 2, "")}, "1"},
		{"a rollback pops", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), deployed("s", c3, ok, 3, ""), rollbackOf("s", c2, 4)}, "12"},
		{"two rollbacks go two back", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), deployed("s", c3, ok, 3, ""),
			rollbackOf("s", c2, 4), rollbackOf("s", c1, 5)}, "1"},
		{"a rollback to a commit not on the stack pushes", []release.Deploy{deployed("s", c1, ok, 1, ""), rollbackOf("s", c4, 2)}, "14"},
		{"forward after a rollback", []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), rollbackOf("s", c1, 3), deployed("s", c3, ok, 4, "")}, "13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commitsOf(release.Stack(tt.deploys)); got != tt.want {
				t.Errorf("Stack() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRollbackTarget(t *testing.T) {
	ok := events.OutcomeSucceeded
	hist := []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), deployed("s", c3, events.OutcomeFailed, 3, ""), deployed("s", c4, ok, 4, "")}
	tests := []struct {
		name    string
		steps   int
		to      string
		want    string
		wantErr error
	}{
		{"one step", 1, "", c2, nil},
		{"zero means one", 0, "", c2, nil},
		{"two steps", 2, "", c1, nil},
		{"too far", 3, "", "", release.ErrNoRollback},
		{"to a commit", 0, c1[:7], c1, nil},
		{"to a failed commit", 0, c3, "", release.ErrNoRollback},
		{"prefix too short", 0, "111", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, cur, err := release.RollbackTarget(hist, "s", tt.steps, tt.to)
			if tt.want == "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || target.Commit != tt.want || cur.Commit != c4 {
				t.Fatalf("RollbackTarget() = %s (current %s), %v; want %s", target.Commit, cur.Commit, err, tt.want)
			}
			req := release.RollbackRequest(target, "ada", "x1")
			if !req.Deliberate() || !req.Explicit || req.DedupKey() != events.DeployKey(repo.FullName, "s", tt.want, "rollback-x1") ||
				req.Images[0].Digest != image("web", tt.want).Digest || req.Trigger != target.ID {
				t.Errorf("request %+v", req)
			}
			if res := req.Result(events.OutcomeSucceeded, cur.Commit, time.Now()); !release.IsRollback(res) || res.Actor != "ada" {
				t.Errorf("the result of the request is not a rollback by ada: %+v", res)
			}
		})
	}
	if _, _, err := release.RollbackTarget(nil, "s", 1, ""); !errors.Is(err, release.ErrNoRollback) {
		t.Errorf("empty history: %v", err)
	}
}

func TestReplayRequest(t *testing.T) {
	res := deployed("s", c2, events.OutcomeSucceeded, 3, "").DeployResult
	tests := []struct {
		name   string
		event  events.Event
		wantOK bool
	}{
		{"request", &events.DeployRequested{Env: "s", Repo: repo, Commit: c2, Images: res.Images, Trigger: "t"}, true},
		{"success", &events.DeploySucceeded{DeployResult: res}, true},
		{"failure", &events.DeployFailed{DeployResult: res}, true},
		{"superseded", &events.DeploySuperseded{DeployResult: res}, true},
		{"failure without images", &events.DeployFailed{DeployResult: events.DeployResult{Env: "s", Commit: c2}}, false},
		{"push", &events.PushReceived{Repo: repo, After: c2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, ok := release.ReplayRequest(tt.event, "orig-id", "ada", "n1")
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if req.Env != "s" || req.Commit != c2 || req.Nonce != "replay-n1" || req.Trigger != "orig-id" || !req.Explicit ||
				req.DedupKey() == events.DeployKey(repo.FullName, "s", c2, "") {
				t.Errorf("request %+v", req)
			}
		})
	}
}

func TestRetained(t *testing.T) {
	ok := events.OutcomeSucceeded
	hist := []release.Deploy{deployed("s", c1, ok, 1, ""), deployed("s", c2, ok, 2, ""), deployed("s", c3, events.OutcomeFailed, 3, ""),
		deployed("s", c4, ok, 4, ""), rollbackOf("s", c2, 5)}
	for keep, want := range map[int]string{1: "2", 2: "24", 3: "241", 10: "241"} {
		if got := commitsOf(release.Retained(hist, keep)); got != want {
			t.Errorf("Retained(keep %d) = %q, want %q", keep, got, want)
		}
	}
}

func TestCheckHealthy(t *testing.T) {
	hist := []release.Deploy{deployed("s", c1, events.OutcomeSucceeded, 1, ""), deployed("s", c2, events.OutcomeFailed, 2, "")}
	hist[1].Reason = "service api: no 2xx\nlog"
	tests := []struct {
		sha, want string
	}{
		{c1, ""},
		{c2, "never ran healthy on s (its deploy failed: service api: no 2xx)"},
		{c3, "never ran on s"},
	}
	for _, tt := range tests {
		err := release.CheckHealthy(hist, "s", tt.sha)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, release.ErrNotReleasable)) {
			t.Errorf("CheckHealthy(%s) = %v, want %q", tt.sha[:1], err, tt.want)
		}
	}
}

func TestRender(t *testing.T) {
	p := &events.ReleasePlanned{Env: "prod", Number: 7, HeadSHA: c4, From: c1, To: c3,
		Services: []events.ServiceChange{{Service: "web", From: "sha256:aaaaaaaaaaaaaaaaaaaa", To: "sha256:bbbbbbbbbbbbbbbbbbbbbb", Change: events.ChangeUpdated}},
		Commits:  []events.Commit{{ID: c3, Message: "Fix cart\n\nbody", Author: "ada"}}, CommitCount: 2,
		Problems: []string{"333333333333 never ran on stage"}}
	var b strings.Builder
	if err := release.WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Release plan for prod (pull request #7", "111111111111 → 333333333333", "web", "updated",
		"sha256:aaaaaaaaaaaa", "Commits released (2)", "333333333333 Fix cart (ada)", "… and 1 more", "never ran on stage"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	md := release.Markdown(p)
	for _, want := range []string{"### Slipway release plan: prod", "| web | updated |", "**Commits released (2)**", ":x: **Problems**"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	p.Problems = nil
	if !strings.Contains(release.Markdown(p), "Ready") {
		t.Error("a plan without problems is not ready")
	}
}
