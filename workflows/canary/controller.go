package canary

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	tgt "github.com/slipway-dev/slipway/workflows/target"
)

// Defaults of a Controller.
const (
	DefaultPoll  = 200 * time.Millisecond
	DefaultDrain = 2 * time.Second
	// healthFailures is how many health probes in a row must fail before a
	// rollout goes back.
	healthFailures = 3
)

// Controller runs the progressive rollouts of the targets it wraps.
type Controller struct {
	Store Store
	// Poll is how often a step's figures, health and commands are read;
	// DefaultPoll when 0.
	Poll time.Duration
	// Drain is how long a dropped split may still be used by a proxy (its
	// cache); the shadow is removed after it. DefaultDrain when 0.
	Drain time.Duration
}

// Remover removes an environment from a target (target.Target.Remove).
type Remover interface {
	Remove(ctx context.Context, repo, env string) error
}

// Resolver finds and dials the replicas of a service (target.Target), for
// health probes.
type Resolver interface {
	ResolveAll(ctx context.Context, repo, env, service string) ([]string, error)
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
}

// Wrap returns t running the progressive rollouts of its deployments. A
// target that cannot remove an environment deploys plainly.
func (c *Controller) Wrap(t deploy.Target) deploy.Target {
	if _, ok := t.(Remover); !ok {
		return t
	}
	return &target{Target: t, c: c}
}

// WrapTarget returns t running the progressive rollouts of its
// deployments, still a target.Target: the deploy workflow's tasks wrap it,
// so a commit's tasks run once, before its new release starts.
func (c *Controller) WrapTarget(t tgt.Target) tgt.Target {
	return &fullTarget{Target: t, rollouts: &target{Target: t, c: c}}
}

// fullTarget is a target.Target whose Deploy runs rollouts.
type fullTarget struct {
	tgt.Target
	rollouts *target
}

// Deploy implements target.Target.
func (f *fullTarget) Deploy(ctx context.Context, d deploy.Deployment) error {
	return f.rollouts.Deploy(ctx, d)
}

// target is a deploy.Target running rollouts.
type target struct {
	deploy.Target
	c *Controller
}

// Deploy implements deploy.Target: a plain deploy unless d has a
// progressive rollout and the environment serves a commit to compare with.
func (t *target) Deploy(ctx context.Context, d deploy.Deployment) error {
	if !d.Rollout.Progressive() {
		return t.plain(ctx, d)
	}
	cur, err := t.Current(ctx, d.Repo, d.Env)
	if err != nil {
		return fmt.Errorf("read %s: %w", d.Env, err)
	}
	if cur.Commit() == "" {
		zerolog.Ctx(ctx).Info().Str("env", d.Env).Msg("rollout: nothing serves yet, deploying plainly")
		return t.plain(ctx, d)
	}
	r := &rollout{t: t, d: d, poll: t.c.Poll, drain: t.c.drain()}
	if r.poll <= 0 {
		r.poll = DefaultPoll
	}
	return r.run(ctx)
}

// plain deploys d as it is, after dropping what a rollout that never ended
// (its deployer died) left: its split and its shadow.
func (t *target) plain(ctx context.Context, d deploy.Deployment) error {
	if err := t.Target.Deploy(ctx, d); err != nil {
		return err
	}
	_, ok, err := t.c.Store.Split(ctx, d.Repo, d.Env)
	if err != nil || !ok {
		return err
	}
	zerolog.Ctx(ctx).Warn().Str("env", d.Env).Msg("rollout: dropping the split and the shadow an unfinished rollout left")
	r := &rollout{t: t, d: d, drain: t.c.drain()}
	return r.back(ctx)
}

// drain returns Drain or its default.
func (c *Controller) drain() time.Duration {
	if c.Drain <= 0 {
		return DefaultDrain
	}
	return c.Drain
}

// Steps returns the shares of a rollout: its steps for a canary (ending
// with 100), one step of 100 otherwise.
func Steps(r *events.Rollout) []int {
	if r.Strategy != events.StrategyCanary {
		return []int{100}
	}
	var steps []int
	for _, w := range r.Steps {
		if w > 0 && w < 100 {
			steps = append(steps, w)
		}
	}
	return append(steps, 100)
}

// hold returns how long step weight w is judged.
func hold(r *events.Rollout, w int) time.Duration {
	if w < 100 {
		return r.Pause
	}
	if r.Strategy == events.StrategyBlueGreen {
		return max(r.Keep, r.Watch)
	}
	return r.Watch
}

