package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/swarm"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// step is what a deploy does to one service of the release: start a
// candidate, scale the live service, keep it (relabelled once the others
// pass their gates), or nothing.
type step struct {
	img     events.Image
	want    int
	svc     swarm.Service // the candidate, or the live service scaled or kept
	created bool          // a candidate this deploy created
	scaled  bool          // the live service, its replicas changed
	kept    bool          // the live service, unchanged at another commit
	before  uint64        // the live service's replicas before scaling
	spec    string        // the live service's LabelSpec before scaling
	known   map[string]bool
}

// Deploy makes env of d.Repo run d behind the gate (see the package
// comment): candidates of the new commits beside the live services, each
// task running and healthy, then a label update makes them live and the
// previous services are removed.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	if err := checkNames(d); err != nil {
		return err
	}
	defer t.lock(d.Repo, d.Env)()
	d = t.pullDeployment(d)
	svcs, err := t.services(ctx, d.Repo, d.Env)
	if err != nil {
		return err
	}
	if noOp(svcs, d) {
		return nil
	}
	if err := t.clearCandidates(ctx, svcs); err != nil {
		return err
	}
	lives := live(svcs)
	steps, err := t.start(ctx, d, lives)
	if err != nil {
		return errors.Join(err, t.undo(context.WithoutCancel(ctx), steps))
	}
	if err := t.gateAll(ctx, steps); err != nil {
		return errors.Join(err, t.undo(context.WithoutCancel(ctx), steps))
	}
	return t.promote(ctx, d, steps, lives, svcs)
}

// noOp reports whether env already runs d: for every image a live service
// at its commit and digest with its replica count, every task running, and
// no other service.
func noOp(svcs []swarm.Service, d deploy.Deployment) bool {
	if len(svcs) != len(d.Images) {
		return false
	}
	lives := live(svcs)
	for _, img := range d.Images {
		s, ok := lives[img.Service.Name]
		n := uint64(max(img.Service.Replicas, 1))
		if !ok || !sameRelease(s, d, img) || declared(s) != int(n) ||
			s.ServiceStatus == nil || s.ServiceStatus.RunningTasks != n {
			return false
		}
	}
	return true
}

// clearCandidates removes the candidates an interrupted deploy left.
func (t *Target) clearCandidates(ctx context.Context, svcs []swarm.Service) error {
	var stale []swarm.Service
	for _, s := range svcs {
		if s.Spec.Labels[LabelRole] != RoleLive {
			stale = append(stale, s)
		}
	}
	if len(stale) > 0 {
		zerolog.Ctx(ctx).Info().Int("services", len(stale)).Msg("removing candidates of an interrupted deploy")
	}
	return t.removeAll(ctx, stale)
}

