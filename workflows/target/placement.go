package target

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Placement is the operator's targets by name, with the rules of who may
// use each. It finds the target of a deploy (deploy.Targets), and, for the
// proxy, status and previews, asks every target what an environment runs:
// an environment lives where its target's containers are, read back from
// the targets alone.
type Placement struct {
	order     []string // events.LocalTarget first, then the configuration's order
	targets   map[string]Target
	deployers map[string]deploy.Target
	rules     map[string][]Rule

	mu       sync.Mutex
	resolved map[string]resolution // by repo, env and service: who answered last
}

// resolution is the last answer of ResolveAll for one service: the target
// that gave it and its addresses, for Dial.
type resolution struct {
	target string
	addrs  []string
}

var _ deploy.Targets = (*Placement)(nil)

// NewPlacement returns the placement of cfg over targets, which holds a
// Target for events.LocalTarget and for every target of cfg. wrap, when not
// nil, wraps each target for deploys (the deployment tasks, tasks.Target).
func NewPlacement(cfg Config, targets map[string]Target, wrap func(Target) deploy.Target) (*Placement, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Placement{
		order: []string{events.LocalTarget}, targets: targets, deployers: map[string]deploy.Target{},
		rules: map[string][]Rule{}, resolved: map[string]resolution{},
	}
	for _, s := range cfg.Targets {
		p.order = append(p.order, s.Name)
	}
	for _, name := range p.order {
		t, ok := targets[name]
		if !ok {
			return nil, fmt.Errorf("placement: no target %s was made", name)
		}
		p.deployers[name] = t
		if wrap != nil {
			p.deployers[name] = wrap(t)
		}
	}
	for _, r := range cfg.Rules {
		p.rules[r.Target] = append(p.rules[r.Target], r)
	}
	return p, nil
}

// Names returns the names of the targets, events.LocalTarget first.
func (p *Placement) Names() []string { return slices.Clone(p.order) }

// Get returns the target called name ("" is events.LocalTarget).
func (p *Placement) Get(name string) (Target, bool) {
	t, ok := p.targets[events.TargetName(name)]
	return t, ok
}

// Lookup returns the target called name ("" is events.LocalTarget) for env
// of repo. A name the operator did not configure, or a target whose rules
// do not let env of repo use it, is an events.Permanent error naming it.
func (p *Placement) Lookup(repo, env, name string) (Target, error) {
	name = events.TargetName(name)
	t, ok := p.targets[name]
	if !ok {
		return nil, events.Permanent(fmt.Errorf("target %q is not configured on this deployer (targets: %s)", name, strings.Join(p.order, ", ")))
	}
	rules := p.rules[name]
	if len(rules) == 0 || slices.ContainsFunc(rules, func(r Rule) bool { return r.Allows(repo, env) }) {
		return t, nil
	}
	return nil, events.Permanent(fmt.Errorf("target %q may not run environment %s of %s (the operator's allow rules)", name, env, repo))
}

// Target implements deploy.Targets: the target Lookup finds, wrapped for
// deploys, which, once a deploy succeeded there, removes the environment
// from every other target (an environment moved to another target).
func (p *Placement) Target(repo, env, name string) (deploy.Target, error) {
	if _, err := p.Lookup(repo, env, name); err != nil {
		return nil, err
	}
	name = events.TargetName(name)
	return &placed{Target: p.deployers[name], p: p, name: name}, nil
}

// placed is a deploy.Target of a Placement.
type placed struct {
	deploy.Target
	p    *Placement
	name string
}

// Deploy deploys d to the target, then removes d's environment from the
// others.
func (pl *placed) Deploy(ctx context.Context, d deploy.Deployment) error {
	d.Target = pl.name
	if err := pl.Target.Deploy(ctx, d); err != nil {
		return err
	}
	pl.p.removeElsewhere(ctx, d.Repo, d.Env, pl.name)
	return nil
}

// removeElsewhere removes env of repo from every target but name. A target
// that fails is logged: the deploy succeeded, and the next one tries again.
func (p *Placement) removeElsewhere(ctx context.Context, repo, env, name string) {
	for _, other := range p.order {
		if other == name {
			continue
		}
		log := zerolog.Ctx(ctx).With().Str("repo", repo).Str("env", env).Str("target", other).Logger()
		rel, err := p.targets[other].Current(ctx, repo, env)
		if err == nil && len(rel.Services) == 0 {
			continue
		}
		if err == nil {
			err = p.targets[other].Remove(ctx, repo, env)
		}
		if err != nil {
			log.Warn().Err(err).Msg("environment moved to target " + name + ": could not remove it from its previous target")
			continue
		}
		log.Info().Msg("environment moved to target " + name + ": removed from its previous target")
	}
}

// Locate returns the name of the first target, in order, on which env of
// repo runs something, and what it runs; "" and an empty release when none
// does. A target that cannot be asked is an error only when no other runs
// the environment.
func (p *Placement) Locate(ctx context.Context, repo, env string) (string, deploy.Release, error) {
	var errs []error
	for _, name := range p.order {
		rel, err := p.targets[name].Current(ctx, repo, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("target %s: %w", name, err))
			continue
		}
		if len(rel.Services) > 0 {
			return name, rel, nil
		}
	}
	return "", deploy.Release{Repo: repo, Env: env}, errors.Join(errs...)
}

// Current returns what env of repo runs on whichever target runs it
// (preview.Target).
func (p *Placement) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	_, rel, err := p.Locate(ctx, repo, env)
	return rel, err
}

// Remove removes env of repo from every target (preview.Target).
func (p *Placement) Remove(ctx context.Context, repo, env string) error {
	var errs []error
	for _, name := range p.order {
		if err := p.targets[name].Remove(ctx, repo, env); err != nil {
			errs = append(errs, fmt.Errorf("target %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// ResolveAll returns the addresses of the live replicas of service in env
// of repo from the first target, in order, that runs them (proxy.Resolver).
// It wraps ErrNotLive when none does.
func (p *Placement) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	errs := []error{fmt.Errorf("resolve %s of %s of %s: %w", service, env, repo, ErrNotLive)}
	for _, name := range p.order {
		addrs, err := p.targets[name].ResolveAll(ctx, repo, env, service)
		if err == nil && len(addrs) > 0 {
			p.mu.Lock()
			p.resolved[events.EnvKey(repo, env)+"/"+service] = resolution{target: name, addrs: addrs}
			p.mu.Unlock()
			return addrs, nil
		}
		if err != nil && !errors.Is(err, ErrNotLive) {
			errs = append(errs, fmt.Errorf("target %s: %w", name, err))
		}
	}
	return nil, errors.Join(errs...)
}

// Dial connects to addr through the target whose ResolveAll last reported
// it (proxy.Dialer).
func (p *Placement) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	name := ""
	for _, r := range p.resolved {
		if slices.Contains(r.addrs, addr) {
			name = r.target
			break
		}
	}
	p.mu.Unlock()
	if name == "" {
		return nil, fmt.Errorf("dial %s: no target reported this address", addr)
	}
	return p.targets[name].Dial(ctx, network, addr)
}

// Close closes every target.
func (p *Placement) Close() error {
	var errs []error
	for _, name := range p.order {
		if err := p.targets[name].Close(); err != nil {
			errs = append(errs, fmt.Errorf("close target %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
