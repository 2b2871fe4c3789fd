package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Runner runs one task to completion and returns the end of its output and
// its exit code (docker.Target).
type Runner interface {
	RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (output string, exitCode int, err error)
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Target is a deploy.Target that runs the deployment tasks of a commit
// before deploying it.
type Target struct {
	deploy.Target
	Runner    Runner
	Claims    workflows.Claims
	Publisher Publisher
	// ClaimTTL is the lease of a running task, renewed while it runs.
	ClaimTTL time.Duration
	Now      func() time.Time
}

// Deploy runs every task of d's services, in order, then deploys d.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	for _, img := range d.Images {
		for _, task := range img.Service.Tasks {
			if err := t.run(ctx, d, img, task); err != nil {
				return err
			}
		}
	}
	return t.Target.Deploy(ctx, d)
}

// run runs one task unless it succeeded before for this environment and
// commit.
func (t *Target) run(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) error {
	key := events.TaskKey(d.Repo, d.Env, d.Commit, img.Service.Name, task.Name)
	if t.doneBefore(ctx, d, img, task) {
		return nil
	}
	var ev *events.TaskFinished
	lease, err := workflows.RunClaimed(ctx, t.Claims, key, t.ClaimTTL, func(ctx context.Context) (err error) {
		ev, err = t.execute(ctx, d, img, task)
		return err
	})
	switch {
	case lease == nil && errors.Is(err, events.ErrAlreadyDone):
		zerolog.Ctx(ctx).Info().Str("task", task.Name).Str("service", img.Service.Name).Msg("task done before for this commit")
		return nil
	case lease == nil:
		return err
	}
	if _, perr := t.Publisher.Publish(ctx, ev); perr != nil {
		return errors.Join(perr, lease.Release(context.WithoutCancel(ctx)))
	}
	if !ev.Succeeded() {
		rerr := lease.Release(context.WithoutCancel(ctx))
		return errors.Join(events.Permanent(fmt.Errorf("task %s of %s: %s; output:\n%s", task.Name, img.Service.Name, failure(ev), tail(ev.Output, 2048))), rerr)
	}
	b, _ := json.Marshal(map[string]any{"exit_code": ev.ExitCode, "duration_ns": ev.Duration})
	return lease.Complete(ctx, b)
}

// execute runs the task and describes the run.
func (t *Target) execute(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (*events.TaskFinished, error) {
	start := t.now()
	zerolog.Ctx(ctx).Info().Str("task", task.Name).Str("service", img.Service.Name).Strs("command", task.Command).Msg("task started")
	out, code, err := t.Runner.RunTask(ctx, d, img, task)
	ev := &events.TaskFinished{
		Env: d.Env, Repo: events.Repo{FullName: d.Repo}, Commit: d.Commit, Service: img.Service.Name, Task: task.Name,
		Image: img.Ref + "@" + img.Digest, ExitCode: code, Output: out, Started: start.UTC(), Duration: t.now().Sub(start),
	}
	if err != nil {
		ev.Reason = err.Error()
	}
	return ev, err
}

func failure(ev *events.TaskFinished) string {
	if ev.Reason != "" {
		return ev.Reason
	}
	return fmt.Sprintf("exited with code %d", ev.ExitCode)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (t *Target) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// doneBefore reports whether an earlier version ran the task to success
// under its claim without the repository (events.LegacyTaskKey): the
// commit names the repository, so it was this one's.
func (t *Target) doneBefore(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) bool {
	if _, err := t.Claims.Result(ctx, events.LegacyTaskKey(d.Env, d.Commit, img.Service.Name, task.Name)); err != nil {
		return false
	}
	zerolog.Ctx(ctx).Info().Str("task", task.Name).Str("service", img.Service.Name).Msg("task done before the upgrade for this commit")
	return true
}
