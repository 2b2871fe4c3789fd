package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/tasks"
)

var _ tasks.Runner = (*Target)(nil)

// Labels of a deployment task's container. It carries no slipway.env, so
// the deploys of its environment never see it.
const (
	LabelTaskEnv = "slipway.task.env"
	LabelTask    = "slipway.task"
)

// maxTaskOutput is how much of a task's output (its end) is returned.
const maxTaskOutput = 16 << 10

// defaultTaskTimeout bounds a task that declares no timeout.
const defaultTaskTimeout = 10 * time.Minute

// RunTask runs task from img (pulled by digest) to completion in a
// container of its own, with the service's environment of d and
// SLIPWAY_TASK, and removes the container. It returns the end of the
// output and the exit code. A task still running after its timeout is
// killed: a permanent error. An unreachable daemon is retryable.
func (t *Target) RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (string, int, error) {
	if err := t.opts.Limits.checkService(img.Service); err != nil {
		return "", -1, events.Permanent(err)
	}
	for _, arg := range task.Command {
		if strings.IndexByte(arg, 0) >= 0 {
			return "", -1, events.Permanent(fmt.Errorf("task %s: an argument of its command holds a NUL byte", task.Name))
		}
	}
	ref, err := t.pull(ctx, img.Ref, img.Digest)
	if err != nil {
		return "", -1, err
	}
	name := LiveName(d.Repo, d.Env, img.Service.Name) + ".task-" + task.Name + "-" + short(d.Commit)
	if err := t.forceRemove(ctx, name); err != nil { // left by a crashed run
		return "", -1, err
	}
	cfg := &container.Config{
		Image: ref,
		Cmd:   task.Command,
		Env:   append(environment(d, img.Service), "SLIPWAY_TASK="+task.Name),
		Labels: map[string]string{
			LabelTaskEnv: d.Env, LabelTask: task.Name, LabelService: img.Service.Name,
			LabelCommit: d.Commit, LabelRepo: d.Repo, LabelDigest: img.Digest, LabelImage: img.Ref,
		},
	}
	host := &container.HostConfig{Init: &withInit}
	t.opts.Limits.confine(cfg, host, img.Service)
	resp, err := t.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", -1, daemonError("create task container "+name, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = t.forceRemove(rctx, resp.ID)
	}()
	code, err := t.runToEnd(ctx, resp.ID, name, task)
	out := redact(t.output(context.WithoutCancel(ctx), resp.ID), deploy.ServiceSecrets(img.Service, d.Secrets))
	zerolog.Ctx(ctx).Info().Str("task", task.Name).Str("service", img.Service.Name).Int("exit", code).Msg("task finished")
	return out, code, err
}

// runToEnd starts the container and waits until it exits or its timeout
// passes.
func (t *Target) runToEnd(ctx context.Context, id, name string, task events.Task) (int, error) {
	timeout := task.Timeout
	if timeout <= 0 {
		timeout = defaultTaskTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	waitC, errC := t.cli.ContainerWait(wctx, id, container.WaitConditionNextExit)
	if err := t.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return -1, daemonError("start task container "+name, err)
	}
	select {
	case res := <-waitC:
		if res.Error != nil && res.Error.Message != "" {
			return -1, fmt.Errorf("task %s: %s", task.Name, res.Error.Message)
		}
		return int(res.StatusCode), nil
	case err := <-errC:
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		if errors.Is(wctx.Err(), context.DeadlineExceeded) {
			return -1, events.Permanent(fmt.Errorf("task %s still running after %s: killed", task.Name, timeout))
		}
		return -1, daemonError("wait for task container "+name, err)
	}
}

// output returns the end of a container's output, stdout and stderr
// interleaved.
func (t *Target) output(ctx context.Context, id string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := t.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	w := &tailWriter{buf: &buf, max: maxTaskOutput}
	_, _ = stdcopy.StdCopy(w, w, io.LimitReader(rc, 64<<20))
	return buf.String()
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if over := w.buf.Len() - w.max; over > 0 {
		w.buf.Next(over)
	}
	return len(p), nil
}
