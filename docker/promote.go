package docker

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// promoteAll makes every healthy candidate live, all at once, tells
// d.Promoted, then, after DrainDelay, removes the containers they replaced
// and the live containers of services d no longer has. When a promotion
// fails, the candidates not promoted are removed and the services already
// promoted stay promoted; the error is the first failure in the order of
// cands.
func (t *Target) promoteAll(ctx context.Context, d deploy.Deployment, cands []*candidate, existing []container.Summary) error {
	olds, errs := make([]string, len(cands)), make([]error, len(cands))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Go(func() { olds[i], errs[i] = t.promote(ctx, d, c) })
	}
	wg.Wait()
	var replaced []string
	for _, old := range olds {
		if old != "" {
			replaced = append(replaced, old)
		}
	}
	if i := slices.IndexFunc(errs, func(err error) bool { return err != nil }); i >= 0 {
		var failed []*candidate
		for j, c := range cands {
			if errs[j] != nil {
				failed = append(failed, c)
			}
		}
		t.discard(ctx, failed)
		t.disposeAll(ctx, d.Env, replaced)
		return errs[i]
	}
	if err := t.recordLive(ctx, d, cands, existing); err != nil {
		t.disposeAll(ctx, d.Env, replaced)
		return err
	}
	if d.Promoted != nil {
		d.Promoted(ctx) // serving: recorded before the old containers drain
	}
	dropped, err := t.dropped(ctx, d)
	t.disposeAll(ctx, d.Env, append(replaced, dropped...))
	t.prune(ctx, d.Repo, d.Env, retainCount(d))
	return err
}

// recordLive records that env runs d.Commit in its live containers: those
// just promoted and those kept because their service did not change. With
// nothing promoted (every service kept) they are the live ones of existing,
// the deploy's own listing, when it is given: a deploy that restarts
// nothing lists once.
func (t *Target) recordLive(ctx context.Context, d deploy.Deployment, promoted []*candidate, existing []container.Summary) error {
	cs := existing
	if len(promoted) > 0 || existing == nil {
		var err error
		if cs, err = t.list(ctx, d.Repo, d.Env); err != nil {
			return err
		}
	}
	var ids []string
	for _, c := range cs {
		if liveOf(c) {
			ids = append(ids, c.ID)
		}
	}
	return t.record(ctx, d.Repo, d.Env, d.Commit, ids)
}

// promote swaps c in under the live name of its service and returns the id
// of the container it replaced, if any. The live name is unassigned only
// between two renames; if the second fails, the old container gets its name
// back.
func (t *Target) promote(ctx context.Context, d deploy.Deployment, c *candidate) (string, error) {
	live := ReplicaName(d.Repo, d.Env, c.spec.Name, c.replica)
	old, err := t.cli.ContainerInspect(ctx, live)
	if err != nil && !isNotFound(err) {
		return "", daemonError("inspect container "+live, err)
	}
	hasOld := err == nil
	if hasOld && (!belongs(old.Name, old.Config.Labels, d.Repo, d.Env) || old.Config.Labels[LabelService] != c.spec.Name) {
		return "", events.Permanent(fmt.Errorf("container %s is not labelled for %s of %s, service %s: not replacing it", live, d.Env, d.Repo, c.spec.Name))
	}
	if err := t.keepRunning(ctx, c); err != nil {
		return "", err
	}
	if hasOld {
		if err := t.rename(ctx, old.ID, RetiredName(d.Repo, d.Env, c.spec.Name, c.replica, old.ID)); err != nil {
			return "", err
		}
	}
	if err := t.rename(ctx, c.id, live); err != nil {
		if hasOld {
			_ = t.rename(context.WithoutCancel(ctx), old.ID, live)
		}
		return "", err
	}
	zerolog.Ctx(ctx).Info().Str("service", c.spec.Name).Int("replica", c.replica).Str("addr", c.addr).Msg("replica promoted")
	if !hasOld {
		return "", nil
	}
	return old.ID, nil
}

// keepRunning gives a healthy candidate the restart policy of a live
// container: unless-stopped. A revived one has it still.
func (t *Target) keepRunning(ctx context.Context, c *candidate) error {
	if c.revived {
		return nil
	}
	_, err := t.cli.ContainerUpdate(ctx, c.id, container.UpdateConfig{
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
	})
	if err != nil {
		return daemonError("set restart policy of "+c.name, err)
	}
	return nil
}

// dropped returns the ids of the live containers of services d does not
// have, and of replicas beyond the count d gives their service.
func (t *Target) dropped(ctx context.Context, d deploy.Deployment) ([]string, error) {
	cs, err := t.list(ctx, d.Repo, d.Env)
	if err != nil {
		return nil, err
	}
	keep := map[string]int{} // service to replica count
	for _, img := range d.Images {
		keep[img.Service.Name] = replicas(img.Service)
	}
	var ids []string
	for _, c := range cs {
		svc, i := c.Labels[LabelService], replicaOf(c.Labels)
		if !liveOf(c) || i < keep[svc] {
			continue
		}
		if keep[svc] == 0 {
			zerolog.Ctx(ctx).Info().Str("service", svc).Msg("service dropped")
		} else {
			zerolog.Ctx(ctx).Info().Str("service", svc).Int("replica", i).Msg("replica dropped")
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// disposeAll waits until the containers ids are drained (drain), then
// stops and retains them in parallel (retire) in env. It runs to the end
// even when ctx is done.
func (t *Target) disposeAll(ctx context.Context, env string, ids []string) {
	if len(ids) == 0 {
		return
	}
	t.drain(ctx, ids)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { t.retire(ctx, env, id) })
	}
	wg.Wait()
}
