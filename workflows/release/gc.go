package release

import (
	"sort"
	"strconv"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Built is one image built for a commit, as the audit log recorded it.
type Built struct {
	// Name is the image without its tag, "localhost:5000/acme/shop/web".
	Name   string
	Commit string
	Digest string
	At     time.Time
}

// Retention decides which images a clean-up keeps.
type Retention struct {
	// Keep returns how many of the last commits deployed to an environment
	// keep their images.
	Keep func(id events.EnvID) int
	// MinAge keeps every image built more recently: a commit still being
	// built, or built and not deployed yet.
	MinAge time.Duration
	Now    time.Time
}

// Kept returns, by digest, why each image is kept: it ran in one of the
// last Keep commits of an environment (deploys are every environment's
// recorded deploys, oldest first), or it is younger than MinAge. Every other
// image of a built commit may be deleted.
func (r Retention) Kept(deploys map[events.EnvID][]Deploy, built []Built) map[string]string {
	keep := map[string]string{}
	envs := make([]events.EnvID, 0, len(deploys))
	for id := range deploys {
		envs = append(envs, id)
	}
	sort.Slice(envs, func(i, j int) bool {
		if envs[i].Repo != envs[j].Repo {
			return envs[i].Repo < envs[j].Repo
		}
		return envs[i].Env < envs[j].Env
	})
	for _, id := range envs {
		for i, d := range Retained(deploys[id], r.Keep(id)) {
			for _, img := range d.Images {
				if _, ok := keep[img.Digest]; !ok {
					keep[img.Digest] = id.String() + " commit " + short(d.Commit) + " (" + ordinal(i) + ")"
				}
			}
		}
	}
	for _, b := range built {
		if _, ok := keep[b.Digest]; !ok && r.Now.Sub(b.At) < r.MinAge {
			keep[b.Digest] = "built " + r.Now.Sub(b.At).Round(time.Second).String() + " ago"
		}
	}
	return keep
}

func ordinal(i int) string {
	if i == 0 {
		return "current"
	}
	return "previous " + strconv.Itoa(i)
}
