package natsstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
)

// Expiring returns claims whose completed steps of natsjs.ExpiringClaims
// expire retention after they completed (a per-message TTL on the
// completing revision, so the bucket stays bounded by the steps of the
// last retention period). Running and released claims never expire: a
// holder's renewals write revisions without one. A retention of 0 keeps
// every claim. The bucket must allow per-message TTLs (Provision
// configures it; natsjs.ClaimRetention reads the retention from it).
func (c *Claims) Expiring(js jetstream.JetStream, retention time.Duration) *Claims {
	cp := *c
	cp.js, cp.retention, cp.records = js, retention, &commitRecords{js: js}
	return &cp
}

// OpenClaims returns the claims of the claims bucket held in the name of
// holder, their completed steps expiring as the bucket says
// (natsjs.ClaimRetention).
func OpenClaims(ctx context.Context, js jetstream.JetStream, holder string) (*Claims, error) {
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketClaims, err)
	}
	retention, err := natsjs.ClaimRetention(ctx, kv)
	if err != nil {
		return nil, err
	}
	return NewClaims(kv, holder).Expiring(js, retention), nil
}

// complete writes the completed record of key at revision rev: with the
// retention as its TTL when the step's claim expires, else as a plain
// revision-checked update.
func (c *Claims) complete(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if c.js == nil || c.retention <= 0 || !natsjs.ClaimExpires(key) {
		return c.kv.Update(ctx, key, value, rev)
	}
	m := &nats.Msg{Subject: "$KV." + c.kv.Bucket() + "." + key, Data: value, Header: nats.Header{}}
	ack, err := c.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(c.retention))
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return 0, fmt.Errorf("%w: %w", jetstream.ErrKeyRevisionMismatch, err)
	}
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

var _ build.Records = (*Claims)(nil)

// RecordedBuild implements build.Records from the read model's commit
// record: the build of a step whose claim expired. Claims that do not
// expire (no Expiring) have nothing recorded beyond their claims.
func (c *Claims) RecordedBuild(ctx context.Context, repo, sha, service string) (image, digest string, ok bool, err error) {
	if c.records == nil || c.retention <= 0 {
		return "", "", false, nil
	}
	m, err := c.records.open(ctx)
	if err != nil {
		return "", "", false, err
	}
	commit, err := m.Commit(ctx, repo, sha)
	if errors.Is(err, readmodel.ErrNotFound) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("recorded build of %s of %s: %w", service, sha, err)
	}
	b := commit.Builds[service]
	if b == nil || b.Result != readmodel.BuildSucceeded || b.Digest == "" || b.Image == "" {
		return "", "", false, nil
	}
	return b.Image, b.Digest, true, nil
}

// commitRecords opens the read model's commit records once, on first use.
type commitRecords struct {
	js jetstream.JetStream
	mu sync.Mutex
	m  *readmodel.Model
}

func (r *commitRecords) open(ctx context.Context) (*readmodel.Model, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m != nil {
		return r.m, nil
	}
	m, err := readmodel.OpenCommits(ctx, r.js)
	if err != nil {
		return nil, err
	}
	r.m = m
	return m, nil
}
