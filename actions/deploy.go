package actions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/release"
)

// Deliberate are the settings of an operator's deploy: who asks and how
// long to wait for its result (0 does not wait).
type Deliberate struct {
	Actor string
	Wait  time.Duration
}

// Bus is what the actions need of the running Slipway: its stream and its
// claims (to wait for a deploy's result).
type Bus struct {
	JS     jetstream.JetStream
	Claims workflows.Claims
	// Source is the CloudEvents source of the events the actions publish.
	Source string
	// History answers the deploys of an environment (the read model);
	// nil reads them from the stream (natsstore.DeployLog).
	History release.History
}

func (b Bus) history() release.History {
	if b.History != nil {
		return b.History
	}
	return natsstore.NewDeployLog(b.JS)
}

// ErrNothingToDo is wrapped when the environment already runs the commit
// asked for.
var ErrNothingToDo = errors.New("nothing to do")

// Rollback requests the deploy of an earlier healthy commit of env of
// repo (steps back, or the commit to) and waits for its result.
//
// A deploy of env in flight (requested, without a result) is waited for
// first, up to d.Wait (InFlightWait when 0): a rollback goes back from
// what the environment is about to run, not from what it ran before.
func Rollback(ctx context.Context, b Bus, repo, env string, steps int, to string, d Deliberate, out io.Writer) (natsstore.DeployDone, *events.DeployRequested, error) {
	wait := d.Wait
	if wait <= 0 {
		wait = InFlightWait
	}
	if err := WaitInFlight(ctx, b, repo, env, wait, out); err != nil {
		return natsstore.DeployDone{}, nil, err
	}
	deploys, err := b.history().Deploys(ctx, repo, env)
	if err != nil {
		return natsstore.DeployDone{}, nil, err
	}
	target, cur, err := release.RollbackTarget(deploys, env, steps, to)
	if err != nil {
		return natsstore.DeployDone{}, nil, err
	}
	if target.Commit == cur.Commit {
		fmt.Fprintf(out, "==> %s already runs %s\n", env, Short(cur.Commit))
		return natsstore.DeployDone{Done: deploy.Done{Outcome: events.OutcomeUnchanged}}, nil, nil
	}
	req := release.RollbackRequest(target, d.Actor, Nonce())
	fmt.Fprintf(out, "==> rolling %s back from %s to %s (deployed %s, %s)\n", env, Short(cur.Commit), Short(target.Commit),
		target.Time.Local().Format(time.DateTime), target.ID)
	o, err := Request(ctx, b, req, d, out)
	return o, req, err
}

// InFlightWait is how long a rollback waits at most for a deploy in
// flight when its Deliberate says no wait.
const InFlightWait = 5 * time.Minute

// WaitInFlight waits, up to wait, for the last deploy request of env of
// repo to end when it has not yet.
func WaitInFlight(ctx context.Context, b Bus, repo, env string, wait time.Duration, out io.Writer) error {
	req, err := natsstore.NewDeployQueue(b.JS).Latest(ctx, repo, env)
	if err != nil || req == nil {
		return err
	}
	// The stream first, then the claim: a result recorded between the two
	// reads is then seen by the wait, not missed by both.
	if resultRecorded(ctx, b, req) {
		return nil
	}
	if _, err := b.Claims.Result(ctx, req.DedupKey()); !errors.Is(err, workflows.ErrNoResult) {
		return err
	}
	fmt.Fprintf(out, "==> waiting for the deploy of %s to %s in flight (%s)\n", Short(req.Commit), env, req.DedupKey())
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := natsstore.WaitDeploy(wctx, b.JS, b.Claims, repo, env, req.DedupKey()); err != nil {
		return fmt.Errorf("the deploy of %s to %s has not ended: roll back once it has: %w", Short(req.Commit), env, err)
	}
	return nil
}

