package natsstore

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// EnvLocks implements deploy.Locks on a JetStream KV bucket: a lock is a
// lease (holder, expiry) created with a revision-checked Create, renewed with
// revision-checked Updates while the deploy runs, deleted when it ends, and
// taken over once its expiry has passed.
type EnvLocks struct {
	kv             jetstream.KeyValue
	holder         string
	identity, boot string // succession.go
}

var _ deploy.Locks = (*EnvLocks)(nil)

// NewEnvLocks returns the locks on kv (natsjs.BucketLocks) taken in the name of
// holder (unique per process).
func NewEnvLocks(kv jetstream.KeyValue, holder string) *EnvLocks {
	return &EnvLocks{kv: kv, holder: holder}
}

// Lock implements deploy.Locks. Every acquisition is a lease of its own (see
// Claims), so two deploys of one process exclude each other too.
func (l *EnvLocks) Lock(ctx context.Context, repo, env string, ttl time.Duration) (workflows.Lease, error) {
	return NewClaims(l.kv, l.holder).Succeeding(l.identity, l.boot).Claim(ctx, "env."+events.EnvKey(repo, env), ttl)
}
