package swarm

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// maxLogBytes bounds the log lines a failed deploy's error carries.
const maxLogBytes = 4096

// probeTimeout bounds one health probe.
const probeTimeout = 2 * time.Second

// tasksOf returns every task of service id Swarm still knows, those meant
// to run and its recent history.
func (t *Target) tasksOf(ctx context.Context, id string) ([]swarm.Task, error) {
	tasks, err := t.cli.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
	if err != nil {
		return nil, t.managerError(ctx, "list tasks", err)
	}
	return tasks, nil
}

// failed reports whether a task ended: a server that exits, is rejected (an
// image no node can pull) or loses its node failed its deploy.
func failed(task swarm.Task) bool {
	switch task.Status.State {
	case swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateComplete, swarm.TaskStateOrphaned:
		return true
	}
	return false
}

// gate waits until st.want tasks of st's service run, publish their port
// and answer the health path with a 2xx; a new task that ends fails it at
// once, one that does not answer within the health timeout fails it then.
func (t *Target) gate(ctx context.Context, st *step) error {
	deadline := time.Now().Add(t.opts.Docker.HealthTimeout)
	nodes, err := t.nodeAddrs(ctx)
	if err != nil {
		return err
	}
	path := target.ProbePath(st.img.Service.HealthPath)
	healthy := map[string]bool{}
	last := map[string]string{} // task id: why it is not healthy yet
	var lastTask swarm.Task
	for {
		tasks, err := t.tasksOf(ctx, st.svc.ID)
		if err != nil {
			return err
		}
		up := 0
		for _, task := range tasks {
			switch {
			case st.known[task.ID]: // a live task of a scaled service: gated before
				if task.DesiredState == swarm.TaskStateRunning && task.Status.State == swarm.TaskStateRunning {
					up++
				}
				continue
			case failed(task):
				return t.unhealthy(ctx, st, task, nodes, taskReason(task)+t.pullHint(st.img, task))
			case task.DesiredState != swarm.TaskStateRunning:
				continue
			}
			if healthy[task.ID] {
				up++
				continue
			}
			lastTask = task
			addr := taskAddr(task, nodes)
			switch {
			case task.Status.State != swarm.TaskStateRunning:
				last[task.ID] = "task is " + string(task.Status.State)
			case addr == "":
				last[task.ID] = "task publishes no port"
			default:
				if why := t.probeOnce(ctx, "http://"+addr+path); why != "" {
					last[task.ID] = "health check GET " + path + " at " + addr + ": " + why
				} else {
					healthy[task.ID] = true
					up++
				}
			}
		}
		if up >= st.want {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			reason := "no task ran within " + t.opts.Docker.HealthTimeout.String()
			if why, ok := last[lastTask.ID]; ok {
				reason = why + " (no 2xx within " + t.opts.Docker.HealthTimeout.String() + ")"
			}
			return t.unhealthy(ctx, st, lastTask, nodes, reason)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(t.opts.Docker.HealthInterval):
		}
	}
}

// taskAddr returns where task publishes its port, or "".
func taskAddr(task swarm.Task, nodes map[string]string) string {
	node := nodes[task.NodeID]
	for _, p := range task.Status.PortStatus.Ports {
		if p.PublishedPort != 0 && node != "" {
			return node + ":" + strconv.Itoa(int(p.PublishedPort))
		}
	}
	return ""
}

// taskReason says why a task ended.
func taskReason(task swarm.Task) string {
	s := task.Status
	reason := "task " + string(s.State)
	if cs := s.ContainerStatus; cs != nil && s.State != swarm.TaskStateRejected {
		reason += ": container exited with code " + strconv.Itoa(cs.ExitCode)
	}
	if s.Err != "" {
		reason += " (" + s.Err + ")"
	}
	return reason
}

// pullHint says, of a task rejected for want of its image, which registry
// its node could not pull it from and whether the deployer had credentials
// for it: Swarm reports every failed pull, refused or unreachable, as "No
// such image". It is "" for any other task.
func (t *Target) pullHint(img events.Image, task swarm.Task) string {
	if task.Status.State != swarm.TaskStateRejected || !strings.Contains(task.Status.Err, "No such image") {
		return ""
	}
	host, err := registry.Host(img.Ref)
	if err != nil {
		return ""
	}
	if _, ok, _ := t.opts.Docker.Registry.Credentials.Lookup(host); ok {
		return ": its node could not pull it from " + host + " with the registry credentials configured for it"
	}
	return ": its node could not pull it from " + host + ", and no registry credentials are configured for it"
}

// probeOnce sends one GET to url through the manager and returns "" for a
// 2xx, or what went wrong.
func (t *Target) probeOnce(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := t.probe.Do(req)
	if err != nil {
		return err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return resp.Status
	}
	return ""
}

// unhealthy returns the permanent error of task failing st's gate, with the
// end of its log.
func (t *Target) unhealthy(ctx context.Context, st *step, task swarm.Task, nodes map[string]string, reason string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	node := nodes[task.NodeID]
	if node == "" {
		node = t.node // no task was scheduled: the manager refused it
	}
	return events.Permanent(&deploy.UnhealthyError{
		Service: st.img.Service.Name, Replica: max(task.Slot-1, 0), Node: node,
		Instance: "task " + st.svc.Spec.Name + "." + strconv.Itoa(task.Slot),
		Reason:   reason, Logs: t.tail(ctx, task.ID),
	})
}

// tail returns the last log lines of task, "" when it has none.
func (t *Target) tail(ctx context.Context, id string) string {
	if id == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := t.cli.TaskLogs(ctx, id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(t.opts.Docker.LogLines),
	})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, _ = stdcopy.StdCopy(&buf, &buf, rc)
	out := strings.TrimRight(buf.String(), "\n")
	if len(out) > maxLogBytes {
		out = out[len(out)-maxLogBytes:]
	}
	return out
}
