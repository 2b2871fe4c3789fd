package canary

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// judge watches step i (weight w) for d: until d has passed, it reads the
// operator's command, the proxy's counts since the step began and the
// shadow's health. It returns true when the operator promoted, and a
// *deploy.RolledBackError (events.Permanent) when a threshold or the
// health check was crossed or the operator aborted.
func (r *rollout) judge(ctx context.Context, i, w int, d time.Duration) (bool, error) {
	store := r.t.c.Store
	base, err := store.Stats(ctx, r.d.Repo, r.d.Env)
	if err != nil {
		return false, err
	}
	deadline := time.Now().Add(d)
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	failures := 0
	for {
		cmd, err := store.TakeCommand(ctx, r.d.Repo, r.d.Env)
		if err != nil {
			return false, err
		}
		now, err := store.Stats(ctx, r.d.Repo, r.d.Env)
		if err != nil {
			return false, err
		}
		win := now.Sub(base)
		analysis := func(automatic bool, cause string) error {
			return events.Permanent(&deploy.RolledBackError{Analysis: events.Analysis{
				Automatic: automatic, Cause: cause, Step: i, Weight: w,
				Canary: figures(win.Canary), Stable: figures(win.Stable), Detected: time.Since(r.started),
			}})
		}
		switch cmd {
		case CommandPromote:
			return true, nil
		case CommandAbort:
			return false, analysis(false, "aborted by the operator")
		}
		if cause := Verdict(r.d.Rollout, win); cause != "" {
			return false, analysis(true, cause)
		}
		if cause := r.probe(ctx); cause != "" {
			failures++
			if failures >= healthFailures {
				return false, analysis(true, cause)
			}
		} else {
			failures = 0
		}
		if !time.Now().Before(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// figures returns what the analysis records of c.
func figures(c Counts) events.ReleaseFigures {
	return events.ReleaseFigures{Requests: c.Requests, Errors: c.Errors, P99: c.P99()}
}

// Verdict returns why the new commit of win fails r's thresholds, or "":
// once it answered MinRequests requests, its 5xx rate may not exceed
// MaxErrorRate while being above the old commit's, nor its p99 latency
// MaxLatencyP99 while being above the old commit's.
func Verdict(r *events.Rollout, win Stats) string {
	c, s := win.Canary, win.Stable
	if c.Requests == 0 || c.Requests < int64(r.MinRequests) {
		return ""
	}
	if rate := c.ErrorRate(); rate > r.MaxErrorRate && rate > s.ErrorRate() {
		return fmt.Sprintf("error rate %.1f%% > %.1f%% (previous commit %.1f%%)", rate, r.MaxErrorRate, s.ErrorRate())
	}
	if p99 := c.P99(); r.MaxLatencyP99 > 0 && p99 > r.MaxLatencyP99 && p99 > s.P99() {
		return fmt.Sprintf("latency p99 %s > %s (previous commit %s)", p99, r.MaxLatencyP99, s.P99())
	}
	return ""
}

// probe asks every replica of every service of the shadow for its health
// path, as the target dials it, and returns the first failure, or "".
func (r *rollout) probe(ctx context.Context) string {
	res, ok := r.t.Target.(Resolver)
	if !ok {
		return ""
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return res.Dial(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}}
	defer client.CloseIdleConnections()
	for _, img := range r.d.Images {
		s := img.Service
		if s.HealthPath == "" {
			continue
		}
		addrs, err := res.ResolveAll(ctx, r.d.Repo, ShadowEnv(r.d.Env), s.Name)
		if err != nil {
			return fmt.Sprintf("health check of %s: %v", s.Name, err)
		}
		for _, a := range addrs {
			if cause := get(ctx, client, "http://"+a+s.HealthPath); cause != "" {
				zerolog.Ctx(ctx).Debug().Str("service", s.Name).Str("cause", cause).Msg("rollout: health probe failed")
				return fmt.Sprintf("health check of %s: %s", s.Name, cause)
			}
		}
	}
	return ""
}

// get returns why a GET of url fails, or "" for a 2xx.
func get(ctx context.Context, c *http.Client, url string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Status
	}
	return ""
}
