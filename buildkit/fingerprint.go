package buildkit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/build"
)

var _ build.Fingerprinter = (*Builder)(nil)

// fingerprint is what Fingerprint found, once.
type fingerprint struct {
	mu    sync.Mutex
	value string
}

// Fingerprint implements build.Fingerprinter: the platforms of buildkitd's
// workers (an image built on arm64 is not one built on amd64) and the base
// images builds may pull (an image built under a looser allowlist must not
// be reused under a stricter one). The platforms are asked once; an
// unreachable daemon is events.Retryable.
func (b *Builder) Fingerprint(ctx context.Context) (string, error) {
	b.fp.mu.Lock()
	defer b.fp.mu.Unlock()
	if b.fp.value != "" {
		return b.fp.value, nil
	}
	workers, err := b.c.ListWorkers(ctx)
	if err != nil {
		return "", events.Retryable(fmt.Errorf("list buildkitd workers at %s: %w", b.addr, err), RetryAfter)
	}
	var plats []string
	for _, w := range workers {
		for _, p := range w.Platforms {
			plats = append(plats, strings.TrimSuffix(p.OS+"/"+p.Architecture+"/"+p.Variant, "/"))
		}
	}
	slices.Sort(plats)
	allow := slices.Clone(b.allow)
	slices.Sort(allow)
	b.fp.value = "platforms=" + strings.Join(slices.Compact(plats), ",") + ";allow=" + strings.Join(allow, ",")
	return b.fp.value, nil
}
