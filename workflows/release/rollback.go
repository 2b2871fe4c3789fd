package release

import (
	"errors"
	"fmt"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// ErrNoRollback is wrapped by RollbackTarget's errors: there is nothing to
// go back to.
var ErrNoRollback = errors.New("no commit to roll back to")

// IsRollback reports whether a deploy answered a rollback request.
func IsRollback(r events.DeployResult) bool { return r.Kind == events.KindRollback }

// Stack returns the successful deploys an environment moved through, oldest
// first, without those a rollback undid: the last one is the commit the
// environment runs, the one before it where a rollback goes. Rolling back
// twice therefore goes two commits back, not back and forth.
func Stack(deploys []Deploy) []Deploy {
	var stack []Deploy
	for _, d := range deploys {
		if !d.Succeeded() {
			continue
		}
		if IsRollback(d.DeployResult) {
			if i := lastIndex(stack, d.Commit); i >= 0 {
				stack = append(stack[:i], d)
				continue
			}
		}
		if n := len(stack); n > 0 && stack[n-1].Commit == d.Commit {
			stack[n-1] = d
			continue
		}
		stack = append(stack, d)
	}
	return stack
}

func lastIndex(stack []Deploy, commit string) int {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].Commit == commit {
			return i
		}
	}
	return -1
}

// RollbackTarget returns the deploy to put back in env and the one serving
// now. With to empty it goes steps back along Stack; otherwise it finds the
// last successful deploy of the commit to (a unique prefix of at least 7
// characters will do). Either way the target ran healthy in env before, so
// its images and values are known good.
func RollbackTarget(deploys []Deploy, env string, steps int, to string) (target, current Deploy, err error) {
	stack := Stack(deploys)
	if len(stack) == 0 {
		return target, current, fmt.Errorf("%s has no successful deploy: %w", env, ErrNoRollback)
	}
	current = stack[len(stack)-1]
	if to == "" {
		if steps < 1 {
			steps = 1
		}
		if steps >= len(stack) {
			return target, current, fmt.Errorf("%s has %d earlier commit(s) to go back to, not %d: %w", env, len(stack)-1, steps, ErrNoRollback)
		}
		return stack[len(stack)-1-steps], current, nil
	}
	if len(to) < 7 {
		return target, current, fmt.Errorf("commit %q: give at least 7 characters", to)
	}
	found := map[string]Deploy{}
	for _, d := range deploys {
		if d.Succeeded() && strings.HasPrefix(d.Commit, to) {
			found[d.Commit] = d
		}
	}
	switch len(found) {
	case 0:
		return target, current, fmt.Errorf("%s never ran healthy on %s: %w", to, env, ErrNoRollback)
	case 1:
		for _, d := range found {
			return d, current, nil
		}
	}
	return target, current, fmt.Errorf("commit %q is ambiguous on %s (%d commits)", to, env, len(found))
}

// RollbackRequest returns the request that deploys target's commit again
// with target's images and values. nonce must be unique (a rollback is a
// new event, never deduplicated away); it is explicit, so the environment
// may move back.
func RollbackRequest(target Deploy, actor, nonce string) *events.DeployRequested {
	req := &events.DeployRequested{Env: target.Env, Repo: target.Repo, Commit: target.Commit, Images: target.Images, Target: target.Target}
	return req.Ask(events.KindRollback, target.ID, actor, nonce)
}

// ReplayRequest returns the deploy request that re-applies a recorded
// deploy event — a request as it was, or the request a result answered —
// under a new nonce. ok is false for an event that is not a deploy: the
// caller re-publishes it under a new id instead, and the workflows'
// claims make that a no-op for steps already done.
func ReplayRequest(e events.Event, id, actor, nonce string) (req *events.DeployRequested, ok bool) {
	if ev, isReq := e.(*events.DeployRequested); isReq {
		c := *ev
		req = &c
	} else if r, isResult := events.ResultOf(e); isResult {
		req = &events.DeployRequested{Env: r.Env, Repo: r.Repo, Commit: r.Commit, Images: r.Images, Target: r.Target}
	} else {
		return nil, false
	}
	if len(req.Images) == 0 {
		return nil, false
	}
	return req.Ask(events.KindReplay, id, actor, nonce), true
}

// Retained returns the last keep distinct commits deployed successfully
// to an environment, newest first, with the deploy that put each there:
// their images are kept safe from clean-up, so a rollback can always reach
// them.
func Retained(deploys []Deploy, keep int) []Deploy {
	var out []Deploy
	seen := map[string]bool{}
	for i := len(deploys) - 1; i >= 0 && len(out) < keep; i-- {
		d := deploys[i]
		if !d.Succeeded() || seen[d.Commit] {
			continue
		}
		seen[d.Commit] = true
		out = append(out, d)
	}
	return out
}
