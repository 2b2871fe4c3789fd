package swarm

import (
	"maps"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// restartDelay is how long a live task that exited waits before Swarm
// starts it again.
const restartDelay = time.Second

// serviceSpec returns the Swarm service of img in d, as a candidate: its
// labels, its image by digest, its replicas, its limits, its port
// published in host mode on a port the node picks.
func (t *Target) serviceSpec(d deploy.Deployment, img events.Image) (swarm.ServiceSpec, error) {
	s := img.Service
	res, err := t.opts.Docker.Limits.Resources(s)
	if err != nil {
		return swarm.ServiceSpec{}, events.Permanent(err)
	}
	n := uint64(max(s.Replicas, 1))
	delay := restartDelay
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{
			Name: ServiceName(d.Repo, d.Env, s.Name, d.Commit, img.Digest),
			Labels: map[string]string{
				docker.LabelRepo: d.Repo, docker.LabelEnv: d.Env, docker.LabelService: s.Name,
				docker.LabelCommit: d.Commit, docker.LabelDigest: img.Digest, docker.LabelImage: img.Ref,
				docker.LabelPort: strconv.Itoa(s.Port), docker.LabelReplicas: strconv.FormatUint(n, 10),
				docker.LabelSpec: docker.SpecLabel(s), LabelRole: RoleCandidate, LabelStarted: d.Commit,
			},
		},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image: img.Ref + "@" + img.Digest,
				Env:   docker.Environment(d, s),
				User:  s.User,
				// A task's container carries the commit it was started at,
				// as a docker target's container does.
				Labels: map[string]string{docker.LabelCommit: d.Commit},
			},
			Resources: &swarm.ResourceRequirements{Limits: &swarm.Limit{
				NanoCPUs: int64(res.CPUs * 1e9), MemoryBytes: res.Memory, Pids: res.Pids,
			}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, Delay: &delay},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}},
		EndpointSpec: &swarm.EndpointSpec{
			// DNS round robin and host-mode ports: no virtual IP, no
			// ingress routing mesh, so no IPVS on the nodes.
			Mode: swarm.ResolutionModeDNSRR,
			Ports: []swarm.PortConfig{{
				Protocol: swarm.PortConfigProtocolTCP, TargetPort: uint32(s.Port),
				PublishMode: swarm.PortConfigPublishModeHost,
			}},
		},
	}
	if v := target.SecretsKey(d, s); v != "" {
		spec.Labels[docker.LabelSecrets] = v
	}
	return spec, nil
}

// sameRelease reports whether live service s runs img of d.
func sameRelease(s swarm.Service, d deploy.Deployment, img events.Image) bool {
	l := s.Spec.Labels
	return l[docker.LabelCommit] == d.Commit && l[docker.LabelDigest] == img.Digest
}

// unchanged reports whether live service s runs img as d declares it, at
// whatever commit (target.Unchanged), with every task it declares
// running: d keeps its tasks and relabels it.
func unchanged(s swarm.Service, d deploy.Deployment, img events.Image) bool {
	l := s.Spec.Labels
	was := target.Values{Ref: l[docker.LabelImage], Digest: l[docker.LabelDigest], Spec: l[docker.LabelSpec], Secrets: l[docker.LabelSecrets]}
	return target.Unchanged(was, d, img) && s.ServiceStatus != nil && s.ServiceStatus.RunningTasks == uint64(declared(s))
}

// relabel returns the labels of kept service s serving img of d: its
// commit d's, its image img's reference (the same digest), the commit its
// tasks were started at kept in LabelStarted.
func relabel(s swarm.Service, d deploy.Deployment, img events.Image) map[string]string {
	l := maps.Clone(s.Spec.Labels)
	if l[LabelStarted] == "" {
		l[LabelStarted] = l[docker.LabelCommit]
	}
	l[docker.LabelCommit], l[docker.LabelImage] = d.Commit, img.Ref
	return l
}
