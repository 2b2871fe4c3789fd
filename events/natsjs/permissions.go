package natsjs

import (
	"github.com/nats-io/nats-server/v2/server"

	"github.com/slipway-dev/slipway/events"
)

// InboxPrefix is the reply subject prefix of role's connections: each role
// subscribes only to its own inboxes, so none reads another's replies or
// receives messages forged into them.
func InboxPrefix(r Role) string {
	if r == RoleAdmin || r == "" {
		return "_INBOX"
	}
	return "_INBOX_" + string(r)
}

// grant is what a role may publish and subscribe to.
type grant struct {
	pub, denyPub, sub []string
}

func (g *grant) add(pub ...string) { g.pub = append(g.pub, pub...) }

// RolePermissions returns the permissions of role on the embedded server,
// whose durable consumers are consumers (each pulled by its Role).
// Every role but admin:
//   - publishes only the events its workflows publish (a builder never a
//     deploy request, ingest only what git hosts sent);
//   - reads stream SLIPWAY (stream info, message gets, ordered consumers)
//     and pulls and acknowledges only its own durable consumers; no role
//     creates, changes or deletes a stream, a durable consumer or a bucket
//     (admin provisions them);
//   - writes only its own keys of the buckets, and the buckets its
//     consumers write (Consumer.Buckets: the read model's projector);
//   - only the deployer reads the secrets bucket, and writes only its
//     recipient there: no builder or ingest ever reads a sealed secret;
//   - receives replies on its own inbox prefix (InboxPrefix).
func RolePermissions(r Role, consumers []Consumer) *server.Permissions {
	if r == RoleAdmin {
		all := &server.SubjectPermission{Allow: []string{">"}}
		return &server.Permissions{Publish: all, Subscribe: all}
	}
	g := &grant{sub: []string{InboxPrefix(r) + ".>"}}
	g.add("$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.FC.>")
	g.readStream(StreamName)
	g.readStream(LogStream)
	switch r {
	case RoleIngest:
		g.add(events.SubjectPushReceived, events.SubjectPullRequest+".>", events.SubjectRef+".>", SubjectDeliveryRecorded)
		g.readBucket("slipway_deliveries") // read once at start when an earlier version left it
	case RoleBuilder:
		g.add(events.SubjectBuildRequested, events.SubjectBuildSucceeded, events.SubjectBuildFailed,
			events.SubjectCommitBuilt, events.SubjectCommitFailed, events.SubjectCheckRequested, events.SubjectCheckFinished, LogSubjectRoot+".>")
		g.consume(StreamName, owned(r, consumers)...)
		g.deadLetters()
		g.readBucket(BucketClaims)
		g.readBucket(BucketReadCommits) // the builds whose claims expired (natsstore.Claims.RecordedBuild)
		g.writeKeys(BucketClaims, "build.>", "built.>", "check.>")
	case RoleDeployer:
		g.add(events.SubjectBuildRequested, events.SubjectDeployRequested+".>", events.SubjectDeploySucceeded+".>",
			events.SubjectDeployFailed+".>", events.SubjectDeploySuperseded+".>", events.SubjectTaskFinished+".>", events.SubjectProvisionFinished+".>",
			events.SubjectReleasePlanned+".>", events.SubjectPreviewRemoved+".>", events.SubjectCheckRequested,
			events.SubjectDeployGated+".>")
		g.consume(StreamName, owned(r, consumers)...)
		g.deadLetters()
		for _, b := range []string{BucketClaims, BucketEnvs, BucketLocks, BucketPreviews, BucketHosts, BucketSecrets, BucketFreezes, BucketCanary} {
			g.readBucket(b)
		}
		g.readBucket(BucketReadCommits)         // the builds whose claims expired (natsstore.Claims.RecordedBuild)
		g.writeKeys(BucketSecrets, "recipient") // the secrets themselves only the operator (admin) writes
		g.writeKeys(BucketClaims, "deploy.>", "task.>", "provision.>", "release.>")
		g.writeKeys(BucketEnvs, ">")
		g.writeKeys(BucketLocks, ">")
		g.writeKeys(BucketPreviews, ">")
		g.writeKeys(BucketHosts, ">")
		g.writeKeys(BucketFreezes, ">")
		g.writeKeys(BucketCanary, ">")
	default:
		return &server.Permissions{Publish: &server.SubjectPermission{}, Subscribe: &server.SubjectPermission{}}
	}
	g.consumerBuckets(r, consumers)
	g.denyDurables(r, consumers)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: g.pub, Deny: g.denyPub},
		Subscribe: &server.SubjectPermission{Allow: g.sub},
	}
}

