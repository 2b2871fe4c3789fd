package build

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// tagWidth is how many tags of a commit TagReused puts at once: a registry
// writes manifests one after another (4 at once put 48 tags as fast as 48
// did), and the tags run beside the commit's deploy.
const tagWidth = 4

// TagReused puts, once a commit is built, the tag <service>:<commit> of
// every image its builds reused (reuse.go) instead of solving. The reuse
// checked that the registry has the manifest and recorded its digest, and
// every deploy pins digests, so the tags (a manifest PUT each, which a
// registry writes one after another) are off the path from push to
// serving: a docs-only commit of 50 services spent most of its time to
// commit built in them. A failed tag is retried by redelivery; putting a
// tag again is harmless. A build whose claim record is gone (expired) is
// skipped: the builder that answers it from the read model tags it again
// (records.go).
func (h *Handler) TagReused(ctx context.Context, e *events.CommitBuilt) error {
	if h.Tagger == nil {
		return events.Ignored("no registry to tag in")
	}
	if err := h.Planner.Admit(e.Repo, e.Commit); err != nil {
		return err
	}
	log := zerolog.Ctx(ctx).With().Str("repo", e.Repo.FullName).Str("sha", e.Commit).Logger()
	errs := make([]error, len(e.Images))
	slots := make(chan struct{}, tagWidth)
	var wg sync.WaitGroup
	var tagged atomic.Int32
	for i, img := range e.Images {
		rec, ok, err := h.reusedRecord(ctx, e, img.Service.Name)
		if err != nil {
			errs[i] = err
			continue
		}
		if !ok || rec.Digest != img.Digest {
			continue
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			name := repoPath(h.Config.Registry, imageName(h.Config.Registry, e.Repo.FullName, img.Service.Name))
			err := h.Tagger.Retag(ctx, name, img.Digest, e.Commit)
			if errors.Is(err, ErrNoManifest) {
				// Gone since the reuse looked (the registry's garbage
				// collection): a deploy of the commit says so; a retry
				// cannot bring it back.
				log.Warn().Str("service", img.Service.Name).Str("digest", img.Digest).
					Msg("reused image gone from the registry before its commit's tag was put")
				return
			}
			if err != nil {
				errs[i] = fmt.Errorf("tag %s of %s: %w", img.Service.Name, e.Commit, err)
				return
			}
			tagged.Add(1)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if n := tagged.Load(); n > 0 {
		log.Debug().Int32("tagged", n).Msg("reused images tagged for the commit")
	}
	return nil
}

// reusedRecord returns the build record of service of e when its image was
// reused from another commit; ok is false for a solved build, or one whose
// record is gone.
func (h *Handler) reusedRecord(ctx context.Context, e *events.CommitBuilt, service string) (record, bool, error) {
	b, err := h.Claims.Result(ctx, events.ForcedKey(events.BuildKey(e.Repo.FullName, e.Commit, service), e.Force))
	if errors.Is(err, workflows.ErrNoResult) {
		return record{}, false, nil
	}
	if err != nil {
		return record{}, false, fmt.Errorf("read build of %s: %w", service, err)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return record{}, false, events.Permanent(err)
	}
	return rec, rec.ReusedFrom != "", nil
}
