package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// ErrNotBuilt is returned by BuiltImages for a commit some service of which
// has no successful build.
var ErrNotBuilt = errors.New("commit not built")

// BuiltImages returns the images recorded for every service of a commit
// (names in manifest order), from the completed build claims: what a
// release or a rollback deploys without building again. A service not built,
// or whose build failed, is an error wrapping ErrNotBuilt.
func BuiltImages(ctx context.Context, claims workflows.Claims, repo, sha string, services []string) ([]events.Image, error) {
	return builtImages(ctx, claims, repo, sha, services, nil)
}

// BuiltImagesOf is BuiltImages of the services specs declares (the
// manifest of sha): a build whose claim expired is found in the record
// claims keep beyond it (Records), its image given the spec declared.
func BuiltImagesOf(ctx context.Context, claims workflows.Claims, repo, sha string, specs []events.ServiceSpec) ([]events.Image, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return builtImages(ctx, claims, repo, sha, names, specs)
}

// builtImages is BuiltImages, falling back on Records when specs (by
// service, in the order of services) are given.
func builtImages(ctx context.Context, claims workflows.Claims, repo, sha string, services []string, specs []events.ServiceSpec) ([]events.Image, error) {
	if len(services) == 0 {
		return nil, fmt.Errorf("images of %s: no services: %w", sha, ErrNotBuilt)
	}
	images := make([]events.Image, 0, len(services))
	records, _ := claims.(Records)
	for i, name := range services {
		b, err := claims.Result(ctx, events.BuildKey(repo, sha, name))
		if errors.Is(err, workflows.ErrNoResult) && specs != nil && records != nil {
			ref, digest, ok, rerr := records.RecordedBuild(ctx, repo, sha, name)
			if rerr != nil {
				return nil, fmt.Errorf("read build of %s: %w", name, rerr)
			}
			if ok {
				images = append(images, events.Image{Service: specs[i], Ref: ref, Digest: digest})
				continue
			}
		}
		if errors.Is(err, workflows.ErrNoResult) {
			return nil, fmt.Errorf("service %s of %s: %w", name, sha, ErrNotBuilt)
		}
		if err != nil {
			return nil, fmt.Errorf("read build of %s: %w", name, err)
		}
		rec, err := decodeRecord(b)
		if err != nil {
			return nil, events.Permanent(err)
		}
		if rec.Failed != "" || rec.Digest == "" {
			return nil, fmt.Errorf("service %s of %s: build failed: %s: %w", name, sha, rec.Failed, ErrNotBuilt)
		}
		images = append(images, events.Image{Service: rec.Service, Ref: rec.Image, Digest: rec.Digest})
	}
	return images, nil
}