// readStream lets the role read stream: its info, message gets, and
// consumers of its own (ordered consumers, whose names are random).
func (g *grant) readStream(stream string) {
	api := "$JS.API."
	g.add(api+"STREAM.INFO."+stream, api+"STREAM.MSG.GET."+stream, api+"DIRECT.GET."+stream, api+"DIRECT.GET."+stream+".>",
		api+"CONSUMER.INFO."+stream+".*", api+"CONSUMER.CREATE."+stream+".>", api+"CONSUMER.DELETE."+stream+".*",
		api+"CONSUMER.MSG.NEXT."+stream+".*")
}

// consume lets the role acknowledge the messages of its durable consumers
// of stream (pulling them is allowed by readStream, and denied for the
// other roles' durables by denyDurables).
func (g *grant) consume(stream string, durables ...string) {
	for _, d := range durables {
		g.add("$JS.ACK." + stream + "." + d + ".>")
	}
}

// deadLetters lets the role run the dead-letter copier and count the dead
// letters (the metric slipway_dead_letters).
func (g *grant) deadLetters() {
	api := "$JS.API."
	g.add(api+"STREAM.INFO."+DeadLetterStream,
		api+"CONSUMER.INFO."+AdvisoryStream+"."+ConsumerDeadLetters,
		api+"CONSUMER.MSG.NEXT."+AdvisoryStream+"."+ConsumerDeadLetters,
		"$JS.ACK."+AdvisoryStream+"."+ConsumerDeadLetters+".>",
		deadLetterSubject+".>")
}

// readBucket lets the role read a KV bucket: gets, keys and watches.
func (g *grant) readBucket(bucket string) {
	g.readStream("KV_" + bucket)
}

// writeKeys lets the role put, update and delete the keys of bucket
// matching the patterns.
func (g *grant) writeKeys(bucket string, patterns ...string) {
	for _, p := range patterns {
		g.add("$KV." + bucket + "." + p)
	}
}

// consumerBuckets lets the role read and write the buckets its consumers'
// handlers write (Consumer.Buckets).
func (g *grant) consumerBuckets(r Role, consumers []Consumer) {
	for _, c := range consumers {
		if c.Role != r {
			continue
		}
		for _, b := range c.Buckets {
			g.readBucket(b)
			g.writeKeys(b, ">")
		}
	}
}

// owned returns the names of the consumers role r pulls.
func owned(r Role, consumers []Consumer) []string {
	var out []string
	for _, c := range consumers {
		if c.Role == r {
			out = append(out, c.Name)
		}
	}
	return out
}

// denyDurables forbids the role to create, change or delete any durable
// consumer of stream SLIPWAY, and to pull another role's.
func (g *grant) denyDurables(r Role, consumers []Consumer) {
	api := "$JS.API.CONSUMER."
	for _, c := range consumers {
		d := c.Name
		g.denyPub = append(g.denyPub, api+"CREATE."+StreamName+"."+d, api+"CREATE."+StreamName+"."+d+".>",
			api+"DELETE."+StreamName+"."+d)
		if c.Role != r {
			g.denyPub = append(g.denyPub, api+"MSG.NEXT."+StreamName+"."+d)
		}
	}
}
