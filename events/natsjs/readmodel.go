package natsjs

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The buckets of the read model (package readmodel): query records folded
// from stream SLIPWAY by the durable consumer the wiring declares for it.
// Nothing but the projector writes them; `slipway reindex` rebuilds them.
const (
	// BucketReadRepos holds one record per repository: its name and how many
	// commits were pushed.
	BucketReadRepos = "slipway_rm_repos"
	// BucketReadCommits holds one record per commit of a repository, with
	// the build of each service.
	BucketReadCommits = "slipway_rm_commits"
	// BucketReadEnvs holds one record per environment: its commit, health,
	// target and last deploy.
	BucketReadEnvs = "slipway_rm_envs"
	// BucketReadPages holds the lists of the read model in pages of fixed
	// size: the deploys of each environment, the commits of each repository.
	BucketReadPages = "slipway_rm_pages"
	// BucketReadReleases holds the release plans of each environment.
	BucketReadReleases = "slipway_rm_releases"
	// BucketReadEvents indexes each stored event's id to its stream
	// sequence; its entries live as long as the stream keeps messages.
	BucketReadEvents = "slipway_rm_events"
)

// ReadModelBuckets are the read model's buckets, in the order Provision
// creates them.
var ReadModelBuckets = []string{BucketReadRepos, BucketReadCommits, BucketReadEnvs, BucketReadPages, BucketReadReleases, BucketReadEvents}

// ReadModelBucketConfigs are the configurations of the read model's
// buckets: one revision per key (the projector keeps what it needs in the
// record), the event index as old as the stream's messages.
func ReadModelBucketConfigs(t Topology) []jetstream.KeyValueConfig {
	desc := map[string]string{
		BucketReadRepos:    "read model: repositories",
		BucketReadCommits:  "read model: commits and their builds",
		BucketReadEnvs:     "read model: environments",
		BucketReadPages:    "read model: deploy and commit lists, in pages",
		BucketReadReleases: "read model: release plans",
		BucketReadEvents:   "read model: event id to stream sequence",
	}
	out := make([]jetstream.KeyValueConfig, 0, len(ReadModelBuckets))
	for _, b := range ReadModelBuckets {
		cfg := jetstream.KeyValueConfig{Bucket: b, Description: desc[b], History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas}
		if b == BucketReadEvents {
			cfg.TTL = t.MaxAge
		}
		out = append(out, cfg)
	}
	return out
}

// Default retention of stream SLIPWAY: what `slipway up` and the
// components keep unless told otherwise. History, rollback and release
// plans read the read model, so only replays of old events, the ingest's
// 7 days of delivery records and an audit by hand need the stream itself.
const (
	DefaultMaxAge   = 30 * 24 * time.Hour
	DefaultMaxBytes = 10 << 30
)

// minMaxAge is the shortest retention accepted: ingest reads 7 days of
// delivery records at start.
const minMaxAge = 8 * 24 * time.Hour

// validateRetention reports a retention that would drop what Slipway
// still reads from the stream. A test may allow shorter ones
// (AllowShortRetention).
func (t Topology) validateRetention() []error {
	var errs []error
	if t.MaxAge < 0 || t.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("stream retention %s / %d bytes: must not be negative", t.MaxAge, t.MaxBytes))
	}
	if t.MaxAge > 0 && t.MaxAge < minMaxAge && !t.AllowShortRetention {
		errs = append(errs, fmt.Errorf("stream max age %s: must be at least %s (ingest reads 7 days of delivery records), or 0 for no limit", t.MaxAge, minMaxAge))
	}
	if t.MaxAge > 0 && t.MaxAge < t.DuplicateWindow {
		errs = append(errs, fmt.Errorf("stream max age %s: must not be shorter than the duplicate window %s", t.MaxAge, t.DuplicateWindow))
	}
	if t.MaxBytes > 0 && t.MaxBytes < minMaxBytes && !t.AllowShortRetention {
		errs = append(errs, fmt.Errorf("stream max bytes %d: must be at least %d (64 MiB), or 0 for no limit", t.MaxBytes, minMaxBytes))
	}
	return errs
}

// minMaxBytes is the smallest size bound accepted.
const minMaxBytes = 64 << 20
