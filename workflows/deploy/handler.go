package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Env        string         `json:"env"`
	Repo       events.Repo    `json:"repo"`
	Commit     string         `json:"commit"`
	Images     []events.Image `json:"images"`
	Request    string         `json:"request"`
	DeployedAt time.Time      `json:"deployed_at"`
}

// Store records the commit each environment runs.
type Store interface {
	Record(ctx context.Context, s State) error
}

// Config configures the deploy workflow.
type Config struct {
	// StagingEnv is the environment following the default branch.
	StagingEnv string
	// ClaimTTL is the lease of a running deploy.
	ClaimTTL time.Duration
	// LockTTL is the lease of an environment's deploy lock (default
	// ClaimTTL); LockWait how long a deploy waits for it before it is
	// redelivered (default 2×LockTTL).
	LockTTL, LockWait time.Duration
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	if c.StagingEnv == "" {
		return errors.New("deploy: staging environment name is required")
	}
	if c.ClaimTTL < time.Second {
		return fmt.Errorf("deploy: claim ttl %s: must be at least 1s", c.ClaimTTL)
	}
	return nil
}

// Handler is the deploy workflow.
type Handler struct {
	Config    Config
	Target    Target
	Claims    workflows.Claims
	Publisher Publisher
	Store     Store
	Now       func() time.Time
	// Locks, Queue and Ancestry are optional: without them deploys are
	// neither serialised per environment nor ordered (see lock.go, order.go).
	Locks    Locks
	Queue    Queue
	Ancestry Ancestry
}

// HandleBuilt requests the deploy of a commit built on the default branch to
// staging.
func (h *Handler) HandleBuilt(ctx context.Context, e *events.CommitBuilt) error {
	if e.Branch != e.Repo.DefaultBranch {
		return events.Ignored("commit built on %q: staging follows %q", e.Branch, e.Repo.DefaultBranch)
	}
	req := &events.DeployRequested{
		Env: h.Config.StagingEnv, Repo: e.Repo, Commit: e.Commit, Images: e.Images,
		Trigger: e.DedupKey(), Actor: "slipway",
	}
	if e.Push != "" { // a force-push back: a deliberate move of the branch
		req.Nonce, req.Explicit = events.MoveNonce(e.Push), true
	}
	if _, err := h.Publisher.Publish(ctx, req); err != nil {
		return fmt.Errorf("request deploy to %s: %w", req.Env, err)
	}
	return nil
}

// HandleDeploy applies one deploy request, once.
func (h *Handler) HandleDeploy(ctx context.Context, e *events.DeployRequested) error {
	key := e.DedupKey()
	locked, unlock, err := h.lockEnv(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	lease, err := h.Claims.Claim(ctx, key, h.Config.ClaimTTL)
	switch {
	case errors.Is(err, workflows.ErrClaimHeld):
		return events.Retryable(err, h.Config.ClaimTTL/2)
	case err != nil:
		return err
	}
	work, stop := workflows.KeepLease(locked, lease, h.Config.ClaimTTL/3)
	outcome, err := h.apply(work, e)
	err = workflows.LeaseErr(work, err)
	stop()
	if err != nil && !events.IsPermanent(err) {
		return errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	b, _ := json.Marshal(map[string]string{"outcome": outcome})
	return errors.Join(err, lease.Complete(ctx, b))
}

// apply deploys unless the environment already runs the commit, and records
// and announces the result.
func (h *Handler) apply(ctx context.Context, e *events.DeployRequested) (outcome string, err error) {
	log := zerolog.Ctx(ctx).With().Str("env", e.Env).Str("sha", e.Commit).Logger()
	cur, err := h.Target.Current(ctx, e.Env)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", e.Env, err)
	}
	if runs(cur, e) {
		log.Info().Msg("environment already runs this commit: nothing to do")
		return "unchanged", nil
	}
	if reason, err := h.overtaken(ctx, cur.Commit(), e); err != nil || reason != "" {
		return h.supersede(ctx, e, cur.Commit(), reason, err)
	}
	res := events.DeployResult{
		Env: e.Env, Repo: e.Repo, Commit: e.Commit, Images: e.Images, Trigger: e.Trigger,
		Actor: e.Actor, Previous: cur.Commit(), StartedAt: h.now(), Request: e.DedupKey(),
	}
	log.Info().Str("previous", res.Previous).Msg("deploy started")
	err = h.Target.Deploy(ctx, Deployment{Env: e.Env, Repo: e.Repo.FullName, Commit: e.Commit, Images: e.Images})
	res.Duration = h.now().Sub(res.StartedAt)
	if err != nil {
		if !events.IsPermanent(err) {
			return "", err
		}
		res.Reason = err.Error()
		log.Error().Err(err).Msg("deploy failed; previous commit keeps serving")
		return "failed", errors.Join(err, h.publish(ctx, &events.DeployFailed{DeployResult: res}))
	}
	state := State{Env: e.Env, Repo: e.Repo, Commit: e.Commit, Images: e.Images, Request: res.Request, DeployedAt: h.now()}
	if err := h.Store.Record(ctx, state); err != nil {
		return "", err
	}
	log.Info().Dur("took", res.Duration).Msg("deploy succeeded")
	return "deployed", h.publish(ctx, &events.DeploySucceeded{DeployResult: res})
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
// with as many replicas as requested when the Target reports them (Addrs).
func runs(cur Release, e *events.DeployRequested) bool {
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
	}
	return true
}
