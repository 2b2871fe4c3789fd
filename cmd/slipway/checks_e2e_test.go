package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
)

// checksManifest is the rig's slipway.yaml with a check of the api service
// (it fails while services/api/start.sh says BROKEN) and hosts declared as
// the one key staging and production may differ in.
func checksManifest(tag string) string {
	return rigManifest(tag) + `checks:
  - name: unit
    service: api
    run: 'if grep -q BROKEN /start.sh; then echo "FAIL: start.sh is BROKEN"; exit 1; fi; echo "PASS: start.sh"' 
    timeout: 2m
differs: [hosts]
`
}

// TestChecksFreezeDiff drives checks, freezes and diffs against the real
// components (git server, NATS, BuildKit, Docker, a GitHub API speaking
// HTTP): a default-branch commit failing its check never reaches staging
// and is recorded blocked; a pull request failing its check gets a failed
// status and no preview until the fix; a frozen staging holds a push until
// unlocked or until the freeze expires; slipway diff and the release plan
// name a difference slipway.yaml does not declare.
func TestChecksFreezeDiff(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := startRig(t, ctx)
	out := &bytes.Buffer{}
	defer func() {
		if t.Failed() {
			t.Logf("command output:\n%s", out)
		}
	}()
	if err := r.s.WriteFile("slipway.yaml", checksManifest(r.tag)); err != nil {
		t.Fatal(err)
	}
	start, err := os.ReadFile(filepath.Join(r.s.Repo.Dir, "services/api/start.sh"))
	if err != nil {
		t.Fatal(err)
	}
	c1 := r.push(t, ctx, r.s, "Add web and api, checked", "").After
	r.waitServingIn(t, ctx, r.stg, c1)
	r.waitStatus(t, c1, "success")

	t.Run("a default-branch commit failing its check never reaches staging", func(t *testing.T) {
		if err := r.s.WriteFile("services/api/start.sh", string(start)+"# BROKEN\n"); err != nil {
			t.Fatal(err)
		}
		p2 := r.push(t, ctx, r.s, "Break api", "")
		c2 := p2.After
		blocked := r.waitGated(t, ctx, r.stg, c2)
		if blocked.Outcome != events.OutcomeBlocked || blocked.Gate != "check/unit" || !strings.Contains(blocked.Reason, "exit code: 1") {
			t.Errorf("recorded %+v, want blocked by check/unit", blocked)
		}
		st := r.waitStatus(t, c2, "failure")
		if !strings.Contains(st.Description, "check unit failed") {
			t.Errorf("status of c2: %+v", st)
		}
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.stg, c1)
		finished := r.finished(t, ctx, c2)
		if len(finished) != 1 || finished[0].Passed || !strings.Contains(strings.Join(finished[0].Log, "\n"), "FAIL: start.sh is BROKEN") {
			t.Errorf("check results of c2 %+v: want one, failed, with its log", finished)
		}
		var cl bytes.Buffer
		if err := printChecks(ctx, r.up.Conn(), sample.RepoName, c2, true, &cl); err != nil || !strings.Contains(cl.String(), "failed") ||
			!strings.Contains(cl.String(), "FAIL: start.sh is BROKEN") {
			t.Errorf("slipway checks %s (%v) shows no failed unit with its log:\n%s", c2[:12], err, cl.String())
		}
		var h bytes.Buffer
		if err := history(ctx, r.up.Conn(), sample.RepoName, r.stg, 0, &h); err != nil || !strings.Contains(h.String(), "blocked") || !strings.Contains(h.String(), c2[:12]) {
			t.Errorf("history (%v) shows no blocked %s:\n%s", err, c2[:12], h.String())
		}
		opts := releaseOptions{RepoDir: r.s.Repo.Dir, StagingEnv: r.stg}
		if _, err := releaseCommit(ctx, r.up.Conn(), c2, opts, out); err == nil || !strings.Contains(err.Error(), "check unit failed") {
			t.Errorf("release of c2: %v, want a refusal naming the check", err)
		}
		// The same push delivered again (a new delivery id) runs nothing again.
		if code, body, err := p2.Send(ctx, r.up.IngestURL()+"/webhooks/github", r.s.Secret, ""); err != nil || code != 202 {
			t.Fatalf("redelivery: %d %s %v", code, body, err)
		}
		r.waitAllIdle(t, ctx)
		if n := len(r.finished(t, ctx, c2)); n != 1 {
			t.Errorf("%d check results of c2 after a redelivery, want 1", n)
		}
	})

	if err := r.s.WriteFile("services/api/start.sh", string(start)); err != nil {
		t.Fatal(err)
	}
	c3 := r.push(t, ctx, r.s, "Fix api", "").After
	r.waitServingIn(t, ctx, r.stg, c3)

	t.Run("a pull request waits for its check", func(t *testing.T) {
		env := r.prv + "-3"
		r.prs = append(r.prs, env)
		f1 := r.branchCommit(t, "checked", "services/api/start.sh", string(start)+"# BROKEN\n")
		r.sendPR(t, ctx, "opened", 3, f1, "checked", false)
		if st := r.waitStatus(t, f1, "failure"); !strings.Contains(st.Description, "check unit failed") {
			t.Errorf("status of the broken head: %+v", st)
		}
		if g := r.waitGated(t, ctx, env, f1); g.Outcome != events.OutcomeBlocked {
			t.Errorf("preview of the broken head recorded %+v, want blocked", g)
		}
		r.waitAllIdle(t, ctx)
		if got := dockertest.Containers(t, env); len(got) != 0 {
			t.Errorf("a preview of a head failing its check runs %v", got)
		}
		// The fix, then a value of api staging does not have.
		r.branchCommit(t, "checked", "services/api/start.sh", string(start))
		f2 := r.branchCommit(t, "checked", "slipway.yaml", strings.Replace(checksManifest(r.tag), "hello from api", "hello from the feature", 1))
		r.sendPR(t, ctx, "synchronize", 3, f2, "checked", false)
		r.waitServingIn(t, ctx, env, f2)
		r.waitStatus(t, f2, "success")

		var d bytes.Buffer
		err := diffEnvs(ctx, r.up.Conn(), sample.RepoName, r.stg, env, r.s.Repo.Dir, &d)
		if !errors.Is(err, errUnexpected) || !strings.Contains(d.String(), "GREETING") || !strings.Contains(d.String(), "hello from the feature") {
			t.Errorf("slipway diff %s %s: %v, want the undeclared value named:\n%s", r.stg, env, err, d.String())
		}
	})

	t.Run("a frozen staging holds pushes until unlocked", func(t *testing.T) {
		s := r.freezes(t, ctx)
		if _, err := lockEnv(ctx, s, sample.RepoName, r.stg, "release freeze", "ada", 0); err != nil {
			t.Fatal(err)
		}
		if err := r.s.WriteFile("services/web/index.txt", "frozen\n"); err != nil {
			t.Fatal(err)
		}
		c4 := r.push(t, ctx, r.s, "Change web while frozen", "").After
		if g := r.waitGated(t, ctx, r.stg, c4); g.Outcome != events.OutcomeHeld || !strings.Contains(g.Reason, "release freeze") {
			t.Errorf("recorded %+v, want held by the freeze", g)
		}
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.stg, c3)
		var st bytes.Buffer
		if err := printFreezes(ctx, r.up.Conn(), sample.RepoName, &st); err != nil || !strings.Contains(st.String(), "release freeze") || !strings.Contains(st.String(), c4[:12]) {
			t.Errorf("status (%v) shows no freeze holding %s:\n%s", err, c4[:12], st.String())
		}
		if err := unlock(ctx, s, r.publisher(), sample.RepoName, r.stg, out); err != nil {
			t.Fatal(err)
		}
		r.waitServingIn(t, ctx, r.stg, c4)

		// A freeze ends by itself at its expiry and deploys what it held:
		// frozen until told otherwise while c5 is held, then set to end in
		// a second (a lock again keeps what the freeze holds).
		if _, err := lockEnv(ctx, s, sample.RepoName, r.stg, "short freeze", "ada", 0); err != nil {
			t.Fatal(err)
		}
		if err := r.s.WriteFile("services/web/index.txt", "frozen briefly\n"); err != nil {
			t.Fatal(err)
		}
		c5 := r.push(t, ctx, r.s, "Change web in a short freeze", "").After
		if g := r.waitGated(t, ctx, r.stg, c5); g.Outcome != events.OutcomeHeld {
			t.Errorf("recorded %+v, want held", g)
		}
		if _, err := lockEnv(ctx, s, sample.RepoName, r.stg, "short freeze", "ada", time.Second); err != nil {
			t.Fatal(err)
		}
		r.waitServingIn(t, ctx, r.stg, c5)
		if _, _, found, err := s.Get(ctx, sample.RepoName, r.stg); err != nil || found {
			t.Errorf("freeze record after expiry: found %v (%v)", found, err)
		}
	})

	t.Run("the release plan flags an undeclared difference", func(t *testing.T) {
		r.waitAllIdle(t, ctx) // staging's last deploy recorded
		opts := releaseOptions{RepoDir: r.s.Repo.Dir, Remote: "origin", StagingEnv: r.stg}
		branch, err := releaseCommit(ctx, r.up.Conn(), r.git(t, "rev-parse", "main"), opts, out)
		if err != nil {
			t.Fatal(err)
		}
		head := r.git(t, "rev-parse", branch)
		r.sendPR(t, ctx, "opened", 4, head, branch, false)
		plan := r.waitFor(t, ctx, events.EnvSubject(events.SubjectReleasePlanned, sample.RepoName, r.prod), func(ev events.Event) bool {
			return ev.(*events.ReleasePlanned).HeadSHA == head
		}).(*events.ReleasePlanned)
		joined := strings.Join(plan.Problems, "\n")
		if !strings.Contains(joined, "values of web GREETING") || strings.Contains(joined, "hosts") {
			t.Errorf("plan problems %q: want the undeclared value of web, not the declared hosts", plan.Problems)
		}
	})
}

