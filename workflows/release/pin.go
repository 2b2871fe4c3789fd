package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/build"
)

// HandlePush deploys the commit a pin file names when a push to the default
// branch changed that file: the merge of a release pull request. The images
// are those built for the pinned commit; nothing is built.
func (h *Handler) HandlePush(ctx context.Context, e *events.PushReceived) error {
	if e.Branch == "" {
		return events.Ignored("push without a branch")
	}
	if e.Branch != e.Repo.DefaultBranch {
		return h.buildBranch(ctx, e)
	}
	_, envs, err := h.environments(ctx, e.Repo, e.After)
	if events.IsPermanent(err) {
		return events.Ignored("push %s: %v", short(e.After), err)
	}
	if err != nil {
		return err
	}
	moved := 0
	for _, env := range envs {
		if env.Follows != manifest.FollowsPin {
			continue
		}
		sha, err := h.pinChange(ctx, e, env)
		if err != nil {
			return err
		}
		if sha == "" {
			continue
		}
		if err := h.deployPinned(ctx, e, env, sha); err != nil {
			return err
		}
		moved++
	}
	if moved == 0 {
		return events.Ignored("push %s changes no pin file", short(e.After))
	}
	return nil
}

// pinChange returns the commit env's pin file names after the push when the
// push changed it, or "". A pin file that is new, or whose previous content
// cannot be read, counts as changed unless the environment already runs it.
func (h *Handler) pinChange(ctx context.Context, e *events.PushReceived, env manifest.Environment) (string, error) {
	after, err := ReadPin(ctx, h.Source, e.Repo, e.After, env.Pin)
	if events.IsPermanent(err) {
		zerolog.Ctx(ctx).Error().Err(err).Str("env", env.Name).Str("pin", env.Pin).Msg("invalid pin file: environment not moved")
		return "", nil
	}
	if err != nil || after == "" {
		return "", err
	}
	before := ""
	if e.Before != "" && !isZero(e.Before) {
		before, _ = ReadPin(ctx, h.Source, e.Repo, e.Before, env.Pin)
	}
	if before == after {
		return "", nil
	}
	if before == "" && h.Envs != nil {
		st, ok, err := h.Envs.Get(ctx, e.Repo.FullName, env.Name)
		if err != nil {
			return "", err
		}
		if ok && st.Commit == after {
			return "", nil
		}
	}
	return after, nil
}

// deployPinned requests the deploy of sha to env from its built images, or
// records a failed deploy when sha was never built.
func (h *Handler) deployPinned(ctx context.Context, e *events.PushReceived, env manifest.Environment, sha string) error {
	req, err := h.Request(ctx, e.Repo, env, sha)
	if errors.Is(err, build.ErrNotBuilt) || events.IsPermanent(err) {
		refused := (&events.DeployRequested{Env: env.Name, Repo: e.Repo, Commit: sha, Target: env.Target}).Ask(events.KindRelease, e.DedupKey(), e.Pusher, short(e.After))
		res := refused.Result(events.OutcomeFailed, "", h.now())
		res.Reason = fmt.Sprintf("release of %s: %v; a release deploys only a commit built before", short(sha), err)
		zerolog.Ctx(ctx).Error().Err(err).Str("env", env.Name).Str("sha", sha).Msg("release refused")
		_, perr := h.Publisher.Publish(ctx, res.Event())
		return perr
	}
	if err != nil {
		return err
	}
	req.Ask(events.KindRelease, e.DedupKey(), e.Pusher, short(e.After))
	if _, err := h.Publisher.Publish(ctx, req); err != nil {
		return fmt.Errorf("request release of %s to %s: %w", short(sha), env.Name, err)
	}
	zerolog.Ctx(ctx).Info().Str("env", env.Name).Str("sha", sha).Str("push", e.After).Msg("release requested")
	return nil
}

// Request returns the deploy request of sha to env from the images built
// for sha, with the values env declares at sha (or, when sha's slipway.yaml
// does not declare env, those of env as given). Its kind, trigger and
// actor are the caller's to set (DeployRequested.Ask). A commit not built is an error wrapping
// build.ErrNotBuilt.
func (h *Handler) Request(ctx context.Context, repo events.Repo, env manifest.Environment, sha string) (*events.DeployRequested, error) {
	m, err := h.Planner.Manifest(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	if declared, ok := m.Environment(env.Name); ok && m.DeclaresEnvironments() {
		declared.Name = env.Name // a preview keeps its own name
		env = declared
	}
	images, err := build.BuiltImagesOf(ctx, h.Claims, repo.FullName, sha, m.Services())
	if err != nil {
		return nil, err
	}
	return &events.DeployRequested{Env: env.Name, Repo: repo, Commit: sha, Images: env.Apply(images), Target: env.Target, Retain: env.Retain, Rollout: env.Rollout}, nil
}

// ReadPin returns the commit the pin file at path names at commit sha, or
// "" when the commit has no such file. An invalid pin file is a permanent
// error.
func ReadPin(ctx context.Context, src Source, repo events.Repo, sha, path string) (string, error) {
	data, err := src.ReadFile(ctx, repo, sha, path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", path, short(sha), err)
	}
	pinned, err := manifest.ParsePin(data)
	if err != nil {
		return "", fmt.Errorf("%s at %s: %w", path, short(sha), err)
	}
	return pinned, nil
}

func isZero(sha string) bool {
	for i := 0; i < len(sha); i++ {
		if sha[i] != '0' {
			return false
		}
	}
	return true
}
