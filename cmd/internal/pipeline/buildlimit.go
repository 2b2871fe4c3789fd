package pipeline

import (
	"context"
	"errors"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/checks"
)

// buildHandlersPerSolve is how many build requests a builder handles at once
// per solve it may run (-build-workers): a request whose image is reused
// (build keys) is a few reads and a manifest PUT, and must not wait behind
// solves for a worker.
const buildHandlersPerSolve = 4

// limitedBuilder runs at most cap(solves) solves of b at once.
type limitedBuilder struct {
	b      build.Builder
	solves chan struct{}
}

var (
	_ build.Builder       = (*limitedBuilder)(nil)
	_ build.Fingerprinter = (*limitedBuilder)(nil)
	_ checks.Runner       = (*limitedBuilder)(nil)
)

// limitSolves returns b running at most n solves at once.
func limitSolves(b build.Builder, n int) *limitedBuilder {
	return &limitedBuilder{b: b, solves: make(chan struct{}, max(n, 1))}
}

// Build implements build.Builder, waiting for a free solve.
func (l *limitedBuilder) Build(ctx context.Context, req build.Request) (build.Result, error) {
	select {
	case l.solves <- struct{}{}:
	case <-ctx.Done():
		return build.Result{}, ctx.Err()
	}
	defer func() { <-l.solves }()
	return l.b.Build(ctx, req)
}

// Fingerprint implements build.Fingerprinter with b's, if it has one.
func (l *limitedBuilder) Fingerprint(ctx context.Context) (string, error) {
	if f, ok := l.b.(build.Fingerprinter); ok {
		return f.Fingerprint(ctx)
	}
	return "", nil
}

// RunCheck implements checks.Runner with b's, sharing the solve limit of
// builds: a check is a BuildKit solve too.
func (l *limitedBuilder) RunCheck(ctx context.Context, req checks.Request) (checks.Result, error) {
	r, ok := l.b.(checks.Runner)
	if !ok {
		return checks.Result{}, events.Permanent(errors.New("this builder runs no checks"))
	}
	select {
	case l.solves <- struct{}{}:
	case <-ctx.Done():
		return checks.Result{}, ctx.Err()
	}
	defer func() { <-l.solves }()
	return r.RunCheck(ctx, req)
}
