package natsjs

import (
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Consumers and buckets of the release, preview and notification workflows.
const (
	ConsumerReleasePush  = "release-push"  // push to the default branch → deploy a changed pin
	ConsumerReleasePR    = "release-pr"    // pull request → release plan
	ConsumerPreviewPR    = "preview-pr"    // pull request → preview opened, updated, removed
	ConsumerPreviewBuilt = "preview-built" // commit built → deploy to the previews it heads
	ConsumerNotify       = "notify"        // build, deploy and release results → the git host

	// BucketPreviews holds one record per pull request preview.
	BucketPreviews = "slipway_previews"
)

// releaseConsumers are the durable consumers of the release and preview
// workflows; each sees every matching event once. They start with the
// events published after they are created: added to an existing stream,
// they must not replay its history (old pins, closed pull requests, old
// statuses).
func releaseConsumers(t Topology) []jetstream.ConsumerConfig {
	c := func(name, filter, desc string) jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{
			Durable:       name,
			Description:   desc,
			FilterSubject: filter,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       t.AckWait,
			MaxDeliver:    t.MaxDeliver,
			MaxAckPending: 64,
			DeliverPolicy: jetstream.DeliverNewPolicy,
			Replicas:      t.Replicas,
		}
	}
	return []jetstream.ConsumerConfig{
		c(ConsumerReleasePush, events.SubjectPushReceived, "deploys the commit a pin file names when a push changes it"),
		c(ConsumerReleasePR, events.SubjectPullRequest+".>", "plans the release of a pull request changing a pin file"),
		c(ConsumerPreviewPR, events.SubjectPullRequest+".>", "opens, updates and removes pull request previews"),
		c(ConsumerPreviewBuilt, events.SubjectCommitBuilt, "deploys a built commit to the previews it heads"),
		notifyConsumer(t),
	}
}

// notifyConsumer reports results to the git hosts, one event at a time so
// statuses arrive in order.
func notifyConsumer(t Topology) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:     ConsumerNotify,
		Description: "posts build, deploy and release results to the git hosts",
		FilterSubjects: []string{
			events.SubjectBuildRequested, events.SubjectBuildSucceeded, events.SubjectBuildFailed, events.SubjectCommitFailed,
			events.SubjectDeployRequested + ".>", events.SubjectDeploySucceeded + ".>", events.SubjectDeployFailed + ".>",
			events.SubjectDeploySuperseded + ".>", events.SubjectReleasePlanned + ".>",
		},
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       t.AckWait,
		MaxDeliver:    t.MaxDeliver,
		MaxAckPending: 1,
		DeliverPolicy: jetstream.DeliverNewPolicy,
		Replicas:      t.Replicas,
	}
}

// releaseBuckets are the KV buckets of the release and preview workflows.
func releaseBuckets(t Topology) []jetstream.KeyValueConfig {
	return []jetstream.KeyValueConfig{
		{Bucket: BucketPreviews, Description: "one record per pull request preview", History: 1, Storage: jetstream.FileStorage, Replicas: t.Replicas},
	}
}
