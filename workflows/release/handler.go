package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/gate"
)

// Config configures the release workflow.
type Config struct {
	// StagingEnv names the environment following the default branch when
	// slipway.yaml declares no environments ("staging").
	StagingEnv string
	// PlanCommits is the most commits a release plan lists (default 50).
	PlanCommits int
}

// Validate reports an unusable configuration.
func (c Config) Validate() error {
	if c.StagingEnv == "" {
		return errors.New("release: staging environment name is required")
	}
	return nil
}

// Handler is the release workflow. Log and History are optional: without
// them a plan lists no commits and does not check staging. Planner reads
// every slipway.yaml it needs and plans the builds of followed branches;
// Source reads the pin files.
type Handler struct {
	Config    Config
	Source    Source
	Planner   Planner
	Claims    workflows.Claims
	Publisher Publisher
	Envs      Envs
	Log       Log
	History   History
	// Gate, optional, decides each automatic deploy (gate.Chain of the
	// checks and the freezes); without one every deploy goes ahead.
	Gate gate.Gate
	// Provision, optional, plans the provisioning steps of a release.
	Provision Provisioner
	// Secrets, optional, tells which secrets each environment has set, so
	// the release plan compares them (by name and state, never a value);
	// without it, secrets are compared by the names services reference.
	Secrets SecretVersions
	Now     func() time.Time
}

// ReadManifest reads and parses the slipway.yaml of a commit, for the
// operator's commands (build.ReadManifest). A missing or invalid file is a
// permanent error.
func ReadManifest(ctx context.Context, src Source, repo events.Repo, sha string) (*manifest.Manifest, error) {
	return build.ReadManifest(ctx, src, repo, sha)
}

// Environments returns the environments m declares, with the default
// staging environment named staging when m declares none.
func Environments(m *manifest.Manifest, staging string) []manifest.Environment {
	envs := m.Environments()
	if !m.DeclaresEnvironments() && staging != "" {
		for i := range envs {
			if envs[i].Name == manifest.DefaultStaging {
				envs[i].Name = staging
			}
		}
	}
	return envs
}

// environments returns the environments declared at sha. A commit whose
// slipway.yaml cannot be read any more gets the default environments.
func (h *Handler) environments(ctx context.Context, repo events.Repo, sha string) (*manifest.Manifest, []manifest.Environment, error) {
	m, err := h.Planner.Manifest(ctx, repo, sha)
	if err != nil {
		return nil, nil, err
	}
	return m, Environments(m, h.Config.StagingEnv), nil
}

// HandleBuilt requests the deploy of a built commit to every environment
// following the branch it was built on, with that environment's values.
func (h *Handler) HandleBuilt(ctx context.Context, e *events.CommitBuilt) error {
	m, envs, err := h.environments(ctx, e.Repo, e.Commit)
	if events.IsPermanent(err) {
		zerolog.Ctx(ctx).Warn().Err(err).Str("sha", e.Commit).Msg("using the default environments")
		envs, err = Environments(&manifest.Manifest{}, h.Config.StagingEnv), nil
	}
	if err != nil {
		return err
	}
	n := 0
	for _, env := range envs {
		if !env.FollowsBranchOf(e.Branch, e.Repo.DefaultBranch) {
			continue
		}
		req := (&events.DeployRequested{Env: env.Name, Repo: e.Repo, Commit: e.Commit, Images: env.Apply(e.Images), Target: env.Target, Retain: env.Retain, Rollout: env.Rollout}).
			Ask(events.KindAuto, e.DedupKey(), events.ActorSlipway, "")
		if e.Push != "" { // a force-push back: a deliberate move of the branch
			req.Nonce, req.Explicit = events.MoveNonce(e.Push), true
		}
		if e.Force != "" { // rebuilt by `slipway build -force`: a new automatic deploy
			req.Nonce = "force-" + e.Force
		}
		n++
		open, err := h.admit(ctx, req, m)
		if err != nil {
			return err
		}
		if !open {
			continue
		}
		if _, err := h.Publisher.Publish(ctx, req); err != nil {
			return fmt.Errorf("request deploy to %s: %w", env.Name, err)
		}
	}
	if n == 0 {
		return events.Ignored("commit built on %q: no environment follows that branch", e.Branch)
	}
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// short returns the first 12 characters of a commit id.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
