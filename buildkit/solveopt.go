package buildkit

import (
	"fmt"
	"path/filepath"

	"github.com/moby/buildkit/client"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	"github.com/tonistiigi/fsutil"

	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/build"
)

// solveOpt translates a request into a solve of the Dockerfile frontend,
// with the context and the Dockerfile's directory opened through the
// checkout (see openContext); closeContext releases them once the solve is
// over.
func solveOpt(req build.Request, policy *spb.Policy, access registry.Access) (opt client.SolveOpt, closeContext func(), err error) {
	insecure, err := plainHTTP(access, req.Image)
	if err != nil {
		return client.SolveOpt{}, nil, err
	}
	contextFS, dockerfileFS, release, err := openContext(req)
	if err != nil {
		return client.SolveOpt{}, nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	opt = client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: frontendAttrs(filepath.Base(req.Dockerfile), req.BuildArgs, req.Network),
		SourcePolicy:  policy,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": dockerfileFS},
		// buildkitd reuses what it synced before under the same shared key
		// and only sends files whose size or mtime changed. Checkouts carry
		// the commit's time as mtime, so two services' same-sized files at
		// the same path would look unchanged: key the sync on the directory.
		SharedKey: req.ContextDir,
		Exports: []client.ExportEntry{{
			Type:  client.ExporterImage,
			Attrs: withInsecure(map[string]string{"name": req.Image, "push": "true"}, insecure),
		}},
	}
	if req.CacheRef != "" {
		cacheInsecure, err := plainHTTP(access, req.CacheRef)
		if err != nil {
			return client.SolveOpt{}, nil, fmt.Errorf("cache: %w", err)
		}
		opt.CacheImports = []client.CacheOptionsEntry{{
			Type:  "registry",
			Attrs: withInsecure(map[string]string{"ref": req.CacheRef}, cacheInsecure),
		}}
		opt.CacheExports = []client.CacheOptionsEntry{{
			Type: "registry",
			Attrs: withInsecure(map[string]string{
				"ref": req.CacheRef, "mode": "max", "ignore-error": "true",
				"image-manifest": "true", "oci-mediatypes": "true",
			}, cacheInsecure),
		}}
	}
	return opt, release, nil
}

// frontendAttrs are the Dockerfile frontend's options. Without network, every
// RUN step runs in a network namespace of its own holding only a loopback
// interface: it reaches nothing of this machine, Slipway's ports included.
func frontendAttrs(filename string, args map[string]string, network bool) map[string]string {
	attrs := map[string]string{"filename": filename}
	if !network {
		attrs["force-network-mode"] = "none"
	}
	for k, v := range args {
		attrs["build-arg:"+k] = v
	}
	return attrs
}

// withInsecure adds the attribute that lets buildkitd use plain HTTP.
func withInsecure(attrs map[string]string, insecure bool) map[string]string {
	if insecure {
		attrs["registry.insecure"] = "true"
	}
	return attrs
}

// plainHTTP parses ref and reports whether its registry is reached over
// plain HTTP (registry.Access.PlainHTTP, the one rule of Slipway).
func plainHTTP(access registry.Access, ref string) (bool, error) {
	host, err := registry.Host(ref)
	if err != nil {
		return false, err
	}
	return access.PlainHTTP(host), nil
}
