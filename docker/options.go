package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// Options configures a Target.
type Options struct {
	// Host is the daemon address, e.g. "unix:///var/run/docker.sock". Empty
	// means the environment (DOCKER_HOST, DOCKER_CERT_PATH, ...) decides.
	Host string
	// HealthTimeout bounds how long a new container may take to answer its
	// health check with a 2xx.
	HealthTimeout time.Duration
	// HealthInterval is the longest pause between two health probes: after
	// a candidate's first failed probe the pause is a few milliseconds and
	// doubles up to it.
	HealthInterval time.Duration
	// DrainDelay is how long a replaced container keeps running after it
	// lost the live name, so that proxies which cached its address (for
	// proxy.DefaultTTL) finish with it before it is stopped.
	DrainDelay time.Duration
	// Drainer, when set, ends the drain of a replaced container as soon as
	// no request is in flight to it (drain.go); DrainDelay stays the
	// upper bound.
	Drainer Drainer
	// StopTimeout is how long a replaced container gets to exit after
	// SIGTERM before it is killed.
	StopTimeout time.Duration
	// LogLines is how many lines of a failing container's log go into the
	// error of a failed deploy.
	LogLines int
	// Limits bound every container started (limits.go).
	Limits Limits
	// Node names the daemon's host in Current's instances and in the
	// reasons of failed deploys; empty is events.LocalTarget.
	Node string
	// Dial connects to the addresses the daemon publishes ports on, for
	// health probes and Target.Dial; nil dials them directly (a daemon
	// on this machine). A target reaching a remote daemon passes its own
	// transport.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Registry is where images are pulled from, with which credentials
	// (registry.go).
	Registry Registry
}

// DefaultOptions returns the options New uses for every zero field.
func DefaultOptions() Options {
	return Options{
		HealthTimeout:  30 * time.Second,
		HealthInterval: 250 * time.Millisecond,
		DrainDelay:     2 * time.Second,
		StopTimeout:    10 * time.Second,
		LogLines:       20,
		Limits:         DefaultLimits(),
	}
}

// withDefaults fills every zero field from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.HealthTimeout == 0 {
		o.HealthTimeout = d.HealthTimeout
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = d.HealthInterval
	}
	if o.DrainDelay == 0 {
		o.DrainDelay = d.DrainDelay
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = d.StopTimeout
	}
	if o.LogLines == 0 {
		o.LogLines = d.LogLines
	}
	if o.Node == "" {
		o.Node = events.LocalTarget
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// Validate reports the first option that cannot work.
func (o Options) Validate() error {
	switch {
	case o.HealthTimeout <= 0:
		return errors.New("health timeout must be positive")
	case o.HealthInterval <= 0:
		return errors.New("health interval must be positive")
	case o.HealthInterval > o.HealthTimeout:
		return fmt.Errorf("health interval %s exceeds health timeout %s", o.HealthInterval, o.HealthTimeout)
	case o.DrainDelay < 0:
		return errors.New("drain delay must not be negative")
	case o.StopTimeout < time.Second:
		return errors.New("stop timeout must be at least 1s")
	case o.LogLines < 0:
		return errors.New("log lines must not be negative")
	}
	if err := o.Limits.Validate(); err != nil {
		return fmt.Errorf("container limits: %w", err)
	}
	return nil
}
