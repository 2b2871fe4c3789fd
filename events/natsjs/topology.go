package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Names of the JetStream resources Slipway owns.
const (
	// StreamName is the one stream holding every event: the audit log.
	StreamName = "SLIPWAY"

	ConsumerPush   = "builder-push"    // push received → plan the builds
	ConsumerBuild  = "builder-build"   // build requested → one BuildKit solve
	ConsumerBuilt  = "deployer-built"  // commit built → deploy requested
	ConsumerDeploy = "deployer-deploy" // deploy requested → target

	// BucketClaims holds one claim per step (build, commit-built, deploy):
	// the durable second layer of deduplication.
	BucketClaims = "slipway_claims"
	// BucketEnvs holds each environment's current commit, keyed by
	// repository and environment (events.EnvKey); its history is the list
	// of earlier commits.
	BucketEnvs = "slipway_envs"
)

// BucketHosts holds the claims of host names ("host.<host>") and the host
// labels of repositories ("label.<label>"), first come.
const BucketHosts = "slipway_hosts"

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

// Topology configures the stream, consumers and buckets.
type Topology struct {
	// Replicas is 1 on one machine, 3 on a cluster.
	Replicas int
	// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id. Beyond
	// it the KV claims deduplicate. Default 15 minutes: it covers the retries
	// of every git host, and keeps the server's id map small.
	DuplicateWindow time.Duration
	// AckWait is how long a delivered message may go without an ack or an
	// in-progress signal before JetStream gives it to another worker.
	AckWait time.Duration
	// MaxDeliver bounds redeliveries of a message that keeps failing.
	MaxDeliver int
}

// DefaultTopology returns the settings for one machine.
func DefaultTopology() Topology {
	return Topology{Replicas: 1, DuplicateWindow: 15 * time.Minute, AckWait: 30 * time.Second, MaxDeliver: 20}
}

// Validate reports settings JetStream would refuse.
func (t Topology) Validate() error {
	var errs []error
	if t.Replicas < 1 || t.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d: must be 1 to 5", t.Replicas))
	}
	if t.DuplicateWindow < time.Second {
		errs = append(errs, fmt.Errorf("duplicate window %s: must be at least 1s", t.DuplicateWindow))
	}
	if t.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ack wait %s: must be at least 1s", t.AckWait))
	}
	if t.MaxDeliver < 1 {
		errs = append(errs, fmt.Errorf("max deliver %d: must be positive", t.MaxDeliver))
	}
	return errors.Join(errs...)
}

// Provision creates or updates the stream, consumers and KV buckets. It is
// idempotent: every component calls it at start.
func Provision(ctx context.Context, js jetstream.JetStream, t Topology) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(t)); err != nil {
		return fmt.Errorf("provision stream %s: %w", StreamName, err)
	}
	for _, c := range append(consumerConfigs(t), releaseConsumers(t)...) {
		if _, err := js.CreateOrUpdateConsumer(ctx, StreamName, c); err != nil {
			return fmt.Errorf("provision consumer %s: %w", c.Durable, err)
		}
	}
	for _, b := range append(bucketConfigs(t), releaseBuckets(t)...) {
		if _, err := js.CreateOrUpdateKeyValue(ctx, b); err != nil {
			return fmt.Errorf("provision bucket %s: %w", b.Bucket, err)
		}
	}
	return provisionDeadLetters(ctx, js, t)
}

func streamConfig(t Topology) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Slipway events: the audit log of every push, build and deploy",
		Subjects:    []string{events.SubjectRoot + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    t.Replicas,
		Duplicates:  t.DuplicateWindow,
	}
}

func consumerConfigs(t Topology) []jetstream.ConsumerConfig {
	c := func(name, filter, desc string, maxPending int) jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{
			Durable:       name,
			Description:   desc,
			FilterSubject: filter,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.AckWait,
			MaxDeliver:    t.MaxDeliver,
			MaxAckPending: maxPending,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			Replicas:      t.Replicas,
		}
	}
	return []jetstream.ConsumerConfig{
		c(ConsumerPush, events.SubjectPushReceived, "plans the builds of a pushed commit", 256),
		c(ConsumerBuild, events.SubjectBuildRequested, "builds one service of one commit", 256),
		c(ConsumerBuilt, events.SubjectCommitBuilt, "turns a built commit into deploy requests", 256),
		// Deploys of different environments run in parallel; the lock of
		// each environment (BucketLocks) keeps one deploy at a time there.
		c(ConsumerDeploy, events.SubjectDeployRequested+".>", "deploys a commit to an environment", DeployMaxAckPending),
	}
}

func bucketConfigs(t Topology) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{Bucket: BucketClaims, Description: "one claim per build, commit and deploy step", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketEnvs, Description: "the commit each environment runs", History: 64, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketLocks, Description: "one deploy lock per environment", History: 1, TTL: lockBucketTTL, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketHosts, Description: "host names claimed by environments, host labels of repositories", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
	}
}

// CheckProvisioned reports whether stream SLIPWAY exists, for a component
// whose credentials may not provision: it waits for a Slipway that may.
func CheckProvisioned(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.Stream(ctx, StreamName); err != nil {
		return fmt.Errorf("stream %s (provisioned by slipway up or a component with -provision): %w", StreamName, err)
	}
	return nil
}
