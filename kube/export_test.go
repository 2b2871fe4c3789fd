package kube

import (
	"context"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// ApplyOnly applies d's objects and returns before the rollout gate: what
// a deploy leaves when its process dies right after the apply.
func (t *Target) ApplyOnly(ctx context.Context, d deploy.Deployment) error {
	ns := t.Namespace(d.Repo, d.Env)
	prev, err := t.deployments(ctx, ns, d.Repo, d.Env)
	if err != nil {
		return err
	}
	return t.apply(ctx, ns, d, nil, startedAt(prev, d))
}

// StartTask creates the Job of task and returns without waiting for it:
// what a deploy leaves when its process dies while a task runs.
func (t *Target) StartTask(ctx context.Context, d deploy.Deployment, task events.Task) error {
	img := d.Images[0]
	ns := t.Namespace(d.Repo, d.Env)
	job, err := t.job(ns, taskName(d.Repo, d.Env, img.Service.Name, task.Name, d.Commit), d, img, task)
	if err != nil {
		return err
	}
	_, err = t.client.BatchV1().Jobs(ns).Apply(ctx, job, applyOptions)
	return err
}