// waitStatus waits for the last status of the check on sha on the git
// host's API to be state.
func (r *rig) waitStatus(t testing.TB, sha, state string) ghStatus {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		if st := r.github.status(sha, "slipway/check/unit"); st.State == state {
			return st
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("status slipway/check/unit of %s is %+v, want %s", sha[:12], r.github.status(sha, "slipway/check/unit"), state)
	return ghStatus{}
}

// waitGated waits for the gated deploy of sha to envName.
func (r *rig) waitGated(t testing.TB, ctx context.Context, envName, sha string) *events.DeployGated {
	t.Helper()
	return r.waitFor(t, ctx, events.EnvSubject(events.SubjectDeployGated, sample.RepoName, envName), func(ev events.Event) bool {
		return ev.(*events.DeployGated).Commit == sha
	}).(*events.DeployGated)
}

// finished returns the check results of sha stored in the stream.
func (r *rig) finished(t testing.TB, ctx context.Context, sha string) []*events.CheckFinished {
	t.Helper()
	var out []*events.CheckFinished
	for _, ev := range r.all(t, ctx, events.SubjectCheckFinished) {
		if f := ev.(*events.CheckFinished); f.Commit == sha {
			out = append(out, f)
		}
	}
	return out
}

func (r *rig) freezes(t testing.TB, ctx context.Context) *natsstore.FreezeStore {
	t.Helper()
	s, err := freezeStore(ctx, r.up.Conn())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (r *rig) publisher() *natsjs.Publisher {
	return natsjs.NewPublisher(r.up.Conn().JS, "/slipway/cli")
}
