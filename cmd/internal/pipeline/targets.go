package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/sshhost"
	"github.com/slipway-dev/slipway/swarm"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// TargetKind makes the target a spec of its kind describes (a line of the
// targets file). It checks the spec's endpoints and options, refusing
// those it does not know, and may contact nothing yet.
type TargetKind func(ctx context.Context, cfg *Config, spec target.Spec) (target.Target, error)

// targetKinds are the kinds of target this build implements, by the name
// a targets file gives them. Each implementation registers here, one line.
var targetKinds = map[string]TargetKind{
	"docker":     dockerKind,
	"kubernetes": kubernetesKind,
	"swarm":      swarmKind,
}

// knownKinds are the kinds of target Slipway knows, built in or not; a kind
// outside targetKinds is "not available in this build".
var knownKinds = []string{"docker", "kubernetes", "swarm"}

// TargetsConfig is the operator's placement: the targets file and the
// targets and rules given as flags.
type TargetsConfig struct {
	// File holds "target" and "allow" lines (target.Parse).
	File string
	// Lines are -target flags ("<name> <kind> [<endpoints>] [<k>=<v> ...]"),
	// Allows -target-allow flags ("<target> <owner/name|*> [<env> ...]").
	Lines, Allows []string
}

// Bind binds the settings to fs.
func (t *TargetsConfig) Bind(fs *flag.FlagSet) {
	fs.StringVar(&t.File, "targets-file", t.File, `file of "target <name> <kind> [<endpoint>,...] [<key>=<value> ...]" and "allow <target> <owner/name|owner/*|*> [<env> ...]" lines: where environments may run (local, the daemon beside the deployer, is always there)`)
	fs.Func("target", `"<name> <kind> [<endpoint>,...] [<key>=<value> ...]": a target environments may choose in slipway.yaml (repeat)`, func(v string) error {
		t.Lines = append(t.Lines, v)
		return nil
	})
	fs.Func("target-allow", `"<target> <owner/name|owner/*|*> [<env>|<template>-* ...]": who may use a target (pr-* are the previews pr-<n>); a target with none is open to all (repeat)`, func(v string) error {
		t.Allows = append(t.Allows, v)
		return nil
	})
}

// Load reads the file and the flags into one placement configuration; every
// bad line is reported, with its line number.
func (t TargetsConfig) Load() (target.Config, error) {
	var cfg target.Config
	var errs []error
	if t.File != "" {
		f, err := os.Open(t.File)
		if err != nil {
			return cfg, fmt.Errorf("targets file: %w", err)
		}
		defer f.Close()
		if cfg, err = target.Parse(f, t.File); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range t.Lines {
		fields := strings.Fields(l)
		s, err := target.ParseSpec(fields)
		if err != nil {
			for i, f := range fields {
				fields[i] = target.Redact(f)
			}
			errs = append(errs, fmt.Errorf("-target %q: %w", strings.Join(fields, " "), err))
			continue
		}
		s.Source = "-target"
		cfg.Targets = append(cfg.Targets, s)
	}
	for _, l := range t.Allows {
		c, err := target.Parse(strings.NewReader("allow "+l), "-target-allow")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range c.Rules {
			r.Line = 0
			cfg.Rules = append(cfg.Rules, r)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return target.Config{}, err
	}
	return cfg, cfg.Validate()
}

// NewPlacement makes every target of the operator's configuration, local
// (the Docker daemon beside the deployer, NewTarget) first. wrap, when not
// nil, wraps each target for deploys. A target that cannot be made fails
// the whole placement, with where it was declared; the targets made so far
// are closed.
func NewPlacement(ctx context.Context, cfg *Config, local *docker.Target, wrap func(target.Target) deploy.Target) (*target.Placement, error) {
	pc, err := cfg.Targets.Load()
	if err != nil {
		return nil, err
	}
	made := map[string]target.Target{events.LocalTarget: local}
	for _, spec := range pc.Targets {
		t, err := makeTarget(ctx, cfg, spec)
		if err != nil {
			for name, t := range made {
				if name != events.LocalTarget {
					_ = t.Close()
				}
			}
			return nil, err
		}
		made[spec.Name] = t
	}
	return target.NewPlacement(pc, made, wrap)
}

// makeTarget makes the target of spec with its kind's TargetKind.
func makeTarget(ctx context.Context, cfg *Config, spec target.Spec) (target.Target, error) {
	kind, ok := targetKinds[spec.Kind]
	switch {
	case !ok && slices.Contains(knownKinds, spec.Kind):
		return nil, fmt.Errorf("%s: target %s: target kind %s not available in this build (available: %s)", spec.Where(), spec.Name, spec.Kind, strings.Join(slices.Sorted(maps.Keys(targetKinds)), ", "))
	case !ok:
		return nil, fmt.Errorf("%s: target %s: unknown target kind %q (kinds: %s)", spec.Where(), spec.Name, spec.Kind, strings.Join(knownKinds, ", "))
	}
	t, err := kind(ctx, cfg, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: target %s: %w", spec.Where(), spec.Name, err)
	}
	return t, nil
}

// localDockerHost is the address of the daemon of target local.
func localDockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// dockerKind makes a target of kind docker: one Docker daemon reached at
// its endpoint (unix://, tcp:// with DOCKER_CERT_PATH's TLS), or remote
// hosts over ssh:// (sshhost), with the deployer's health timeout and
// limits.
func dockerKind(_ context.Context, cfg *Config, spec target.Spec) (target.Target, error) {
	if len(spec.Endpoints) > 0 && strings.HasPrefix(spec.Endpoints[0], "ssh://") {
		opts, err := sshhost.ParseSpec(spec.Endpoints, spec.Options)
		if err != nil {
			return nil, err
		}
		dopts, err := dockerOptions(cfg)
		if err != nil {
			return nil, err
		}
		opts.Registry, opts.Docker = cfg.Registry, dopts
		return sshhost.New(opts)
	}
	if len(spec.Options) > 0 {
		return nil, fmt.Errorf("docker takes no options (got %s)", strings.Join(slices.Sorted(maps.Keys(spec.Options)), ", "))
	}
	if len(spec.Endpoints) != 1 {
		return nil, fmt.Errorf("docker wants one daemon address (unix:///path/docker.sock), got %d", len(spec.Endpoints))
	}
	host := spec.Endpoints[0]
	if host == localDockerHost() {
		return nil, fmt.Errorf("%s is the daemon of target local: two targets on one daemon would remove each other's environments", target.Redact(host))
	}
	if !strings.HasPrefix(host, "unix://") {
		return nil, fmt.Errorf("docker daemon address %q: want unix:///path/docker.sock", target.Redact(host))
	}
	opts, err := localDockerOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts.Host, opts.Node = host, spec.Name
	return docker.New(opts)
}

// swarmKind makes a target of kind swarm: the services of a Docker Swarm
// whose manager is reached over ssh:// (swarm), with the deployer's health
// timeout, limits and registry credentials (dockerOptions: the swarm sends
// them with its services).
func swarmKind(_ context.Context, cfg *Config, spec target.Spec) (target.Target, error) {
	opts, err := swarm.ParseSpec(spec.Endpoints, spec.Options)
	if err != nil {
		return nil, err
	}
	dopts, err := dockerOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts.Registry, opts.Docker = cfg.Registry, dopts
	return swarm.New(opts)
}
