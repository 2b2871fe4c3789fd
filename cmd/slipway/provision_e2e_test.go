package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dockerevents "github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// provisionManifest is the rig's slipway.yaml with one provisioning step,
// infra/ applied by the real tofu command with its state in the step's
// volume.
func provisionManifest(tag, image string) string {
	state := "-state=" + docker.ProvisionStateDir + "/terraform.tfstate"
	return rigManifest(tag) + fmt.Sprintf(`provision:
  - name: infra
    image: %s
    dir: infra
    plan: [tofu, plan, -no-color, -input=false, %[2]s]
    apply: [tofu, apply, -no-color, -input=false, -auto-approve, %[2]s]
    timeout: 5m
`, image, state)
}

// infraConfig is infra/main.tf: built-in terraform_data resources only, so
// no provider is downloaded; fail adds one whose local-exec provisioner
// fails.
func infraConfig(input string, fail bool) string {
	s := fmt.Sprintf(`resource "terraform_data" "bucket" {
  input = %q
}
`, input)
	if fail {
		s += `resource "terraform_data" "broken" {
  provisioner "local-exec" {
    command = "echo provisioning the broken resource; exit 7"
  }
}
`
	}
	return s
}

// countApplies counts, from Docker's live event stream, the apply
// containers the daemon creates for env of the sample from now on (every
// run, whatever Slipway recorded of it); the count so far is what the
// returned function answers.
func countApplies(t *testing.T, ctx context.Context, cli *client.Client, env string) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	msgs, errs := cli.Events(ctx, dockerevents.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", "container"), filters.Arg("event", "create"), filters.Arg("label", docker.LabelProvisionEnv+"="+env))})
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-msgs:
				if strings.Contains(m.Actor.Attributes["name"], ".provision-infra-apply-") {
					mu.Lock()
					n++
					mu.Unlock()
				}
			case err := <-errs:
				if ctx.Err() == nil {
					t.Errorf("docker events: %v", err)
				}
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// TestProvisionFlow runs the provisioning steps of issue 12 with the real
// tofu command on real Docker: staging applies every deployed commit; a
// release pull request's plan comment shows tofu's plan; the merge applies
// it to production once, before the services deploy (a replay of the same
// commit does not apply again); a changed configuration plans an in-place
// update; a failing apply stops the deploy with the previous commit
// serving.
func TestProvisionFlow(t *testing.T) {
	requireComponents(t)
	image := dockertest.MustTofuImage(t)
	cli := dockertest.MustDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	r := startRig(t, ctx)
	prodApplies := countApplies(t, ctx, cli, r.prod)
	for _, env := range []string{r.stg, r.prod} {
		vol := docker.StateVolume(sample.RepoName, env, "infra")
		t.Cleanup(func() { _ = cli.VolumeRemove(context.Background(), vol, true) })
	}
	out := &bytes.Buffer{}
	defer func() {
		if t.Failed() {
			t.Logf("command output:\n%s", out)
		}
	}()
	if err := r.s.WriteFile("slipway.yaml", provisionManifest(r.tag, image)); err != nil {
		t.Fatal(err)
	}
	if err := r.s.WriteFile("infra/main.tf", infraConfig("v1", false)); err != nil {
		t.Fatal(err)
	}
	applies := func(env, sha string) []*events.ProvisionFinished {
		var got []*events.ProvisionFinished
		for _, ev := range r.all(t, ctx, events.EnvSubject(events.SubjectProvisionFinished, sample.RepoName, env)) {
			if p := ev.(*events.ProvisionFinished); p.Phase == events.PhaseApply && p.Commit == sha {
				got = append(got, p)
			}
		}
		return got
	}

	// Staging applies its first commit.
	c1 := r.push(t, ctx, r.s, "Add web, api and infra", "").After
	r.waitServingIn(t, ctx, r.stg, c1)
	if a := applies(r.stg, c1); len(a) != 1 || !a[0].Succeeded() || !strings.Contains(a[0].Output, "Resources: 1 added") {
		t.Fatalf("staging applies of %s: %+v, want one that added the resource", c1[:12], a)
	}
	r.waitAllIdle(t, ctx)
	opts := releaseOptions{RepoDir: r.s.Repo.Dir, Remote: "origin", StagingEnv: r.stg}

	// release opens a release pull request for sha and returns the plan
	// of it and the plan comment posted.
	release := func(t *testing.T, sha string, number int, want ...string) (string, string) {
		t.Helper()
		branch, err := releaseCommit(ctx, r.up.Conn(), sha, opts, out)
		if err != nil {
			t.Fatal(err)
		}
		head := r.git(t, "rev-parse", branch)
		r.sendPR(t, ctx, "opened", number, head, branch, false)
		plan := r.waitFor(t, ctx, events.EnvSubject(events.SubjectReleasePlanned, sample.RepoName, r.prod), func(ev events.Event) bool {
			return ev.(*events.ReleasePlanned).HeadSHA == head
		}).(*events.ReleasePlanned)
		if len(plan.Provision) != 1 || plan.Provision[0].Step != "infra" || plan.Provision[0].ExitCode != 0 || len(plan.Problems) != 0 {
			t.Fatalf("plan %+v: want the plan of infra, no problems", plan)
		}
		for _, w := range want {
			if !strings.Contains(plan.Provision[0].Output, w) {
				t.Errorf("plan of infra lacks %q:\n%s", w, plan.Provision[0].Output)
			}
		}
		var comment string
		deadline := time.Now().Add(time.Minute)
		for comment == "" && time.Now().Before(deadline) {
			for _, c := range r.github.commentsOf(number) {
				if strings.Contains(c, "**Infrastructure**") {
					comment = c
				}
			}
			if comment == "" {
				time.Sleep(100 * time.Millisecond)
			}
		}
		for _, w := range want {
			if !strings.Contains(comment, w) {
				t.Errorf("plan comment of #%d lacks %q:\n%s", number, w, comment)
			}
		}
		if strings.Contains(comment, "\x1b[") {
			t.Errorf("plan comment holds ANSI escapes:\n%q", comment)
		}
		return branch, head
	}

	t.Run("the release plan shows tofu's plan, the merge applies it once before the services", func(t *testing.T) {
		branch, head := release(t, c1, 1, "# terraform_data.bucket will be created", "+ create", "Plan: 1 to add, 0 to change, 0 to destroy.")
		if a := applies(r.prod, c1); len(a) != 0 {
			t.Fatalf("production applied before the merge: %+v", a)
		}
		r.git(t, "merge", "-q", "--ff-only", branch)
		merge := r.push(t, ctx, r.s, "Release "+c1[:12], "").After
		r.sendPR(t, ctx, "closed", 1, head, branch, true)
		r.waitServingIn(t, ctx, r.prod, c1)
		r.waitServingIn(t, ctx, r.stg, merge)
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.prod, c1)

		// In the stream: production's apply, then its migration task, then
		// its deploy recorded serving.
		envs, err := natsjs.Events(ctx, r.up.Conn().JS, events.EnvSubject(events.SubjectProvisionFinished, sample.RepoName, r.prod),
			events.EnvSubject(events.SubjectTaskFinished, sample.RepoName, r.prod), events.EnvSubject(events.SubjectDeploySucceeded, sample.RepoName, r.prod))
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, env := range envs {
			switch ev, _ := env.Decode(); e := ev.(type) {
			case *events.ProvisionFinished:
				order = append(order, string(e.Phase))
			case *events.TaskFinished:
				order = append(order, "task")
			case *events.DeploySucceeded:
				order = append(order, "deployed")
			}
		}
		if got := strings.Join(order, " "); got != "plan apply task deployed" {
			t.Errorf("production's events in stream order %q, want the plan, then the apply, the task, the deploy", got)
		}

		// Deployed again (its containers gone, a replay of its deploy
		// starts them again), the same commit does not apply again.
		removeEnv(t, r.prod)
		var seq uint64
		for _, dep := range mustDeploys(t, ctx, r, r.prod) {
			if dep.Commit == c1 && dep.Succeeded() {
				seq = dep.Seq
			}
		}
		if o, err := replay(ctx, r.up.Conn(), fmt.Sprint(seq), deliberate{Actor: "ada", Wait: 2 * time.Minute}, out); err != nil || o.Outcome != events.OutcomeSucceeded {
			t.Fatalf("replay #%d: %+v, %v", seq, o, err)
		}
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.prod, c1)
		if a := applies(r.prod, c1); len(a) != 1 || !a[0].Succeeded() {
			t.Errorf("production applies of %s recorded after a replay: %d, want 1", c1[:12], len(a))
		}
		if n := prodApplies(); n != 1 {
			t.Errorf("production's apply ran %d times (Docker's events), want once", n)
		}
	})

	t.Run("a changed configuration plans an in-place update", func(t *testing.T) {
		if err := r.s.WriteFile("infra/main.tf", infraConfig("v2", false)); err != nil {
			t.Fatal(err)
		}
		c2 := r.push(t, ctx, r.s, "Change the bucket", "").After
		r.waitServingIn(t, ctx, r.stg, c2)
		if a := applies(r.stg, c2); len(a) != 1 || !strings.Contains(a[0].Output, "Resources: 0 added, 1 changed") {
			t.Fatalf("staging applies of %s: %+v, want one that changed the resource", c2[:12], a)
		}
		r.waitAllIdle(t, ctx)
		release(t, c2, 2, "~ update in-place", "Plan: 0 to add, 1 to change, 0 to destroy.")
	})

	t.Run("a failing apply stops the deploy with the previous commit serving", func(t *testing.T) {
		r.waitAllIdle(t, ctx)
		prev, err := r.s.Repo.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.requireEnv(t, ctx, r.stg, prev)
		if err := r.s.WriteFile("infra/main.tf", infraConfig("v2", true)); err != nil {
			t.Fatal(err)
		}
		bad := r.push(t, ctx, r.s, "Add a broken resource", "").After
		failed := r.waitFor(t, ctx, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, r.stg), func(ev events.Event) bool {
			return ev.(*events.DeployFailed).Commit == bad
		}).(*events.DeployFailed)
		for _, w := range []string{"provisioning step infra: apply exited with code 1", "provisioning the broken resource"} {
			if !strings.Contains(failed.Reason, w) {
				t.Errorf("failed deploy's reason lacks %q:\n%s", w, failed.Reason)
			}
		}
		r.waitAllIdle(t, ctx)
		r.requireEnv(t, ctx, r.stg, prev)
		if a := applies(r.stg, bad); len(a) != 1 || a[0].Succeeded() {
			t.Errorf("staging applies of %s: %+v, want one failed", bad[:12], a)
		}
	})
}
