package hosts

import (
	"context"
	"errors"
	"sort"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Legacy claims, for the environments whose records were migrated from
// before environments were scoped by repository (natsstore.EnvStore.Migrate),
// the hosts they served then: "<service>.<env>.<domain>" for every service,
// and the hosts the services declared (the first environment by name kept
// a host two declared, as before). It gives each repository its label. A
// host claimed meanwhile by another environment stays with it. Running it
// again changes nothing.
func (c *Claimer) Legacy(ctx context.Context, states []deploy.State) error {
	states = append([]deploy.State(nil), states...)
	sort.Slice(states, func(i, j int) bool { return states[i].Env < states[j].Env })
	var errs []error
	for _, st := range states {
		repo := st.Repo.FullName
		if _, err := c.Label(ctx, repo); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, img := range st.Images {
			svc := img.Service.Name
			hosts := append([]string{svc + "." + st.Env + "." + Normalize(c.Domain)}, img.Service.Hosts...)
			for _, h := range hosts {
				want := Claim{Host: Normalize(h), Repo: repo, Env: st.Env, Service: svc, Kind: KindLegacy}
				got, err := c.Store.Create(ctx, want)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if got != want && !got.owns(repo, st.Env) {
					zerolog.Ctx(ctx).Warn().Str("host", want.Host).Str("holder", got.Repo+" "+got.Env).Msg("host served before the upgrade is claimed by another environment")
				}
			}
		}
	}
	return errors.Join(errs...)
}
