package natsjs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ExpiringClaims are the prefixes of the claims whose completed steps
// expire (ClaimRetention): service builds, commit-built steps and
// deploys. What dedup needs of them once expired is recorded elsewhere: a
// build's image in the read model's commit record (the builder reads it
// before it solves), a deploy's commit in the environment's state (a
// deploy of the commit an environment runs changes nothing, one of an
// older commit is superseded). The claims of checks, tasks and
// provisioning never expire: a task (a migration) must never run twice.
var ExpiringClaims = []string{"build.", "built.", "deploy."}

// metaClaimRetention names the claims bucket's metadata entry holding
// ClaimRetention.
const metaClaimRetention = "slipway.claim_retention"

// claimMarkerTTL is how long the claims bucket keeps the marker of an
// expired claim.
const claimMarkerTTL = 10 * time.Minute

// claimsBucketConfig is the claims bucket: per-message TTLs allowed (the
// completed claims of ExpiringClaims carry one), and the retention those
// claims get recorded in its metadata for every worker to read.
func claimsBucketConfig(t Topology) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: BucketClaims, Description: "one claim per build, commit and deploy step",
		History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas, LimitMarkerTTL: claimMarkerTTL,
		Metadata: map[string]string{metaClaimRetention: t.claimRetention().String()}}
}

// claimRetention is how long a completed claim of ExpiringClaims is kept:
// as long as the stream keeps events, plus its duplicate window, so every
// event the stream can still redeliver or replay finds the claim of the
// step it asked for (the claim is younger than its event). 0 (a stream
// kept for ever) keeps them for ever. A test may set it directly.
func (t Topology) claimRetention() time.Duration {
	if t.ClaimRetention != 0 {
		return t.ClaimRetention
	}
	if t.MaxAge <= 0 {
		return 0
	}
	return t.MaxAge + t.DuplicateWindow
}

// ClaimRetention reads from the claims bucket how long its completed claims
// of ExpiringClaims are kept; 0 when they never expire (a bucket
// provisioned by an earlier version, or a stream kept for ever).
func ClaimRetention(ctx context.Context, kv jetstream.KeyValue) (time.Duration, error) {
	st, err := kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("read claims bucket %s: %w", kv.Bucket(), err)
	}
	b, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok || b.LimitMarkerTTL() == 0 {
		return 0, nil // per-message TTLs not allowed
	}
	v := b.Metadata()[metaClaimRetention]
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("claims bucket %s: retention %q: not a duration", kv.Bucket(), v)
	}
	return d, nil
}

// ClaimExpires reports whether the completed claim of key is one of
// ExpiringClaims.
func ClaimExpires(key string) bool {
	for _, p := range ExpiringClaims {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
