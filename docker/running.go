package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// SpecLabel returns LabelSpec's value for s, for a target that labels
// something other than containers (a Swarm service).
func SpecLabel(s events.ServiceSpec) string { return specLabel(s) }

// specLabel returns the LabelSpec of s: what running it needs, none of
// what building it or its tasks need (target.RunSpec).
func specLabel(s events.ServiceSpec) string { return target.RunSpec(s) }

// SpecOf reads the service a container's labels declare. ok is false for a
// container without LabelSpec (started by an earlier version).
func SpecOf(labels map[string]string) (events.ServiceSpec, bool) {
	var s events.ServiceSpec
	raw, found := labels[LabelSpec]
	if !found || json.Unmarshal([]byte(raw), &s) != nil || s.Name == "" {
		return events.ServiceSpec{}, false
	}
	return s, true
}

// Running returns the deployment env of repo runs, read back from its live
// containers in one call to the daemon, so that it can be deployed again (a
// rollback of other hosts to it). d has no Commit when nothing runs, the
// services run different commits, or a container carries no LabelSpec.
// complete is true when d runs exactly as a finished Deploy of it leaves it
// (every replica live and running, nothing else beside), so that deploying
// it again is a no-op.
func (t *Target) Running(ctx context.Context, repo, env string) (d deploy.Deployment, complete bool, err error) {
	cs, err := t.listRecorded(ctx, repo, env)
	if err != nil {
		return deploy.Deployment{}, false, err
	}
	d = deploy.Deployment{Repo: repo, Env: env}
	for _, group := range liveReplicas(cs) {
		l := group[0].Labels
		spec, found := SpecOf(l)
		if !found || (d.Commit != "" && l[LabelCommit] != d.Commit) {
			return deploy.Deployment{}, false, nil
		}
		d.Commit = l[LabelCommit]
		d.Images = append(d.Images, events.Image{Service: spec, Ref: l[LabelImage], Digest: l[LabelDigest]})
	}
	if len(d.Images) == 0 {
		return deploy.Deployment{}, false, nil
	}
	sort.Slice(d.Images, func(i, j int) bool { return d.Images[i].Service.Name < d.Images[j].Service.Name })
	if err := checkDeployment(d); err != nil {
		return deploy.Deployment{}, false, fmt.Errorf("read running release of %s: %w", events.EnvID{Repo: repo, Env: env}, err)
	}
	return d, upToDate(cs, d), nil
}
