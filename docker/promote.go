package docker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// promoteAll makes every healthy candidate live, tells d.Promoted, then, after DrainDelay,
// removes the containers they replaced and the live containers of services
// d no longer has. When a promotion fails, the remaining candidates are
// removed and the services already promoted stay promoted.
func (t *Target) promoteAll(ctx context.Context, d deploy.Deployment, cands []*candidate) error {
	var replaced []string
	for i, c := range cands {
		old, err := t.promote(ctx, d, c)
		if err != nil {
			t.discard(ctx, cands[i:])
			t.disposeAll(ctx, replaced)
			return err
		}
		if old != "" {
			replaced = append(replaced, old)
		}
	}
	if d.Promoted != nil {
		d.Promoted(ctx) // serving: recorded before the old containers drain
	}
	dropped, err := t.dropped(ctx, d)
	t.disposeAll(ctx, append(replaced, dropped...))
	return err
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
	if hasOld && !labelledFor(old.Config.Labels, d.Repo, d.Env, c.spec.Name) {
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
// container: unless-stopped.
func (t *Target) keepRunning(ctx context.Context, c *candidate) error {
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

// disposeAll waits DrainDelay, then disposes of the containers ids in
// parallel. It runs to the end even when ctx is done.
func (t *Target) disposeAll(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	time.Sleep(t.opts.DrainDelay)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { t.dispose(ctx, id) })
	}
	wg.Wait()
}

// dispose stops a replaced container gracefully, then removes it. A failure
// is logged, not returned: the deploy itself has succeeded, and the next one
// clears what is left.
func (t *Target) dispose(ctx context.Context, id string) {
	timeout := int(t.opts.StopTimeout / time.Second)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.StopTimeout+cleanupTimeout)
	defer cancel()
	err := t.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout})
	if err == nil || isNotFound(err) {
		err = t.forceRemove(ctx, id)
	}
	if err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("container", short(id)).Msg("dispose of replaced container")
	}
}
