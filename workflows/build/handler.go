package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Config configures the build workflow.
type Config struct {
	// Registry is the host (and port) images are pushed to, "localhost:5000".
	Registry string
	// ClaimTTL is the lease of a running build; it is renewed while the
	// build runs and taken over by another worker when this one dies.
	ClaimTTL time.Duration
}

// Validate reports a missing registry or lease.
func (c Config) Validate() error {
	if c.Registry == "" {
		return errors.New("build: registry is required")
	}
	if c.ClaimTTL < time.Second {
		return fmt.Errorf("build: claim ttl %s: must be at least 1s", c.ClaimTTL)
	}
	return nil
}

// Handler is the build workflow. Planner plans its pushes, admits its
// build requests and tells the services of a commit.
type Handler struct {
	Config    Config
	Source    Source
	Builder   Builder
	Claims    workflows.Claims
	Publisher Publisher
	Planner   *Planner
	// Objects, Outputs and Tagger, when Outputs is set, make builds
	// content-addressed (key.go, reuse.go): a service whose build key was
	// built before is tagged for the new commit instead of solved.
	Objects Objects
	Outputs Outputs
	Tagger  Tagger
	// Logs, when set, records each build's progress (steps and output).
	Logs Logs

	stamps  stamps
	objects objectMemo
}

// record is what a completed build claim holds.
type record struct {
	Service events.ServiceSpec `json:"service"`
	Image   string             `json:"image,omitempty"`
	Digest  string             `json:"digest,omitempty"`
	Failed  string             `json:"failed,omitempty"`
	// Key is the build key (BuildKey); ReusedFrom the commit whose image
	// of that key was tagged instead of solving.
	Key        string `json:"key,omitempty"`
	ReusedFrom string `json:"reused_from,omitempty"`
	// Step and Output are the failing step and its last lines.
	Step   string   `json:"step,omitempty"`
	Output []string `json:"output,omitempty"`
	// StartedAt and Duration time the solve.
	StartedAt time.Time     `json:"started_at,omitzero"`
	Duration  time.Duration `json:"duration_ns,omitempty"`
}

// HandlePush plans the builds of a commit pushed to the default branch
// with the Planner: one BuildRequested per service declared in its
// slipway.yaml. A force-push back to a commit whose services are all built
// is announced built again instead (movedBack).
func (h *Handler) HandlePush(ctx context.Context, e *events.PushReceived) error {
	if err := h.Planner.Admit(e.Repo, e.After); err != nil {
		return err
	}
	if e.Branch == "" || e.Branch != e.Repo.DefaultBranch {
		return events.Ignored("push to %q: only the default branch %q is built", e.Branch, e.Repo.DefaultBranch)
	}
	if e.Forced {
		if done, err := h.movedBack(ctx, e); done || err != nil {
			return err
		}
	}
	return h.Planner.Plan(ctx, e.Repo, e.After, e.Branch)
}

// movedBack announces again, as built, a commit a force-push moved the
// branch back to when every service of it is built already: its build
// requests and commit-built event carry the ids of the first time and would
// be dropped as duplicates or done, so the environments following the
// branch would keep serving a commit no longer on it. The event names the
// push, which makes it new (and its deploys explicit); a redelivery of the
// push has the same key. done is false when some service still needs a
// build, or the commit's slipway.yaml cannot be read: the Planner then
// requests the builds, or fails the commit.
func (h *Handler) movedBack(ctx context.Context, e *events.PushReceived) (done bool, err error) {
	names, err := h.serviceNames(ctx, e.Repo, e.After)
	if err != nil {
		return false, nil
	}
	images, err := BuiltImages(ctx, h.Claims, e.Repo.FullName, e.After, names)
	if errors.Is(err, ErrNotBuilt) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	built := &events.CommitBuilt{Repo: e.Repo, Commit: e.After, Branch: e.Branch, Images: images, Push: e.DedupKey()}
	if _, err := h.Publisher.Publish(ctx, built); err != nil {
		return false, fmt.Errorf("publish commit built again: %w", err)
	}
	zerolog.Ctx(ctx).Info().Str("repo", e.Repo.FullName).Str("sha", e.After).Str("before", e.Before).
		Msg("force-push back to a built commit: announced built again")
	return true, nil
}

// serviceNames returns the names of the services of a commit from its
// slipway.yaml, which a commit never changes: what the completion of a
// commit checks, instead of each build request carrying the list.
func (h *Handler) serviceNames(ctx context.Context, repo events.Repo, sha string) ([]string, error) {
	m, err := h.Planner.Manifest(ctx, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("read services of %s: %w", sha, err)
	}
	return m.Names(), nil
}

// failCommit publishes a commit-level build failure and returns the cause as
// a permanent error.
func (h *Handler) failCommit(ctx context.Context, repo events.Repo, sha, branch string, cause error) error {
	return failCommit(ctx, h.Publisher, repo, sha, branch, cause)
}

// ImageRef is the tag of a service image of a commit:
// "<registry>/<owner>/<name>/<service>:<sha>", lower-cased as registries want.
func ImageRef(registry, repo, service, sha string) string {
	return imageName(registry, repo, service) + ":" + sha
}

// CacheRef is the registry reference holding a service's layer cache.
func CacheRef(registry, repo, service string) string {
	return imageName(registry, repo, service) + ":buildcache"
}

func imageName(registry, repo, service string) string {
	return strings.ToLower(registry + "/" + repo + "/" + service)
}

func decodeRecord(b []byte) (record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode build record: %w", err)
	}
	return r, nil
}