// resultRecorded reports whether the stream holds the result event of req
// (its claim may not say so yet, or hold no record at all).
func resultRecorded(ctx context.Context, b Bus, req *events.DeployRequested) bool {
	for _, r := range []struct{ subject, suffix string }{
		{events.SubjectDeploySucceeded, ".succeeded"}, {events.SubjectDeployFailed, ".failed"}, {events.SubjectDeploySuperseded, ".superseded"},
	} {
		m, err := natsstore.LastEvent(ctx, b.JS, events.EnvSubject(r.subject, req.Repo.FullName, req.Env))
		if err == nil && m.ID == req.DedupKey()+r.suffix {
			return true
		}
	}
	return false
}

// Request publishes a deliberate deploy request and waits for its outcome.
func Request(ctx context.Context, b Bus, req *events.DeployRequested, d Deliberate, out io.Writer) (natsstore.DeployDone, error) {
	start := time.Now()
	if _, err := natsjs.NewPublisher(b.JS, b.Source).Publish(ctx, req); err != nil {
		return natsstore.DeployDone{}, err
	}
	fmt.Fprintf(out, "==> requested %s\n", req.DedupKey())
	return awaitDeploy(ctx, b, req.Repo.FullName, req.Env, req.Commit, req.DedupKey(), d.Wait, start, out)
}

// awaitDeploy waits up to wait (not at all when 0) for the outcome of the
// deploy request id of commit to env of repo, asked for at start.
func awaitDeploy(ctx context.Context, b Bus, repo, env, commit, id string, wait time.Duration, start time.Time, out io.Writer) (natsstore.DeployDone, error) {
	if wait <= 0 {
		return natsstore.DeployDone{}, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	o, err := natsstore.WaitDeploy(wctx, b.JS, b.Claims, repo, env, id)
	if err != nil {
		return o, fmt.Errorf("%w (see slipway history -repo %s %s)", err, repo, env)
	}
	reason := Reason(o)
	fmt.Fprintf(out, "==> %s: %s in %s %s\n", env, o.Outcome, time.Since(start).Round(time.Millisecond), reason)
	if o.Outcome == events.OutcomeFailed {
		return o, fmt.Errorf("deploy of %s to %s failed: %s", Short(commit), env, reason)
	}
	return o, nil
}

// Reason returns the reason of a deploy's recorded result, "" for none.
func Reason(o natsstore.DeployDone) string {
	if o.Result == nil {
		return ""
	}
	ev, err := o.Result.Decode()
	if err != nil {
		return ""
	}
	r, _ := events.ResultOf(ev)
	return r.Reason
}

// Replay re-publishes the event ref names (a stream sequence or an event
// id): a deploy event is requested again with a new nonce, any other is
// published again as it was under a new id.
func Replay(ctx context.Context, b Bus, ref string, d Deliberate, out io.Writer) (natsstore.DeployDone, error) {
	seq, _ := strconv.ParseUint(ref, 10, 64)
	m, err := natsstore.FindEvent(ctx, b.JS, seq, ref)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	ev, err := m.Decode()
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	n := Nonce()
	if req, ok := release.ReplayRequest(ev, m.ID, d.Actor, n); ok {
		fmt.Fprintf(out, "==> replaying %s (#%d): %s to %s\n", m.ID, m.Seq, Short(req.Commit), req.Env)
		return Request(ctx, b, req, d, out)
	}
	env := m.Envelope
	env.ID = m.ID + "." + events.KindReplay.Nonce(n)
	env.Source = b.Source
	env.Time = time.Now().UTC()
	dup, err := natsjs.NewPublisher(b.JS, b.Source).PublishEnvelope(ctx, m.NATSSubject, env)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	if dup {
		return natsstore.DeployDone{}, errors.New("replay: deduplicated, try again")
	}
	fmt.Fprintf(out, "==> re-published %s (#%d) as %s on %s\n", m.ID, m.Seq, env.ID, m.NATSSubject)
	return natsstore.DeployDone{}, nil
}

// RetryDeadLetter publishes the dead letter seq again under a new id and
// removes it from the dead letters; it returns the new id.
func RetryDeadLetter(ctx context.Context, b Bus, seq uint64) (string, error) {
	return natsjs.RetryDeadLetter(ctx, b.JS, seq)
}

// Nonce returns a short random id for a deliberate event.
func Nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Short returns the first 12 characters of a commit sha.
func Short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
