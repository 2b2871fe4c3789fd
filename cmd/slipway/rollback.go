package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/release"
)

// deliberate are the settings shared by rollback and replay.
type deliberate struct {
	Actor string
	Wait  time.Duration
}

func (d *deliberate) bind(fs *flag.FlagSet) {
	fs.StringVar(&d.Actor, "actor", currentUser(), "who asks, recorded with the deploy")
	fs.DurationVar(&d.Wait, "wait", 5*time.Minute, "how long to wait for the deploy's result; 0 does not wait")
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func rollbackCommand() *ffcli.Command {
	var d deliberate
	fs := flag.NewFlagSet("slipway rollback", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	to := fs.String("to", "", "go back to this commit (it must have run healthy in the environment)")
	steps := fs.Int("steps", 1, "how many commits to go back")
	repo := fs.String("repo", "", "the repository as owner/name (default: the only one with environments)")
	d.bind(fs)
	return &ffcli.Command{
		Name:       "rollback",
		ShortUsage: "slipway rollback [flags] <env> [-repo owner/name]",
		ShortHelp:  "deploy the previous healthy commit of an environment again, from its images; no build",
		LongHelp: "Goes back along the environment's history with earlier rollbacks undone in order: rolling\n" +
			"back twice goes two commits back. -to picks any commit that ran healthy there.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one environment")
			}
			c, err := n.attach("slipway-rollback")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			r, err := chooseRepo(ctx, c, *repo)
			if err != nil {
				return err
			}
			_, err = rollback(ctx, c, r, args[0], *steps, *to, d, os.Stdout)
			return err
		},
	}
}

// rollback requests the deploy of an earlier healthy commit of env of repo
// and waits for its result.
func rollback(ctx context.Context, c *pipeline.Conn, repo, env string, steps int, to string, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	if err := waitInFlight(ctx, c, repo, env, d, out); err != nil {
		return natsstore.DeployDone{}, err
	}
	m, err := c.FreshReadModel(ctx)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	deploys, err := m.Deploys(ctx, repo, env)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	target, cur, err := release.RollbackTarget(deploys, env, steps, to)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	if target.Commit == cur.Commit {
		fmt.Fprintf(out, "==> %s already runs %s\n", env, short(cur.Commit))
		return natsstore.DeployDone{Done: deploy.Done{Outcome: events.OutcomeUnchanged}}, nil
	}
	req := release.RollbackRequest(target, d.Actor, nonce())
	noteFreeze(ctx, c, repo, env, out)
	fmt.Fprintf(out, "==> rolling %s back from %s to %s (deployed %s, %s)\n", env, short(cur.Commit), short(target.Commit),
		target.Time.Local().Format(time.DateTime), target.ID)
	return request(ctx, c, req, d, out)
}

// waitInFlight waits, up to d.Wait (5 minutes when 0), for the last deploy
// request of env of repo to end when it has not yet: a rollback goes back
// from what the environment is about to run, not from what it ran before.
func waitInFlight(ctx context.Context, c *pipeline.Conn, repo, env string, d deliberate, out io.Writer) error {
	req, err := natsstore.NewDeployQueue(c.JS).Latest(ctx, repo, env)
	if err != nil || req == nil {
		return err
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return err
	}
	if _, err := claims.Result(ctx, req.DedupKey()); !errors.Is(err, workflows.ErrNoResult) {
		return err
	}
	fmt.Fprintf(out, "==> waiting for the deploy of %s to %s in flight (%s)\n", short(req.Commit), env, req.DedupKey())
	wait := d.Wait
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := natsstore.WaitDeploy(wctx, c.JS, claims, repo, env, req.DedupKey()); err != nil {
		return fmt.Errorf("the deploy of %s to %s has not ended: roll back once it has: %w", short(req.Commit), env, err)
	}
	return nil
}

// request publishes a deliberate deploy request and waits for its outcome.
func request(ctx context.Context, c *pipeline.Conn, req *events.DeployRequested, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	start := time.Now()
	if _, err := natsjs.NewPublisher(c.JS, "/slipway/cli").Publish(ctx, req); err != nil {
		return natsstore.DeployDone{}, err
	}
	fmt.Fprintf(out, "==> requested %s\n", req.DedupKey())
	if d.Wait <= 0 {
		return natsstore.DeployDone{}, nil
	}
	claims, err := c.Claims(ctx)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, d.Wait)
	defer cancel()
	o, err := natsstore.WaitDeploy(wctx, c.JS, claims, req.Repo.FullName, req.Env, req.DedupKey())
	if err != nil {
		return o, fmt.Errorf("%w (see slipway history -repo %s %s)", err, req.Repo.FullName, req.Env)
	}
	reason := ""
	if o.Result != nil {
		if ev, err := o.Result.Decode(); err == nil {
			r, _ := events.ResultOf(ev)
			reason = r.Reason
		}
	}
	fmt.Fprintf(out, "==> %s: %s in %s %s\n", req.Env, o.Outcome, time.Since(start).Round(time.Millisecond), reason)
	if o.Outcome == events.OutcomeFailed {
		return o, fmt.Errorf("deploy of %s to %s failed: %s", short(req.Commit), req.Env, reason)
	}
	return o, nil
}

func replayCommand() *ffcli.Command {
	var d deliberate
	fs := flag.NewFlagSet("slipway replay", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	d.bind(fs)
	return &ffcli.Command{
		Name:       "replay",
		ShortUsage: "slipway replay [flags] <stream-sequence | event-id>",
		ShortHelp:  "publish a recorded event again under a new id, so it is not deduplicated away",
		LongHelp: "A deploy event (requested, succeeded, failed, superseded) is requested again with a new\n" +
			"nonce: its commit is deployed from its images. Any other event is re-published as it was,\n" +
			"with a new id; steps it leads to that are done already (builds) are not done again.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) != 1 {
				return usagef("want one event")
			}
			c, err := n.attach("slipway-replay")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			_, err = replay(ctx, c, args[0], d, os.Stdout)
			return err
		},
	}
}

// replay re-publishes the event ref names (a stream sequence or an event
// id).
func replay(ctx context.Context, c *pipeline.Conn, ref string, d deliberate, out io.Writer) (natsstore.DeployDone, error) {
	seq, _ := strconv.ParseUint(ref, 10, 64)
	m, err := natsstore.FindEvent(ctx, c.JS, seq, ref)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	ev, err := m.Decode()
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	n := nonce()
	if req, ok := release.ReplayRequest(ev, m.ID, d.Actor, n); ok {
		fmt.Fprintf(out, "==> replaying %s (#%d): %s to %s\n", m.ID, m.Seq, short(req.Commit), req.Env)
		return request(ctx, c, req, d, out)
	}
	env := m.Envelope
	env.ID = m.ID + "." + events.KindReplay.Nonce(n)
	env.Source = "/slipway/cli"
	env.Time = time.Now().UTC()
	dup, err := natsjs.NewPublisher(c.JS, "/slipway/cli").PublishEnvelope(ctx, m.NATSSubject, env)
	if err != nil {
		return natsstore.DeployDone{}, err
	}
	if dup {
		return natsstore.DeployDone{}, errors.New("replay: deduplicated, try again")
	}
	fmt.Fprintf(out, "==> re-published %s (#%d) as %s on %s\n", m.ID, m.Seq, env.ID, m.NATSSubject)
	return natsstore.DeployDone{}, nil
}

// nonce returns a short random id for a deliberate event.
func nonce() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
