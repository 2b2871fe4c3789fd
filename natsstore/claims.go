package natsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
)

// Claims implements workflows.Claims on a JetStream KV bucket. Every state
// change is a revision-checked Create or Update, so two workers can never both
// believe they hold a step. Every lease has a holder name of its own (the
// process's name and a random suffix): two deliveries of one message handled
// at once by the same process exclude each other like two processes do.
type Claims struct {
	kv     jetstream.KeyValue
	holder string
	now    func() time.Time
	// identity and boot, when set, name the worker across restarts and
	// this start of it (succession.go).
	identity, boot string
	// js and retention, when set, make completed claims expire (expiry.go).
	js        jetstream.JetStream
	retention time.Duration
	records   *commitRecords
}

var _ workflows.Claims = (*Claims)(nil)

// NewClaims returns claims on kv held in the name of holder (unique per
// process, e.g. host, pid and a random part); each lease adds a suffix.
func NewClaims(kv jetstream.KeyValue, holder string) *Claims {
	return &Claims{kv: kv, holder: holder, now: time.Now}
}

// KV is the bucket the claims are kept in, which also holds the build
// outputs (NewOutputs).
func (c *Claims) KV() jetstream.KeyValue { return c.kv }

type claimState string

const (
	stateRunning  claimState = "running"
	stateDone     claimState = "done"
	stateReleased claimState = "released" // given up for a retry to take
)

type claimRecord struct {
	State   claimState      `json:"state"`
	Holder  string          `json:"holder"`
	Expires time.Time       `json:"expires"`
	Attempt int             `json:"attempt,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	// Identity and Boot name the worker holding the lease across its
	// restarts and this start of it, when it has a stable identity.
	Identity string `json:"identity,omitempty"`
	Boot     string `json:"boot,omitempty"`
}

// Claim implements workflows.Claims.
func (c *Claims) Claim(ctx context.Context, key string, ttl time.Duration) (workflows.Lease, error) {
	l := &lease{c: c, key: key, ttl: ttl, holder: c.holder + "#" + uuid.NewString()[:8], attempt: 1}
	rev, err := c.kv.Create(ctx, key, l.record(stateRunning, nil))
	if err == nil {
		l.rev = rev
		return l, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("claim %s: %w", key, err)
	}
	entry, err := c.kv.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("claim %s: read: %w", key, err)
	}
	var cur claimRecord
	if err := json.Unmarshal(entry.Value(), &cur); err != nil {
		return nil, fmt.Errorf("claim %s: decode: %w", key, err)
	}
	switch {
	case cur.State == stateDone:
		return nil, fmt.Errorf("claim %s: %w", key, events.ErrAlreadyDone)
	case cur.State == stateRunning && c.now().Before(cur.Expires) && !c.succeeds(cur):
		return nil, fmt.Errorf("claim %s by %s until %s: %w", key, cur.Holder, cur.Expires.Format(time.RFC3339), workflows.ErrClaimHeld)
	}
	// The holder released the step, or its lease expired (it died or lost
	// NATS for longer than its lease), or it was this worker's predecessor
	// (it died: a worker of the same identity started again): take the
	// step over, unless someone else did so first.
	l.attempt = cur.Attempt + 1
	rev, err = c.kv.Update(ctx, key, l.record(stateRunning, nil), entry.Revision())
	if err != nil {
		return nil, fmt.Errorf("claim %s: take over: %w", key, workflows.ErrClaimHeld)
	}
	l.rev = rev
	return l, nil
}

// Result implements workflows.Claims.
func (c *Claims) Result(ctx context.Context, key string) ([]byte, error) {
	entry, err := c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, workflows.ErrNoResult
	}
	if err != nil {
		return nil, fmt.Errorf("read claim %s: %w", key, err)
	}
	var cur claimRecord
	if err := json.Unmarshal(entry.Value(), &cur); err != nil {
		return nil, fmt.Errorf("read claim %s: decode: %w", key, err)
	}
	if cur.State != stateDone {
		return nil, workflows.ErrNoResult
	}
	return cur.Result, nil
}

// ClaimInfo is what a claim records of its step, for the tools and tests
// that observe steps: State is "running", "done" or "released"; Attempt
// counts the leases taken on the step, the first one included, whoever
// took them and however they ended (completed, released, expired).
type ClaimInfo struct {
	State   string
	Holder  string
	Expires time.Time
	Attempt int
	Result  json.RawMessage
}

// Inspect returns the claim of key as recorded; ok is false when the step
// was never claimed.
func (c *Claims) Inspect(ctx context.Context, key string) (info ClaimInfo, ok bool, err error) {
	entry, err := c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return info, false, nil
	}
	if err != nil {
		return info, false, fmt.Errorf("inspect claim %s: %w", key, err)
	}
	var cur claimRecord
	if err := json.Unmarshal(entry.Value(), &cur); err != nil {
		return info, false, fmt.Errorf("inspect claim %s: decode: %w", key, err)
	}
	return ClaimInfo{State: string(cur.State), Holder: cur.Holder, Expires: cur.Expires, Attempt: cur.Attempt, Result: cur.Result}, true, nil
}

type lease struct {
	c       *Claims
	key     string
	holder  string
	ttl     time.Duration
	rev     uint64
	attempt int
}

func (l *lease) record(s claimState, result []byte) []byte {
	b, _ := json.Marshal(claimRecord{
		State:    s,
		Holder:   l.holder,
		Expires:  l.c.now().Add(l.ttl).UTC(),
		Attempt:  l.attempt,
		Result:   result,
		Identity: l.c.identity,
		Boot:     l.c.boot,
	})
	return b
}

func (l *lease) Renew(ctx context.Context) error {
	rev, err := l.c.kv.Update(ctx, l.key, l.record(stateRunning, nil), l.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("renew claim %s: %w: %w", l.key, workflows.ErrLeaseLost, err)
	}
	if err != nil {
		return fmt.Errorf("renew claim %s: %w", l.key, err)
	}
	l.rev = rev
	return nil
}

func (l *lease) Complete(ctx context.Context, result []byte) error {
	if result != nil && !json.Valid(result) {
		return fmt.Errorf("complete claim %s: result is not JSON", l.key)
	}
	rev, err := l.c.complete(ctx, l.key, l.record(stateDone, result), l.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Another worker took the step over, or an earlier try of this
		// Complete was stored but its answer lost: either way not ours to
		// write again.
		return fmt.Errorf("complete claim %s: %w: %w", l.key, workflows.ErrLeaseLost, err)
	}
	if err != nil {
		return fmt.Errorf("complete claim %s: %w", l.key, err)
	}
	l.rev = rev
	return nil
}

// Release records the step as released rather than deleting its claim, so
// that the next lease on it still counts its attempts.
func (l *lease) Release(ctx context.Context) error {
	rev, err := l.c.kv.Update(ctx, l.key, l.record(stateReleased, nil), l.rev)
	if err != nil {
		return fmt.Errorf("release claim %s: %w", l.key, err)
	}
	l.rev = rev
	return nil
}
