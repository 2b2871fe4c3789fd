package docker

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// maxLogBytes bounds the log excerpt in a failed deploy's reason, which
// travels in an event.
const maxLogBytes = 4096

// newProbeClient returns the client of health probes: a fresh connection
// each time, made by dial (Target.Dial, so a probe reaches the replica the
// way the proxy does), no redirects followed (a 3xx is not healthy).
func newProbeClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: dial},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// firstProbePause is the pause after a candidate's first failed health
// probe; each next pause doubles, up to HealthInterval. A server that
// listens within milliseconds of its start (a retained container started
// again) is found healthy that soon, not one HealthInterval later.
const firstProbePause = 5 * time.Millisecond

// waitHealthy polls c's health path until it answers 2xx, the container
// exits or HealthTimeout passes. The last two are permanent failures.
func (t *Target) waitHealthy(ctx context.Context, c *candidate) error {
	deadline := time.Now().Add(t.opts.HealthTimeout)
	url := "http://" + c.addr + target.ProbePath(c.spec.HealthPath)
	pause := min(firstProbePause, t.opts.HealthInterval)
	wait := time.NewTimer(pause)
	defer wait.Stop()
	for {
		last := probe(ctx, t.probe, url)
		if last == "" {
			return nil
		}
		if exited, err := t.exited(ctx, c); err != nil || exited != "" {
			return t.unhealthy(ctx, c, exited, err)
		}
		if time.Now().After(deadline) {
			reason := fmt.Sprintf("no 2xx from GET %s within %s (last: %s)", target.ProbePath(c.spec.HealthPath), t.opts.HealthTimeout, last)
			return t.unhealthy(ctx, c, reason, nil)
		}
		wait.Reset(pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait.C:
		}
		pause = min(2*pause, t.opts.HealthInterval)
	}
}

// probe sends one GET to url and returns "" for a 2xx, or what went wrong.
func probe(ctx context.Context, client *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Status
	}
	return ""
}

// exited returns why c is no longer running, or "" while it runs.
func (t *Target) exited(ctx context.Context, c *candidate) (string, error) {
	info, err := t.cli.ContainerInspect(ctx, c.id)
	if err != nil {
		return "", daemonError("inspect container "+c.name, err)
	}
	if err := stoppedFromOutside(c.name, info); err != nil {
		return "", err
	}
	return exitReason(info), nil
}

// exitReason returns why a container is not running, or "" while it runs.
// Candidates have no restart policy, but a restart still counts as an exit.
func exitReason(info container.InspectResponse) string {
	s := info.State
	switch {
	case s == nil:
		return "container has no state"
	case s.OOMKilled:
		return "container was killed: out of memory"
	case !s.Running || s.Restarting || info.RestartCount > 0:
		return "container exited with code " + strconv.Itoa(s.ExitCode)
	}
	return ""
}

// unhealthy builds the error of a candidate that failed for reason, or
// returns err when the daemon itself failed.
func (t *Target) unhealthy(ctx context.Context, c *candidate, reason string, err error) error {
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return events.Permanent(&deploy.UnhealthyError{
		Service: c.spec.Name, Replica: c.replica, Node: t.opts.Node, Instance: "container " + c.name,
		Reason: reason, Logs: redact(t.tail(ctx, c.id), c.secrets),
	})
}

// tail returns the last LogLines lines of a container's output, at most
// maxLogBytes of it.
func (t *Target) tail(ctx context.Context, id string) string {
	rc, err := t.cli.ContainerLogs(ctx, id, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(t.opts.LogLines),
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
