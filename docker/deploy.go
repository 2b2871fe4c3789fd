package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// cleanupTimeout bounds the removal of candidates after a failed or
// interrupted deploy, which runs even when the deploy's context is done.
const cleanupTimeout = 30 * time.Second

// Deploy makes env run d: it starts one candidate container per replica of
// each image, waits
// until every one is healthy, then promotes them to the live names and
// removes the containers they replace and those of services d no longer has.
// When any candidate fails, every candidate is removed, the running release
// is left untouched and the error is events.Permanent.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	if err := checkDeployment(d); err != nil {
		return events.Permanent(err)
	}
	if err := t.opts.Limits.checkServices(d.Images); err != nil {
		return events.Permanent(err)
	}
	defer t.lock(d.Repo, d.Env)()
	log := zerolog.Ctx(ctx).With().Str("repo", d.Repo).Str("env", d.Env).Str("commit", d.Commit).Logger()
	ctx = log.WithContext(ctx)
	started := time.Now()

	existing, err := t.listAdopted(ctx, d.Repo, d.Env)
	if err != nil {
		return err
	}
	recs, err := t.records(ctx, d.Repo, d.Env)
	if err != nil {
		return err
	}
	existing = relabel(existing, current(recs))
	if upToDate(existing, d) {
		log.Info().Msg("deploy skipped: environment already runs this release")
		return nil
	}
	cleared, err := t.clearLeftovers(ctx, existing)
	if err != nil {
		return err
	}
	var from []container.Summary
	if d.From != "" && d.From != d.Env {
		if from, err = t.list(ctx, d.Repo, d.From); err != nil {
			return err
		}
	}
	cands, err := t.startAll(ctx, d, existing, from, t.waitHealthy)
	if err != nil {
		t.discard(ctx, cands)
		return err
	}
	log.Debug().Dur("elapsed", time.Since(started)).Msg("candidates healthy")
	listed := existing
	if cleared {
		listed = nil // renamed or removed since: promoteAll lists again
	}
	if err := t.promoteAll(ctx, d, cands, listed); err != nil {
		return err
	}
	log.Info().Dur("duration", time.Since(started)).Int("services", len(d.Images)).Int("containers", len(cands)).Msg("deploy succeeded")
	return nil
}

// checkDeployment rejects a deployment no retry can make work.
func checkDeployment(d deploy.Deployment) error {
	if err := checkName("environment", d.Env); err != nil {
		return err
	}
	if d.Repo == "" {
		return errors.New("deployment names no repository")
	}
	if d.From != "" {
		if err := checkName("environment moved from", d.From); err != nil {
			return err
		}
	}
	if d.Commit == "" {
		return errors.New("deployment has no commit")
	}
	if len(d.Images) == 0 {
		return errors.New("deployment has no images")
	}
	seen := map[string]bool{}
	names := map[string]string{} // live name to the service that has it
	for _, img := range d.Images {
		s := img.Service
		if err := checkName("service", s.Name); err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("service %s appears twice", s.Name)
		}
		seen[s.Name] = true
		if s.Replicas < 0 {
			return fmt.Errorf("service %s has a negative replica count (%d)", s.Name, s.Replicas)
		}
		for i := range replicas(s) {
			name := ReplicaName(d.Repo, d.Env, s.Name, i)
			if other, ok := names[name]; ok {
				return fmt.Errorf("services %s and %s both need the container name %s", other, s.Name, name)
			}
			names[name] = s.Name
		}
		if s.Port <= 0 || s.Port > 65535 {
			return fmt.Errorf("service %s has no valid port (%d)", s.Name, s.Port)
		}
		if _, err := pinned(img.Ref, img.Digest); err != nil {
			return fmt.Errorf("service %s: %w", s.Name, err)
		}
	}
	return nil
}

// upToDate reports whether the live containers of an environment are
// exactly d's images at d's commit, every replica of each, all running,
// with the versions of d's secrets, with nothing else beside. Live names
// are unique, so as many live containers as d has replicas, each a replica
// d has, are all of them.
func upToDate(existing []container.Summary, d deploy.Deployment) bool {
	total := 0
	want := map[string]events.Image{}
	for _, img := range d.Images {
		want[img.Service.Name] = img
		total += replicas(img.Service)
	}
	if len(existing) != total {
		return false
	}
	for _, c := range existing {
		l := c.Labels
		img, ok := want[l[LabelService]]
		if !ok || !liveOf(c) || c.State != "running" || l[LabelCommit] != d.Commit ||
			l[LabelDigest] != img.Digest || replicaOf(l) >= replicas(img.Service) || l[LabelSecrets] != secretsLabel(d, img.Service) {
			return false
		}
	}
	return true
}

// discard removes every candidate after a failed or interrupted deploy, with
// a context of its own so an interruption cannot leave candidates behind.
func (t *Target) discard(ctx context.Context, cands []*candidate) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, c := range cands {
		if c.moved {
			continue
		}
		if err := t.forceRemove(ctx, c.id); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Str("container", c.name).Msg("remove candidate")
		}
	}
}
