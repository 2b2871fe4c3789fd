package docker

import (
	"context"

	"github.com/docker/docker/api/types/container"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// RetainedName is the name a stopped container of an earlier release
// carries while it is retained for a rollback: its live name and
// ".kept-<id12>".
func RetainedName(repo, env, service string, replica int, id string) string {
	return ReplicaName(repo, env, service, replica) + ".kept-" + short(id)
}

// retainedOf reports whether c is a retained container: stopped, under its
// RetainedName.
func retainedOf(c container.Summary) bool {
	l := c.Labels
	return c.State != "running" && nameOf(c) == RetainedName(l[LabelRepo], l[LabelEnv], l[LabelService], replicaOf(l), c.ID)
}

// sameValues reports whether container labels l run replica i of img as d
// declares it: replica i of img's service, with the values the one rule of
// every target keeps (target.Unchanged: the digest in the same repository,
// LabelSpec, the secret versions). The commit does not count: a container
// of an earlier commit with the same values is the same service.
func sameValues(l map[string]string, d deploy.Deployment, img events.Image, i int) bool {
	return l[LabelService] == img.Service.Name && replicaOf(l) == i && target.Unchanged(valuesOf(l), d, img)
}

// valuesOf reads back from container labels l the values its container
// was started with.
func valuesOf(l map[string]string) target.Values {
	return target.Values{Ref: l[LabelImage], Digest: l[LabelDigest], Spec: l[LabelSpec], Secrets: l[LabelSecrets]}
}

// unchanged returns the live containers of img's service when every
// replica d declares runs with d's values (sameValues), one by one in
// replica order, and no more of them; nil otherwise. Such a service keeps
// its containers: a deploy restarts only what changed.
func unchanged(existing []container.Summary, d deploy.Deployment, img events.Image) []container.Summary {
	n := replicas(img.Service)
	got := make([]container.Summary, n)
	found := 0
	for _, c := range existing {
		if !liveOf(c) || c.Labels[LabelService] != img.Service.Name {
			continue
		}
		i := replicaOf(c.Labels)
		if i >= n || c.State != "running" || !sameValues(c.Labels, d, img, i) {
			return nil
		}
		got[i] = c
		found++
	}
	if found != n {
		return nil
	}
	return got
}

// retainedFor returns, in replica order, a retained container for every
// replica of img with d's values, or nil when one replica has none: a
// rollback to a retained release starts them instead of pulling and
// creating new ones.
func retainedFor(existing []container.Summary, d deploy.Deployment, img events.Image) []container.Summary {
	n := replicas(img.Service)
	got := make([]container.Summary, n)
	found := 0
	for _, c := range existing {
		i := replicaOf(c.Labels)
		if i >= n || got[i].ID != "" || !retainedOf(c) || !sameValues(c.Labels, d, img, i) {
			continue
		}
		got[i] = c
		found++
	}
	if found != n {
		return nil
	}
	return got
}

// revive makes the retained container c the candidate of replica i of img
// again, as it is: under its retained name (not live, so no route leads to
// it before it is promoted) and with the restart policy it had live. Nothing
// is asked of the daemon before its start, which is most of a rollback: a
// restart of a revived candidate during its health gate fails it as an
// exit does (exitReason), and a deploy that crashes leaves it running under
// a name that is not live, which the next deploy removes (clearLeftovers).
// It is started with the other candidates.
func (t *Target) revive(ctx context.Context, img events.Image, secrets []deploy.Secret, c container.Summary) *candidate {
	zerolog.Ctx(ctx).Debug().Str("container", nameOf(c)).Msg("retained container revived as a candidate")
	return &candidate{spec: img.Service, replica: replicaOf(c.Labels), id: c.ID, name: nameOf(c), revived: true, secrets: secrets}
}

// takeOver makes the live container c of d.From the candidate of its
// replica of img in d.Env, under the name it has: it serves d.From until
// it is promoted, renamed into d.Env.
func takeOver(d deploy.Deployment, img events.Image, c container.Summary) *candidate {
	return &candidate{spec: img.Service, replica: replicaOf(c.Labels), id: c.ID, name: nameOf(c), moved: true, secrets: deploy.ServiceSecrets(img.Service, d.Secrets)}
}

// retire stops a replaced container of env gracefully and keeps it, under
// its RetainedName in env (the environment a container moved into is not
// the one its label names), for a rollback; prune removes it once no
// retained release holds it. A container that cannot be stopped is
// removed.
func (t *Target) retire(ctx context.Context, env, id string) {
	timeout := int(t.opts.StopTimeout.Seconds())
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.opts.StopTimeout+cleanupTimeout)
	defer cancel()
	log := zerolog.Ctx(ctx)
	err := t.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: &timeout})
	if isNotFound(err) {
		return
	}
	if err == nil {
		var info container.InspectResponse
		if info, err = t.cli.ContainerInspect(ctx, id); err == nil {
			l := info.Config.Labels
			err = t.rename(ctx, id, RetainedName(l[LabelRepo], env, l[LabelService], replicaOf(l), id))
		}
	}
	if err != nil {
		log.Warn().Err(err).Str("container", short(id)).Msg("retain replaced container; removing it")
		if err := t.forceRemove(ctx, id); err != nil {
			log.Warn().Err(err).Str("container", short(id)).Msg("dispose of replaced container")
		}
	}
}

// retainCount returns how many earlier releases d keeps the containers of.
func retainCount(d deploy.Deployment) int {
	if d.Retain > 0 {
		return d.Retain
	}
	return DefaultRetain
}
