package actions

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/freeze"
)

// Freezes opens the freeze records of the running Slipway.
func (b Bus) Freezes(ctx context.Context) (*natsstore.FreezeStore, error) {
	kv, err := b.JS.KeyValue(ctx, natsjs.BucketFreezes)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", natsjs.BucketFreezes, err)
	}
	return natsstore.NewFreezeStore(kv), nil
}

// Lock freezes env of repo for d (0: until unlocked) with reason, recording
// d.Actor as who froze it (freeze.Lock).
func Lock(ctx context.Context, b Bus, repo, env, reason string, d time.Duration, actor string, out io.Writer) (freeze.Freeze, error) {
	s, err := b.Freezes(ctx)
	if err != nil {
		return freeze.Freeze{}, err
	}
	f, err := freeze.Lock(ctx, s, freeze.Freeze{Repo: repo, Env: env, Reason: reason, Actor: actor}, d, time.Now())
	if err != nil {
		return f, err
	}
	fmt.Fprintf(out, "==> %s of %s %s\n", env, repo, f.Describe())
	return f, nil
}

// Unlock ends the freeze of env of repo and publishes the deploy it held
// (freeze.Unlock); it returns the ended freeze, and false when there was
// none.
func Unlock(ctx context.Context, b Bus, repo, env string, out io.Writer) (freeze.Freeze, bool, error) {
	s, err := b.Freezes(ctx)
	if err != nil {
		return freeze.Freeze{}, false, err
	}
	f, found, err := freeze.Unlock(ctx, s, natsjs.NewPublisher(b.JS, b.Source), repo, env)
	switch {
	case err != nil:
		return f, found, err
	case !found:
		fmt.Fprintf(out, "==> %s of %s is not frozen\n", env, repo)
	case f.Held != nil:
		fmt.Fprintf(out, "==> %s unfrozen; deploying the commit it held: %s (%s)\n", env, Short(f.Held.Commit), f.Held.DedupKey())
	default:
		fmt.Fprintf(out, "==> %s unfrozen; it held no deploy\n", env)
	}
	return f, found, nil
}

// NoteFreeze tells the operator asking for a deliberate deploy that env is
// frozen, and why: the deploy goes ahead.
func NoteFreeze(ctx context.Context, b Bus, repo, env string, out io.Writer) {
	s, err := b.Freezes(ctx)
	if err != nil {
		return
	}
	if f, _, found, err := s.Get(ctx, repo, env); err == nil && found && f.Active(time.Now()) {
		fmt.Fprintf(out, "==> note: %s is %s; this deliberate deploy goes ahead\n", env, f.Describe())
	}
}
