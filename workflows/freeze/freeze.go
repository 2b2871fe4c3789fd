package freeze

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// ErrConflict is returned by Store.Put and Store.Delete when the record
// changed since it was read (its revision moved).
var ErrConflict = errors.New("freeze record changed")

// Freeze is the record of one frozen environment.
type Freeze struct {
	Repo   string    `json:"repo"`
	Env    string    `json:"env"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	Since  time.Time `json:"since"`
	// Until is when the freeze ends by itself; zero for never.
	Until time.Time `json:"until,omitzero"`
	// Held is the latest automatic deploy the freeze stopped.
	Held *events.DeployRequested `json:"held,omitempty"`
}

// Active reports whether f still freezes its environment at now.
func (f Freeze) Active(now time.Time) bool { return f.Until.IsZero() || now.Before(f.Until) }

// Describe says who froze the environment, why and until when.
func (f Freeze) Describe() string {
	s := fmt.Sprintf("frozen by %s since %s: %s", f.Actor, f.Since.UTC().Format(time.DateTime), f.Reason)
	if !f.Until.IsZero() {
		s += fmt.Sprintf(" (until %s UTC)", f.Until.UTC().Format(time.DateTime))
	}
	return s
}

// Store keeps the freeze records, one per environment of a repository
// (natsstore.FreezeStore). Revisions make every change a compare-and-set:
// Put with revision 0 creates, and fails with ErrConflict when a record
// exists.
type Store interface {
	Get(ctx context.Context, repo, env string) (f Freeze, revision uint64, found bool, err error)
	Put(ctx context.Context, f Freeze, revision uint64) error
	Delete(ctx context.Context, repo, env string, revision uint64) error
	List(ctx context.Context) ([]Freeze, error)
}

// Publisher publishes an event and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, e events.Event) (duplicate bool, err error)
}

// Lock freezes env of repo for d (0: until unlocked), or changes the
// reason and expiry of its freeze, keeping what it holds.
func Lock(ctx context.Context, s Store, f Freeze, d time.Duration, now time.Time) (Freeze, error) {
	if f.Reason == "" {
		return f, errors.New("lock: a reason is required (-m)")
	}
	if d < 0 {
		return f, fmt.Errorf("lock: duration %s is negative", d)
	}
	f.Since = now.UTC()
	if d > 0 {
		f.Until = f.Since.Add(d)
	}
	for range 10 {
		old, rev, found, err := s.Get(ctx, f.Repo, f.Env)
		if err != nil {
			return f, err
		}
		if found {
			f.Held = old.Held
		}
		err = s.Put(ctx, f, rev)
		if !errors.Is(err, ErrConflict) {
			return f, err
		}
	}
	return f, fmt.Errorf("lock %s: %w too often", f.Env, ErrConflict)
}

// Unlock ends the freeze of env of repo and publishes the deploy it held,
// which goes first: a crash between the two leaves the freeze, and the next
// Unlock publishes the same request again (the stream drops the
// duplicate). It returns the ended freeze, and false when there was none.
func Unlock(ctx context.Context, s Store, pub Publisher, repo, env string) (Freeze, bool, error) {
	for range 10 {
		f, rev, found, err := s.Get(ctx, repo, env)
		if err != nil || !found {
			return f, false, err
		}
		if f.Held != nil {
			if _, err := pub.Publish(ctx, f.Held); err != nil {
				return f, true, fmt.Errorf("unlock %s: publish the held deploy: %w", env, err)
			}
		}
		err = s.Delete(ctx, repo, env, rev)
		if !errors.Is(err, ErrConflict) {
			return f, true, err
		}
	}
	return Freeze{}, true, fmt.Errorf("unlock %s: %w too often", env, ErrConflict)
}

// Sweep ends every freeze past its expiry at now (Unlock), returning those
// it ended.
func Sweep(ctx context.Context, s Store, pub Publisher, now time.Time) ([]Freeze, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	var ended []Freeze
	var errs []error
	for _, f := range all {
		if f.Active(now) {
			continue
		}
		got, ok, err := Unlock(ctx, s, pub, f.Repo, f.Env)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			ended = append(ended, got)
		}
	}
	return ended, errors.Join(errs...)
}
