package buildkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/build"
)

var _ build.Builder = (*Builder)(nil)

// RetryAfter is the delay a Retryable error asks for when buildkitd or the
// registry cannot be reached.
const RetryAfter = 5 * time.Second

// Builder is a build.Builder backed by one buildkitd.
type Builder struct {
	addr   string
	c      *client.Client
	policy *spb.Policy
	access registry.Access
	allow  []string    // the patterns of policy
	fp     fingerprint // fingerprint.go
}

// New returns a Builder for the buildkitd at addr (e.g.
// "unix:///run/buildkit/buildkitd.sock" or "tcp://127.0.0.1:1234"). It does
// not connect: an unreachable daemon shows up as a Retryable error of Build
// or Ping, so a builder can start before its daemon.
func New(ctx context.Context, addr string, opts ...Option) (*Builder, error) {
	b := &Builder{addr: addr}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("create buildkit client for %s: %w", addr, err)
	}
	b.c = c
	return b, nil
}

// Close releases the connection to buildkitd.
func (b *Builder) Close() error {
	return b.c.Close()
}

// Build builds req.Dockerfile in req.ContextDir, pushes the image as
// req.Image and returns its manifest digest.
func (b *Builder) Build(ctx context.Context, req build.Request) (build.Result, error) {
	if err := checkRequest(req); err != nil {
		return build.Result{}, events.Permanent(err)
	}
	opt, closeContext, err := solveOpt(req, b.policy, b.access)
	if err != nil {
		return build.Result{}, events.Permanent(fmt.Errorf("build %s: %w", req.Image, err))
	}
	defer closeContext()
	opt.Session = append(opt.Session, b.authSession(pushHost(req.Image)))
	p := newProgress(logger(ctx, req.Image))
	p.sink = req.Log
	ch := make(chan *client.SolveStatus)
	var resp *client.SolveResponse
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		resp, err = b.c.Solve(gctx, nil, opt, ch)
		return err
	})
	g.Go(func() error { p.drain(ch); return nil })
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return build.Result{}, fmt.Errorf("build %s: %w", req.Image, ctx.Err())
		}
		if rerr := b.registryFault(err, req.Image); rerr != nil {
			return build.Result{}, fmt.Errorf("build %s: %w", req.Image, rerr)
		}
		return build.Result{}, classify(err, req.Image, p.failed(err))
	}
	return result(resp, req.Image)
}

// pushHost is the registry host of image, "" when it does not parse (the
// solve then fails on it).
func pushHost(image string) string {
	h, _ := registry.Host(image)
	return h
}

// result extracts the pushed manifest digest from a solve response.
func result(resp *client.SolveResponse, image string) (build.Result, error) {
	d := resp.ExporterResponse["containerimage.digest"]
	if !validDigest(d) {
		return build.Result{}, fmt.Errorf("build %s: buildkitd returned no image digest (got %q)", image, d)
	}
	return build.Result{Digest: d}, nil
}

// validDigest reports whether d is "sha256:" and 64 hex digits.
func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}

// checkRequest rejects a request no build could satisfy.
func checkRequest(req build.Request) error {
	switch {
	case req.Image == "":
		return errors.New("build request has no image reference")
	case !filepath.IsAbs(req.ContextDir) || !filepath.IsAbs(req.Dockerfile):
		return fmt.Errorf("build %s: context %q and Dockerfile %q must be absolute paths", req.Image, req.ContextDir, req.Dockerfile)
	}
	if fi, err := os.Stat(req.ContextDir); err != nil || !fi.IsDir() {
		return fmt.Errorf("build %s: context %s is not a directory", req.Image, req.ContextDir)
	}
	if fi, err := os.Stat(req.Dockerfile); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("build %s: Dockerfile %s is not a file", req.Image, req.Dockerfile)
	}
	return nil
}
