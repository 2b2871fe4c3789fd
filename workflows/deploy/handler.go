package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// State is what Slipway recorded an environment runs.
type State struct {
	Env     string         `json:"env"`
	Repo    events.Repo    `json:"repo"`
	Commit  string         `json:"commit"`
	Images  []events.Image `json:"images"`
	Request string         `json:"request"`
	// Kind and Actor are those of the request that put Commit there
	// (empty in records of earlier versions).
	Kind       events.DeployKind `json:"kind,omitempty"`
	Actor      string            `json:"actor,omitempty"`
	DeployedAt time.Time         `json:"deployed_at"`
	// Target is the target the environment runs on ("" in records of
	// earlier versions: events.LocalTarget).
	Target string `json:"target,omitempty"`
	// Secrets are, by name, the versions of the secrets the deploy gave
	// the services (DeployResult.Secrets); never a value. Nil in records
	// of earlier versions.
	Secrets map[string]uint64 `json:"secrets,omitempty"`
}

// Store records the commit each environment runs.
type Store interface {
	Record(ctx context.Context, s State) error
}

// Config configures the deploy workflow.
type Config struct {
	// ClaimTTL is the lease of a running deploy.
	ClaimTTL time.Duration
	// LockTTL is the lease of an environment's deploy lock (default
	// ClaimTTL); LockWait how long a deploy waits for it before it is
	// redelivered (default 2×LockTTL).
	LockTTL, LockWait time.Duration
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	if c.ClaimTTL < time.Second {
		return fmt.Errorf("deploy: claim ttl %s: must be at least 1s", c.ClaimTTL)
	}
	return nil
}

// Handler is the deploy workflow.
type Handler struct {
	Config Config
	// Target runs every environment, unless Targets is set: then each
	// request's target is looked up there (events.DeployRequested.Target).
	Target    Target
	Targets   Targets
	Claims    workflows.Claims
	Publisher Publisher
	Store     Store
	Now       func() time.Time
	// Locks, Queue and Ancestry are optional: without them deploys are
	// neither serialised per environment nor ordered (see lock.go, order.go).
	Locks Locks
	// LockWaits, when set, is told each wait for a lock of Locks.
	LockWaits LockObserver
	Queue     Queue
	Ancestry  Ancestry
	// Hosts is optional: without it the hosts services declare are not
	// claimed (see hosts.go).
	Hosts Hosts
	// Secrets opens the secrets services reference (see secrets.go);
	// without it a deploy of a service that references one fails.
	Secrets Secrets
}

// HandleDeploy applies one deploy request, once.
func (h *Handler) HandleDeploy(ctx context.Context, e *events.DeployRequested) error {
	key := e.DedupKey()
	locked, unlock, err := h.lockEnv(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	var outcome events.DeployOutcome
	lease, err := workflows.RunClaimed(locked, h.Claims, key, h.Config.ClaimTTL, func(ctx context.Context) (err error) {
		outcome, err = h.apply(ctx, e)
		return err
	})
	if lease == nil {
		return err
	}
	return errors.Join(err, complete(ctx, lease, e, outcome))
}

// apply deploys unless the environment already runs the commit, and records
// and announces the result.
func (h *Handler) apply(ctx context.Context, e *events.DeployRequested) (events.DeployOutcome, error) {
	log := zerolog.Ctx(ctx).With().Str("repo", e.Repo.FullName).Str("env", e.Env).Str("sha", e.Commit).
		Str("target", events.TargetName(e.Target)).Logger()
	target, err := h.target(e)
	if err != nil {
		return h.refuse(ctx, e, err)
	}
	cur, err := target.Current(ctx, e.Repo.FullName, e.Env)
	if err != nil {
		return events.OutcomeUnknown, fmt.Errorf("read %s: %w", e.Env, err)
	}
	secrets, serr := h.openSecrets(ctx, e)
	if serr != nil && !events.IsPermanent(serr) {
		return events.OutcomeUnknown, serr
	}
	if serr == nil && runs(cur, e, secrets) {
		log.Info().Msg("environment already runs this commit: nothing to do")
		return events.OutcomeUnchanged, nil
	}
	if reason, err := h.overtaken(ctx, cur.Commit(), e); err != nil || reason != "" {
		return h.supersede(ctx, e, cur.Commit(), reason, err)
	}
	res := e.Result(events.OutcomeSucceeded, cur.Commit(), h.now())
	res.Secrets = versions(secrets)
	log.Info().Str("previous", res.Previous).Msg("deploy started")
	rec := &recorder{h: h, e: e, res: res}
	err = serr // a secret missing or unopenable fails the deploy before anything starts
	if err == nil {
		var undo func(context.Context)
		if undo, err = h.claimHosts(ctx, e); err == nil {
			err = target.Deploy(ctx, Deployment{Env: e.Env, Repo: e.Repo.FullName, Origin: e.Repo, Commit: e.Commit, Images: e.Images, Target: e.Target, Secrets: secrets, Retain: e.Retain, Promoted: rec.promoted, Rollout: e.Rollout})
			if err != nil && !rec.done {
				undo(ctx)
			}
		}
	}
	if err != nil && rec.done {
		// Serving and recorded: what failed is the clean-up after it.
		log.Warn().Err(err).Msg("deploy serving; removing what it replaced failed")
		err = nil
	}
	if err != nil {
		res.Duration = h.now().Sub(res.StartedAt)
		if !events.IsPermanent(err) {
			return events.OutcomeUnknown, err
		}
		res.Outcome, res.Reason, res.Analysis = events.OutcomeFailed, err.Error(), analysisOf(err)
		log.Error().Err(err).Msg("deploy failed; previous commit keeps serving")
		return res.Outcome, errors.Join(err, h.publish(ctx, res.Event()))
	}
	if err := rec.record(ctx); err != nil && rec.stored {
		return events.OutcomeSucceeded, err
	} else if err != nil {
		return events.OutcomeUnknown, err
	}
	h.pruneHosts(ctx, e)
	log.Info().Dur("took", rec.res.Duration).Msg("deploy succeeded")
	return events.OutcomeSucceeded, nil
}

// recorder records a successful deploy once: as the Target promotes it
// (Deployment.Promoted), or when Deploy returns.
type recorder struct {
	h   *Handler
	e   *events.DeployRequested
	res events.DeployResult
	// stored is set once the environment's state is written, done once the
	// result is announced too.
	stored, done bool
}

// promoted records the deploy as its containers start serving; a failure
// is logged, and recording is tried again when Deploy returns.
func (r *recorder) promoted(ctx context.Context) {
	if err := r.record(ctx); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", r.e.Env).Str("sha", r.e.Commit).Msg("record the deploy as promoted: tried again once it is done")
	}
}

