package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

// waitEnvServing waits until env of repo runs sha on the local target,
// services and no other, every one running, then returns what each service answers at / through
// the proxy, by service. A service the deploy kept because it did not
// change answers as it did before: it runs the container of an earlier
// commit.
func waitEnvServing(ctx context.Context, cfg *pipeline.Config, repo, env, sha string, services []string, timeout time.Duration) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tg, err := pipeline.NewTarget(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tg.Close() }()
	var last string
	for {
		rel, err := tg.Current(ctx, repo, env)
		if err == nil && rel.Commit() == sha && allRunning(rel, services) {
			answers := map[string]string{}
			for _, s := range rel.Services {
				host := hosts.DefaultHost(s.Name, env, hosts.Candidates(repo)[0], cfg.ProxyDomain)
				if answers[s.Name], err = get(ctx, cfg.ProxyAddr, host); err != nil {
					break
				}
			}
			if err == nil {
				return answers, nil
			}
		}
		if err == nil {
			last = fmt.Sprintf("commit %.12s", rel.Commit())
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s never ran %.12s (last: %s): %w", env, sha, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// allRunning reports whether rel runs services and no other, every one
// running.
func allRunning(rel deploy.Release, services []string) bool {
	for _, s := range rel.Services {
		if !s.Running || !slices.Contains(services, s.Name) {
			return false
		}
	}
	return len(rel.Services) == len(services)
}
