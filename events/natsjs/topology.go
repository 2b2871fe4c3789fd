package natsjs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Names of the JetStream resources Slipway owns.
const (
	// StreamName is the one stream holding every event: the audit log.
	StreamName = "SLIPWAY"

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

// BucketCanary holds the splits of progressive rollouts, the proxies'
// counts per release and the operator's promote and abort commands.
const BucketCanary = "slipway_canary"

// BucketLocks holds one lock per environment while a deploy runs there.
const BucketLocks = "slipway_locks"

// BucketPreviews holds one record per pull request preview.
const BucketPreviews = "slipway_previews"

// BucketSecrets holds the secrets of environments, sealed for the
// deployer's key, and the recipient they are sealed for ("recipient").
// Only the deployer reads it; it writes the recipient alone.
const BucketSecrets = "slipway_secrets"

// BucketFreezes holds one record per frozen environment (workflows/freeze).
const BucketFreezes = "slipway_freezes"

// BucketTokens holds the API's bearer tokens, hashed (package api); only
// admin reads it.
const BucketTokens = "slipway_tokens"

// lockBucketTTL removes a lock nobody renewed for this long: a holder renews
// every third of its lease, so only locks of dead holders ever reach it. It
// only keeps the bucket tidy; the expiry written in each lock is what lets
// another deployer take a dead holder's lock over.
const lockBucketTTL = time.Hour

// Consumer declares a durable pull consumer of stream SLIPWAY: what it
// reads, how its messages are redelivered, and which role pulls it. The
// consumers are the wiring's (cmd/internal/pipeline declares each next to
// the handler it feeds); natsjs provisions them and derives the roles'
// permissions from them.
type Consumer struct {
	// Name is the durable name a Route refers to.
	Name        string
	Description string
	// Subjects are the filter subjects (one or more).
	Subjects []string
	// Role pulls and acknowledges the consumer; no other role may.
	Role Role
	// MaxAckPending bounds the messages in flight across every worker.
	MaxAckPending int
	// AckWait and MaxDeliver, when zero, are the Topology's.
	AckWait    time.Duration
	MaxDeliver int
	// DeliverNew starts the consumer with the events published after it is
	// created (a consumer added to an existing stream must not replay its
	// history); otherwise it starts with the first event stored.
	DeliverNew bool
	// Buckets are the KV buckets the consumer's handler writes (the read
	// model's projector); its role is granted them, and no other role.
	Buckets []string
}

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
	// Consumers are the durable consumers of stream SLIPWAY.
	Consumers []Consumer
	// MaxAge and MaxBytes bound stream SLIPWAY (zero: unbounded); the
	// oldest events go first.
	MaxAge   time.Duration
	MaxBytes int64
	// AllowShortRetention lets a test bound the stream below what
	// production needs (validateRetention).
	AllowShortRetention bool
}

// DefaultTopology returns the settings for one machine, with no durable
// consumer: those are the wiring's (pipeline.Topology adds them).
func DefaultTopology() Topology {
	return Topology{Replicas: 1, DuplicateWindow: 15 * time.Minute, AckWait: 30 * time.Second, MaxDeliver: 20,
		MaxAge: DefaultMaxAge, MaxBytes: DefaultMaxBytes}
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
	errs = append(errs, t.validateRetention()...)
	seen := map[string]bool{}
	for _, c := range t.Consumers {
		if err := c.validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("consumer %s: declared twice", c.Name))
		}
		seen[c.Name] = true
	}
	return errors.Join(errs...)
}

// validate reports a declaration JetStream or the permissions would refuse.
func (c Consumer) validate() error {
	var errs []error
	if c.Name == "" || strings.ContainsAny(c.Name, ".*> \t") {
		errs = append(errs, fmt.Errorf("consumer %q: name must be non-empty, without dots, wildcards or spaces", c.Name))
	}
	if len(c.Subjects) == 0 {
		errs = append(errs, fmt.Errorf("consumer %s: no filter subject", c.Name))
	}
	if c.Role == "" || c.Role == RoleAdmin {
		errs = append(errs, fmt.Errorf("consumer %s: role %q: must be a component's role", c.Name, c.Role))
	}
	if c.MaxAckPending < 1 {
		errs = append(errs, fmt.Errorf("consumer %s: max ack pending %d: must be positive", c.Name, c.MaxAckPending))
	}
	if c.AckWait != 0 && c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("consumer %s: ack wait %s: must be at least 1s", c.Name, c.AckWait))
	}
	if c.MaxDeliver < 0 {
		errs = append(errs, fmt.Errorf("consumer %s: max deliver %d: must not be negative", c.Name, c.MaxDeliver))
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
	for _, c := range t.Consumers {
		if _, err := js.CreateOrUpdateConsumer(ctx, StreamName, consumerConfig(t, c)); err != nil {
			return fmt.Errorf("provision consumer %s: %w", c.Name, err)
		}
	}
	for _, b := range bucketConfigs(t) {
		if _, err := js.CreateOrUpdateKeyValue(ctx, b); err != nil {
			return fmt.Errorf("provision bucket %s: %w", b.Bucket, err)
		}
	}
	if err := provisionLogs(ctx, js, t); err != nil {
		return err
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
		MaxAge:      t.MaxAge,
		MaxBytes:    cmp.Or(t.MaxBytes, -1),
		Discard:     jetstream.DiscardOld,
	}
}

// ConsumerConfig is the JetStream configuration of c, as Provision
// creates it.
func ConsumerConfig(t Topology, c Consumer) jetstream.ConsumerConfig { return consumerConfig(t, c) }

// consumerConfig is the JetStream configuration of c.
func consumerConfig(t Topology, c Consumer) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       c.Name,
		Description:   c.Description,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cmp.Or(c.AckWait, t.AckWait),
		MaxDeliver:    cmp.Or(c.MaxDeliver, t.MaxDeliver),
		MaxAckPending: c.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      t.Replicas,
	}
	if c.DeliverNew {
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	if len(c.Subjects) == 1 {
		cfg.FilterSubject = c.Subjects[0]
	} else {
		cfg.FilterSubjects = c.Subjects
	}
	return cfg
}

func bucketConfigs(t Topology) []jetstream.KeyValueConfig {
	return append([]jetstream.KeyValueConfig{
		{Bucket: BucketClaims, Description: "one claim per build, commit and deploy step", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketEnvs, Description: "the commit each environment runs", History: 64, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketLocks, Description: "one deploy lock per environment", History: 1, TTL: lockBucketTTL, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketHosts, Description: "host names claimed by environments, host labels of repositories", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketPreviews, Description: "one record per pull request preview", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketSecrets, Description: "secrets of environments, sealed for the deployer's key", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketFreezes, Description: "one record per frozen environment", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketTokens, Description: "the API's bearer tokens, SHA-256 hashed", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
		{Bucket: BucketCanary, Description: "splits of progressive rollouts, the proxies' counts, promote and abort", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
	}, ReadModelBucketConfigs(t)...)
}

// CheckProvisioned reports whether stream SLIPWAY exists, for a component
// whose credentials may not provision: it waits for a Slipway that may.
func CheckProvisioned(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.Stream(ctx, StreamName); err != nil {
		return fmt.Errorf("stream %s (provisioned by slipway up or a component with -provision): %w", StreamName, err)
	}
	return nil
}