// rollout is one progressive deploy.
type rollout struct {
	t           *target
	d           deploy.Deployment
	poll, drain time.Duration
	started     time.Time
}

// run starts the shadow, walks the steps and either deploys the commit
// into the environment or goes back.
func (r *rollout) run(ctx context.Context) error {
	log := zerolog.Ctx(ctx).With().Str("env", r.d.Env).Str("sha", r.d.Commit).Str("strategy", r.d.Rollout.Strategy).Logger()
	store := r.t.c.Store
	if _, err := store.TakeCommand(ctx, r.d.Repo, r.d.Env); err != nil { // a stale one from an earlier rollout
		return err
	}
	shadow := r.d
	shadow.Env, shadow.Promoted, shadow.Rollout = ShadowEnv(r.d.Env), nil, nil
	r.started = time.Now()
	if err := r.t.Target.Deploy(ctx, shadow); err != nil {
		r.removeShadow(ctx, false)
		return err
	}
	log.Info().Str("shadow", shadow.Env).Msg("rollout: new commit started beside the old one")
	for i, w := range Steps(r.d.Rollout) {
		if err := store.PutSplit(ctx, r.d.Repo, r.d.Env, Split{Shadow: shadow.Env, Commit: r.d.Commit, Weight: w, Step: i}); err != nil {
			return errors.Join(err, r.back(ctx))
		}
		log.Info().Int("step", i+1).Int("weight", w).Msg("rollout: step")
		promoted, err := r.judge(ctx, i, w, hold(r.d.Rollout, w))
		if err != nil {
			var rb *deploy.RolledBackError
			if errors.As(err, &rb) {
				log.Warn().Str("cause", rb.Analysis.Cause).Msg("rollout: going back")
			}
			return errors.Join(err, r.back(ctx))
		}
		if promoted {
			log.Info().Int("step", i+1).Msg("rollout: promoted by the operator")
			break
		}
	}
	return r.forward(ctx)
}

// forward deploys the commit into the environment while the shadow answers
// every request, then drops the split and the shadow. The deploy moves the
// shadow's containers into the environment (Deployment.From) where the
// target can: the canary that was judged is the release that serves, not
// a second start of the commit. The split is dropped as soon as the
// environment serves the commit (Deployment.Promoted).
func (r *rollout) forward(ctx context.Context) error {
	store := r.t.c.Store
	if err := store.PutSplit(ctx, r.d.Repo, r.d.Env, Split{Shadow: ShadowEnv(r.d.Env), Commit: r.d.Commit, Weight: 100, Step: len(Steps(r.d.Rollout)) - 1}); err != nil {
		return errors.Join(err, r.back(ctx))
	}
	d := r.d
	d.From = ShadowEnv(r.d.Env)
	d.Promoted = func(ctx context.Context) {
		if r.d.Promoted != nil {
			r.d.Promoted(ctx)
		}
		r.dropSplit(ctx)
	}
	if err := r.t.Target.Deploy(ctx, d); err != nil {
		return errors.Join(err, r.back(ctx))
	}
	ctx = context.WithoutCancel(ctx)
	r.dropSplit(ctx)
	r.removeShadow(ctx, true)
	return nil
}

// dropSplit deletes the split of the environment: every request goes to
// the environment. A failure is logged.
func (r *rollout) dropSplit(ctx context.Context) {
	if err := r.t.c.Store.DeleteSplit(context.WithoutCancel(ctx), r.d.Repo, r.d.Env); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("rollout: drop the split")
	}
}

// back drops the split and removes the shadow: the old commit, never
// touched, serves alone again. It runs to the end even when ctx is done.
func (r *rollout) back(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	err := r.t.c.Store.DeleteSplit(ctx, r.d.Repo, r.d.Env)
	r.removeShadow(ctx, true)
	return err
}

// removeShadow waits until no proxy routes to the shadow any more (when
// drain), then removes it; a failure is logged (the next rollout's deploy of the shadow
// replaces what is left).
func (r *rollout) removeShadow(ctx context.Context, drain bool) {
	if drain {
		time.Sleep(r.drain)
	}
	ctx = context.WithoutCancel(ctx)
	if err := r.t.Target.(Remover).Remove(ctx, r.d.Repo, ShadowEnv(r.d.Env)); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", ShadowEnv(r.d.Env)).Msg("rollout: remove the shadow")
	}
}