// record writes the environment's state and announces the result.
func (r *recorder) record(ctx context.Context) error {
	if r.done {
		return nil
	}
	h, e := r.h, r.e
	if !r.stored {
		r.res.Duration = h.now().Sub(r.res.StartedAt)
		state := State{Env: e.Env, Repo: e.Repo, Commit: e.Commit, Images: e.Images, Request: r.res.Request,
			Kind: e.Kind, Actor: e.Actor, DeployedAt: h.now(), Target: e.Target, Secrets: r.res.Secrets}
		if err := h.Store.Record(ctx, state); err != nil {
			return err
		}
		r.stored = true
	}
	if err := h.publish(ctx, r.res.Event()); err != nil {
		return err
	}
	r.done = true
	return nil
}

// target returns the target of e: Targets' when set, else Target.
func (h *Handler) target(e *events.DeployRequested) (Target, error) {
	if h.Targets == nil {
		return h.Target, nil
	}
	return h.Targets.Target(e.Repo.FullName, e.Env, e.Target)
}

// refuse records e as failed because its target cannot run it (not
// configured, not allowed): nothing started. A lookup that may work later
// is returned for a retry.
func (h *Handler) refuse(ctx context.Context, e *events.DeployRequested, err error) (events.DeployOutcome, error) {
	if !events.IsPermanent(err) {
		return events.OutcomeUnknown, err
	}
	res := e.Result(events.OutcomeFailed, "", h.now())
	res.Reason = err.Error()
	zerolog.Ctx(ctx).Error().Err(err).Str("repo", e.Repo.FullName).Str("env", e.Env).Msg("deploy refused: nothing started")
	return res.Outcome, errors.Join(err, h.publish(ctx, res.Event()))
}

func (h *Handler) publish(ctx context.Context, e events.Event) error {
	if _, err := h.Publisher.Publish(ctx, e); err != nil {
		return fmt.Errorf("announce deploy: %w", err)
	}
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// runs reports whether the environment runs exactly the requested images,
// with as many replicas as requested when the Target reports them (Addrs),
// and the versions of secrets its services reference.
func runs(cur Release, e *events.DeployRequested, secrets []Secret) bool {
	if cur.Commit() != e.Commit || len(cur.Services) != len(e.Images) {
		return false
	}
	services := make(map[string]ServiceState, len(cur.Services))
	for _, s := range cur.Services {
		if !s.Running {
			return false
		}
		services[s.Name] = s
	}
	for _, img := range e.Images {
		s := services[img.Service.Name]
		if s.Digest != img.Digest || (len(s.Addrs) > 0 && len(s.Addrs) != max(img.Service.Replicas, 1)) {
			return false
		}
		if !maps.Equal(s.Secrets, SecretVersions(img.Service, secrets)) {
			return false
		}
	}
	return true
}
