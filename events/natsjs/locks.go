package natsjs

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// BucketLocks holds one lock per environment while a deploy runs there.
const BucketLocks = "slipway_locks"

// DeployMaxAckPending bounds the deploys in flight across every deployer:
// deploys of different environments run in parallel, those of one
// environment wait for its lock.
const DeployMaxAckPending = 64

// lockBucketTTL removes a lock nobody renewed for this long: a holder renews
// every third of its lease, so only locks of dead holders ever reach it. It
// only keeps the bucket tidy; the expiry written in each lock is what lets
// another deployer take a dead holder's lock over.
const lockBucketTTL = time.Hour

// EnvLocks implements deploy.Locks on a JetStream KV bucket: a lock is a
// lease (holder, expiry) created with a revision-checked Create, renewed with
// revision-checked Updates while the deploy runs, deleted when it ends, and
// taken over once its expiry has passed.
type EnvLocks struct {
	kv     jetstream.KeyValue
	holder string
}

var _ deploy.Locks = (*EnvLocks)(nil)

// NewEnvLocks returns the locks on kv (BucketLocks) taken in the name of
// holder (unique per process).
func NewEnvLocks(kv jetstream.KeyValue, holder string) *EnvLocks {
	return &EnvLocks{kv: kv, holder: holder}
}

// Lock implements deploy.Locks. Every acquisition is a lease of its own (see
// Claims), so two deploys of one process exclude each other too.
func (l *EnvLocks) Lock(ctx context.Context, repo, env string, ttl time.Duration) (workflows.Lease, error) {
	return NewClaims(l.kv, l.holder).Claim(ctx, "env."+events.EnvKey(repo, env), ttl)
}
