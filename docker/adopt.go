package docker

import (
	"context"
	"errors"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/rs/zerolog"
)

// Adopt renames the live containers earlier versions named without the
// repository ("slipway-<env>-<service>[-r<i>]", LegacyReplicaName) to their
// live names (ReplicaName), from their slipway.repo label, so that the
// environments of an installation upgraded in place keep serving and are
// found by Current, Resolve and the next Deploy. A container without the
// label is left alone, and so is one whose new name is taken. It returns
// how many it renamed; running it again renames nothing. Deploy adopts the
// containers of its environment by itself.
func (t *Target) Adopt(ctx context.Context) (int, error) {
	cs, err := t.cli.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", LabelEnv)),
	})
	if err != nil {
		return 0, daemonError("list containers to adopt", err)
	}
	return t.adopt(ctx, cs)
}

// adopt renames the containers of cs that carry a legacy live name.
func (t *Target) adopt(ctx context.Context, cs []container.Summary) (int, error) {
	taken := map[string]bool{}
	for _, c := range cs {
		taken[nameOf(c)] = true
	}
	n := 0
	var errs []error
	for _, c := range cs {
		l := c.Labels
		repo, env, svc, i := l[LabelRepo], l[LabelEnv], l[LabelService], replicaOf(l)
		if repo == "" || nameOf(c) != LegacyReplicaName(env, svc, i) {
			continue
		}
		name := ReplicaName(repo, env, svc, i)
		if taken[name] {
			zerolog.Ctx(ctx).Warn().Str("container", nameOf(c)).Str("name", name).Msg("not adopting a container: its new name is taken")
			continue
		}
		if err := t.rename(ctx, c.ID, name); err != nil {
			errs = append(errs, err)
			continue
		}
		taken[name] = true
		n++
		zerolog.Ctx(ctx).Info().Str("container", nameOf(c)).Str("name", name).Msg("adopted a container named before environments were scoped by repository")
	}
	return n, errors.Join(errs...)
}

// listAdopted lists the containers of env of repo after adopting those of
// them that carry a legacy name.
func (t *Target) listAdopted(ctx context.Context, repo, env string) ([]container.Summary, error) {
	cs, err := t.list(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	n, err := t.adopt(ctx, cs)
	if err != nil || n == 0 {
		return cs, err
	}
	return t.list(ctx, repo, env)
}
