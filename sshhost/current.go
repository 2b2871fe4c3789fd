package sshhost

import (
	"context"
	"sort"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Current returns what env of repo runs across the hosts: a service's
// Commit, Image and Digest when every host runs the same, Running only when
// it runs complete on every host, its Replicas and Up summed over the
// hosts. A host that cannot be reached fails the call. Addr and Addrs stay
// empty: each host's proxy routes to its own containers.
func (t *Target) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	rels := make([]deploy.Release, len(t.hosts))
	errs := eachHost(ctx, t.hosts, func(ctx context.Context, h *host) error {
		rel, err := h.docker.Current(ctx, repo, env)
		rels[t.index(h)] = rel
		return err
	})
	if err := joinPolicy(errs); err != nil {
		return deploy.Release{}, err
	}
	return merge(repo, env, rels), nil
}

// merge folds the releases of every host into one.
func merge(repo, env string, rels []deploy.Release) deploy.Release {
	type acc struct {
		s     deploy.ServiceState
		hosts int
	}
	bySvc := map[string]*acc{}
	for _, rel := range rels {
		for _, s := range rel.Services {
			a, ok := bySvc[s.Name]
			if !ok {
				a = &acc{s: deploy.ServiceState{Name: s.Name, Commit: s.Commit, Image: s.Image, Digest: s.Digest, Running: true}}
				bySvc[s.Name] = a
			}
			a.hosts++
			if s.Commit != a.s.Commit || s.Digest != a.s.Digest {
				a.s.Commit, a.s.Image, a.s.Digest, a.s.Running = "", "", "", false
			}
			a.s.Running = a.s.Running && s.Running
			a.s.Replicas += max(s.Replicas, 1)
			a.s.Up += s.Up
		}
	}
	out := deploy.Release{Repo: repo, Env: env}
	for _, a := range bySvc {
		if a.hosts != len(rels) {
			a.s.Running = false
		}
		out.Services = append(out.Services, a.s)
	}
	sort.Slice(out.Services, func(i, j int) bool { return out.Services[i].Name < out.Services[j].Name })
	return out
}