// start creates a candidate for every image the live services do not run,
// scales those whose replica count changed and keeps those an earlier
// commit runs unchanged (target.Unchanged), every task running.
func (t *Target) start(ctx context.Context, d deploy.Deployment, lives map[string]swarm.Service) ([]*step, error) {
	var steps []*step
	for _, img := range d.Images {
		st := &step{img: img, want: max(img.Service.Replicas, 1)}
		l, ok := lives[img.Service.Name]
		switch {
		case ok && sameRelease(l, d, img) && declared(l) == st.want:
		case ok && sameRelease(l, d, img):
			if err := t.scale(ctx, st, l); err != nil {
				return steps, err
			}
		case ok && unchanged(l, d, img):
			st.svc, st.kept = l, true
			zerolog.Ctx(ctx).Info().Str("service", img.Service.Name).Str("started", short(l.Spec.Labels[docker.LabelCommit], 12)).Msg("service unchanged: tasks kept")
		default:
			spec, err := t.serviceSpec(d, img)
			if err != nil {
				return steps, err
			}
			auth, err := t.registryAuth(spec)
			if err != nil {
				return steps, err
			}
			resp, err := t.cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: auth})
			if err != nil {
				return steps, t.managerError(ctx, "create service "+spec.Name, err)
			}
			st.svc, st.created = swarm.Service{ID: resp.ID, Spec: spec}, true
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// scale sets live service l to st.want replicas, remembering its tasks and
// count so the gate checks only the new tasks and undo can go back.
func (t *Target) scale(ctx context.Context, st *step, l swarm.Service) error {
	tasks, err := t.tasksOf(ctx, l.ID)
	if err != nil {
		return err
	}
	st.known = map[string]bool{}
	for _, task := range tasks {
		st.known[task.ID] = true
	}
	st.before, st.spec = uint64(declared(l)), l.Spec.Labels[docker.LabelSpec]
	if err := t.setReplicas(ctx, l.ID, uint64(st.want), docker.SpecLabel(st.img.Service)); err != nil {
		return err
	}
	st.svc, st.scaled = l, true
	return nil
}

// setReplicas changes the replica count of service id, and its labels:
// the count and spec, the service as declared at that count.
func (t *Target) setReplicas(ctx context.Context, id string, n uint64, spec string) error {
	return t.update(ctx, id, "scale", func(s *swarm.ServiceSpec) {
		s.Mode.Replicated.Replicas = &n
		s.Labels[docker.LabelReplicas] = fmt.Sprint(n)
		s.Labels[docker.LabelSpec] = spec
	})
}

// update applies change to the spec of service id as the manager has it.
// A change to its labels alone restarts no task; one to its replicas
// starts or stops tasks, the others keep running.
func (t *Target) update(ctx context.Context, id, op string, change func(*swarm.ServiceSpec)) error {
	s, _, err := t.cli.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if err != nil {
		return t.managerError(ctx, "inspect service "+id, err)
	}
	change(&s.Spec)
	auth, err := t.registryAuth(s.Spec)
	if err != nil {
		return err
	}
	if _, err := t.cli.ServiceUpdate(ctx, id, s.Version, s.Spec, swarm.ServiceUpdateOptions{EncodedRegistryAuth: auth}); err != nil {
		return t.managerError(ctx, op+" service "+s.Spec.Name, err)
	}
	return nil
}

// gateAll runs the gate of every step that changed something, at once, and
// returns the first failure in the release's order.
func (t *Target) gateAll(ctx context.Context, steps []*step) error {
	errs := make([]error, len(steps))
	var g errgroup.Group
	for i, st := range steps {
		if st.created || st.scaled {
			g.Go(func() error { errs[i] = t.gate(ctx, st); return nil })
		}
	}
	_ = g.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// undo removes the candidates of steps and scales the live services back.
func (t *Target) undo(ctx context.Context, steps []*step) error {
	var errs []error
	for _, st := range steps {
		switch {
		case st.created:
			errs = append(errs, t.removeAll(ctx, []swarm.Service{st.svc}))
		case st.scaled:
			errs = append(errs, t.setReplicas(ctx, st.svc.ID, st.before, st.spec))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("undo the failed deploy: %w", err)
	}
	return nil
}

// promote makes every candidate live by its label and relabels every kept
// service with d's commit (label updates: no task restarts), then removes
// every other live service of svcs: those it replaced, those d no longer
// has, and those an interrupted promotion left.
func (t *Target) promote(ctx context.Context, d deploy.Deployment, steps []*step, lives map[string]swarm.Service, svcs []swarm.Service) error {
	keep := map[string]bool{}
	for _, st := range steps {
		var err error
		switch {
		case st.created:
			err = t.update(ctx, st.svc.ID, "promote", func(s *swarm.ServiceSpec) { s.Labels[LabelRole] = RoleLive })
		case st.kept:
			labels := relabel(st.svc, d, st.img)
			err = t.update(ctx, st.svc.ID, "relabel", func(s *swarm.ServiceSpec) { s.Labels = labels })
		}
		if err != nil {
			return err
		}
		if st.created {
			keep[st.svc.ID] = true
		} else {
			keep[lives[st.img.Service.Name].ID] = true
		}
	}
	var old []swarm.Service
	for _, s := range svcs {
		if s.Spec.Labels[LabelRole] == RoleLive && !keep[s.ID] {
			old = append(old, s)
		}
	}
	zerolog.Ctx(ctx).Info().Str("repo", d.Repo).Str("env", d.Env).Str("sha", d.Commit).Int("retired", len(old)).Msg("swarm services promoted")
	if len(old) > 0 && t.opts.Docker.DrainDelay > 0 {
		// Proxies that resolved the old tasks a moment ago finish with
		// them first.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.opts.Docker.DrainDelay):
		}
	}
	return t.removeAll(ctx, old)
}
