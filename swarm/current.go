package swarm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// services returns the Slipway services of env of repo, live and
// candidate, with their task counts.
func (t *Target) services(ctx context.Context, repo, env string) ([]swarm.Service, error) {
	svcs, err := t.cli.ServiceList(ctx, swarm.ServiceListOptions{Status: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelRepo+"="+repo), filters.Arg("label", docker.LabelEnv+"="+env),
	)})
	if err != nil {
		return nil, t.managerError(ctx, "list services", err)
	}
	// The filter matches a label's prefix on some daemons: keep exact ones.
	out := svcs[:0]
	for _, s := range svcs {
		if l := s.Spec.Labels; l[docker.LabelRepo] == repo && l[docker.LabelEnv] == env {
			out = append(out, s)
		}
	}
	return out, nil
}

// live returns the live service of each service name in svcs. Two live
// services of one name are what a deploy interrupted between promoting the
// new one and removing the old one leaves: the one promoted last (updated
// last) is live, and the next deploy removes the other.
func live(svcs []swarm.Service) map[string]swarm.Service {
	m := map[string]swarm.Service{}
	for _, s := range svcs {
		if s.Spec.Labels[LabelRole] != RoleLive {
			continue
		}
		name := s.Spec.Labels[docker.LabelService]
		if prev, ok := m[name]; !ok || s.UpdatedAt.After(prev.UpdatedAt) {
			m[name] = s
		}
	}
	return m
}

// replica is one task of a service meant to run: its slot, node and
// published address.
type replica struct {
	task swarm.Task
	node string // the node's address
	addr string // "<node address>:<published port>", "" before it publishes
}

// replicas returns the tasks of services meant to run, by service id,
// each list sorted by slot.
func (t *Target) replicas(ctx context.Context, svcs []swarm.Service) (map[string][]replica, error) {
	out := map[string][]replica{}
	if len(svcs) == 0 {
		return out, nil
	}
	args := filters.NewArgs(filters.Arg("desired-state", "running"))
	for _, s := range svcs {
		args.Add("service", s.ID)
	}
	tasks, err := t.cli.TaskList(ctx, swarm.TaskListOptions{Filters: args})
	if err != nil {
		return nil, t.managerError(ctx, "list tasks", err)
	}
	nodes, err := t.nodeAddrs(ctx)
	if err != nil {
		return nil, err
	}
	for _, task := range tasks {
		r := replica{task: task, node: nodes[task.NodeID]}
		if r.node == "" {
			r.node = "node " + task.NodeID
		}
		for _, p := range task.Status.PortStatus.Ports {
			if p.PublishedPort != 0 && nodes[task.NodeID] != "" {
				r.addr = net.JoinHostPort(nodes[task.NodeID], strconv.Itoa(int(p.PublishedPort)))
				break
			}
		}
		out[task.ServiceID] = append(out[task.ServiceID], r)
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].task.Slot < rs[j].task.Slot })
	}
	return out, nil
}

// nodeAddrs returns every node's address by id.
func (t *Target) nodeAddrs(ctx context.Context) (map[string]string, error) {
	nodes, err := t.cli.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, t.managerError(ctx, "list nodes", err)
	}
	addrs := map[string]string{}
	for _, n := range nodes {
		addrs[n.ID] = n.Status.Addr
	}
	return addrs, nil
}

// Current returns the live services of env of repo, sorted by name, as the
// swarm reports them. A service is Running when every replica its release
// declares is a task that runs and publishes its port (when a node goes
// down, the swarm stops meaning its tasks to run and starts others
// elsewhere); Instances are its
// tasks in slot order, Replica their place in it.
func (t *Target) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	svcs, err := t.services(ctx, repo, env)
	if err != nil {
		return deploy.Release{}, err
	}
	var lives []swarm.Service
	for _, s := range live(svcs) {
		lives = append(lives, s)
	}
	reps, err := t.replicas(ctx, lives)
	if err != nil {
		return deploy.Release{}, err
	}
	rel := deploy.Release{Repo: repo, Env: env}
	for _, s := range lives {
		rel.Services = append(rel.Services, serviceState(s, reps[s.ID]))
	}
	sort.Slice(rel.Services, func(i, j int) bool { return rel.Services[i].Name < rel.Services[j].Name })
	return rel, nil
}

// serviceState reads one live service back from its labels and tasks.
func serviceState(s swarm.Service, reps []replica) deploy.ServiceState {
	l := s.Spec.Labels
	st := deploy.ServiceState{
		Name: l[docker.LabelService], Commit: l[docker.LabelCommit],
		Image: l[docker.LabelImage], Digest: l[docker.LabelDigest],
		Replicas: declared(s),
	}
	for i, r := range reps {
		running := r.task.Status.State == swarm.TaskStateRunning && r.addr != ""
		if running {
			st.Up++
		}
		st.Addrs = append(st.Addrs, r.addr)
		st.Instances = append(st.Instances, deploy.Instance{
			Node: r.node, ID: r.task.ID, Replica: i, Addr: r.addr, Commit: st.Commit, Digest: st.Digest, Running: running,
		})
	}
	st.Running = len(reps) == st.Replicas && st.Up == st.Replicas
	if len(st.Addrs) > 0 {
		st.Addr = st.Addrs[0]
	}
	return st
}

// declared returns how many replicas s declares.
func declared(s swarm.Service) int {
	if s.Spec.Mode.Replicated == nil || s.Spec.Mode.Replicated.Replicas == nil {
		return 0
	}
	return int(*s.Spec.Mode.Replicated.Replicas)
}

// ResolveAll returns the address of every running task of the live
// service, in slot order.
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	rel, err := t.Current(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, s := range rel.Services {
		if s.Name != service {
			continue
		}
		for _, in := range s.Instances {
			if in.Running {
				addrs = append(addrs, in.Addr)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("service %s of %s in %s: %w", service, env, repo, target.ErrNotLive)
	}
	return addrs, nil
}

// Remove removes every service of env of repo, live or candidate.
func (t *Target) Remove(ctx context.Context, repo, env string) error {
	if repo == "" || env == "" {
		return events.Permanent(errors.New("remove " + env + " of " + repo + ": want a repository and an environment"))
	}
	defer t.lock(repo, env)()
	svcs, err := t.services(ctx, repo, env)
	if err != nil {
		return err
	}
	return t.removeAll(ctx, svcs)
}

// removeAll removes svcs; one already gone is not an error.
func (t *Target) removeAll(ctx context.Context, svcs []swarm.Service) error {
	for _, s := range svcs {
		if err := t.cli.ServiceRemove(ctx, s.ID); err != nil && !isNotFound(err) {
			return t.managerError(ctx, "remove service "+s.Spec.Name, err)
		}
	}
	return nil
}

// isNotFound reports whether the manager answered that a thing is gone.
func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }
