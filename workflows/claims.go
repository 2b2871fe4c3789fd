package workflows

import (
	"context"
	"errors"
	"time"
)

// ErrClaimHeld is returned by Claims.Claim when another live worker holds the
// step. The caller retries later: when that worker dies its lease expires.
var ErrClaimHeld = errors.New("claim held by another worker")

// ErrNoResult is returned by Claims.Result for a step not completed.
var ErrNoResult = errors.New("step not completed")

// Claims makes each step keyed on a commit run once, across redeliveries,
// replays and worker crashes. A claim is a lease while the step runs and a
// permanent record once it completed.
type Claims interface {
	// Claim takes the step for this worker for ttl. It returns an error
	// wrapping events.ErrAlreadyDone when the step completed before, and
	// ErrClaimHeld while another worker's lease is live.
	Claim(ctx context.Context, key string, ttl time.Duration) (Lease, error)
	// Result returns what a completed step recorded, or ErrNoResult.
	Result(ctx context.Context, key string) ([]byte, error)
}

// Lease is a claim held by this worker.
type Lease interface {
	// Renew extends the lease by its ttl. Its error wraps ErrLeaseLost
	// once another worker took the step over.
	Renew(ctx context.Context) error
	// Complete records the step as done with its result; the claim is then
	// permanent.
	Complete(ctx context.Context, result []byte) error
	// Release gives the step up so that a retry can claim it again.
	Release(ctx context.Context) error
}
