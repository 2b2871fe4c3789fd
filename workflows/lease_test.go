package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
)

// TestRunClaimed: the claim → keep the lease → complete skeleton of the
// build, deploy and task steps runs a step once, leaves a retryable failure
// to a retry, and hands a success or a permanent failure back still held.
func TestRunClaimed(t *testing.T) {
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
	if err != nil {
		t.Fatal(err)
	}
	mine, other := natsstore.NewClaims(kv, "mine"), natsstore.NewClaims(kv, "other")
	const ttl = time.Minute
	tests := []struct {
		name     string
		setup    func(t *testing.T, key string)
		stepErr  error
		wantRun  bool
		wantHeld bool // a lease handed back
		wantErr  func(error) bool
		// wantAfter is what another worker's claim gets afterwards.
		wantAfter func(error) bool
	}{
		{name: "success", wantRun: true, wantHeld: true, wantErr: isNil, wantAfter: isHeld},
		{name: "permanent failure", stepErr: events.Permanent(errors.New("bad dockerfile")), wantRun: true, wantHeld: true,
			wantErr: events.IsPermanent, wantAfter: isHeld},
		{name: "retryable failure", stepErr: errors.New("buildkitd unreachable"), wantRun: true,
			wantErr: func(err error) bool { return err != nil && !events.IsPermanent(err) }, wantAfter: isNil},
		{name: "held by another", setup: func(t *testing.T, key string) { mustClaim(t, other, key) },
			wantErr: func(err error) bool {
				var re *events.RetryableError
				return errors.As(err, &re) && re.After == ttl/2 && errors.Is(err, workflows.ErrClaimHeld)
			}, wantAfter: isHeld},
		{name: "done before", setup: func(t *testing.T, key string) {
			if err := mustClaim(t, other, key).Complete(ctx, nil); err != nil {
				t.Fatal(err)
			}
		}, wantErr: func(err error) bool { return errors.Is(err, events.ErrAlreadyDone) },
			wantAfter: func(err error) bool { return errors.Is(err, events.ErrAlreadyDone) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "step." + events.KeyPart(tt.name)
			if tt.setup != nil {
				tt.setup(t, key)
			}
			ran := false
			lease, err := workflows.RunClaimed(ctx, mine, key, ttl, func(ctx context.Context) error {
				ran = true
				return tt.stepErr
			})
			if ran != tt.wantRun || (lease != nil) != tt.wantHeld || !tt.wantErr(err) {
				t.Fatalf("RunClaimed() ran %v, lease %v, error %v; want ran %v, lease %v", ran, lease != nil, err, tt.wantRun, tt.wantHeld)
			}
			_, err = other.Claim(ctx, key, ttl)
			if !tt.wantAfter(err) {
				t.Errorf("another worker's claim afterwards: %v", err)
			}
		})
	}
}

func isNil(err error) bool  { return err == nil }
func isHeld(err error) bool { return errors.Is(err, workflows.ErrClaimHeld) }

func mustClaim(t *testing.T, c workflows.Claims, key string) workflows.Lease {
	t.Helper()
	lease, err := c.Claim(context.Background(), key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return lease
}
