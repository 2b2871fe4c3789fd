package docker

import (
	"context"
	"fmt"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/slipway-dev/slipway/events"
)

// ResolveAll returns the host:port of every running live replica of service
// in env of repo, in replica order, for the proxy to spread requests over.
// It wraps ErrNotLive when none runs.
//
// The concurrent calls of one environment share one list of its running
// containers (liveRunning): after a deploy, a proxy resolves every service
// of the environment at once, and one list per service made the daemon
// answer them all late.
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	bySvc, err := t.liveRunning(ctx, repo, env)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", LiveName(repo, env, service), err)
	}
	var addrs []string
	for _, c := range bySvc[service] {
		if addr := summaryAddr(c); addr != "" {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: %w", LiveName(repo, env, service), ErrNotLive)
	}
	return addrs, nil
}

// resolving holds the lists of running live containers that ResolveAll
// calls wait for, by environment.
type resolving struct {
	mu   sync.Mutex
	envs map[string]*envLists // by events.EnvKey; absent when none is asked
}

// envLists are the lists of one environment: the one the daemon is
// answering, and the one the calls that arrived since then wait for. A
// call never joins a list that was asked before it began: that list may
// predate a promotion, a rename or a removal the caller must see (the
// proxy's drains wait until no fresh resolution names a replaced
// replica). Nor can a generation bumped on this Target's changes replace
// that rule: the host proxy resolves through a Target of its own while the
// deployer changes the containers from another process. So a burst of
// calls costs the daemon at most two lists, one round trip apart.
type envLists struct {
	running, next *envList
}

// envList is one list of the running live containers of an environment,
// by service, and the calls waiting for it.
type envList struct {
	ctx     context.Context // detached from the callers': one leaving must not fail the others
	cancel  context.CancelFunc
	waiters int // calls still waiting; the last one to leave cancels ctx
	done    chan struct{}
	bySvc   map[string][]container.Summary // read only once done
	err     error
}

// newEnvList returns a list, not yet asked, that keeps the values of ctx
// (its logger) but not its deadline.
func newEnvList(ctx context.Context) *envList {
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &envList{ctx: lctx, cancel: cancel, done: make(chan struct{})}
}

// liveRunning returns the running live containers of env of repo by
// service, from a list the daemon began answering after this call began.
func (t *Target) liveRunning(ctx context.Context, repo, env string) (map[string][]container.Summary, error) {
	key := events.EnvKey(repo, env)
	r := &t.resolving
	r.mu.Lock()
	e := r.envs[key]
	if e == nil {
		e = &envLists{}
		r.envs[key] = e
	}
	var l *envList
	switch {
	case e.running == nil:
		l = newEnvList(ctx)
		e.running = l
		go t.listLive(key, repo, env, e, l)
	case e.next == nil:
		l = newEnvList(ctx)
		e.next = l
	default:
		l = e.next
	}
	l.waiters++
	r.mu.Unlock()

	select {
	case <-l.done:
		return l.bySvc, l.err
	case <-ctx.Done():
		r.mu.Lock()
		l.waiters--
		if l.waiters == 0 {
			l.cancel()
			if e.next == l {
				e.next = nil // never asked: nobody waits for it
			}
		}
		r.mu.Unlock()
		return nil, ctx.Err()
	}
}

// listLive asks the daemon for l, hands it to its waiters and asks for the
// list the calls that arrived meanwhile wait for, if any.
func (t *Target) listLive(key, repo, env string, e *envLists, l *envList) {
	cs, err := t.members(l.ctx, repo, env, false, filters.Arg("status", "running"))
	if err == nil {
		l.bySvc = liveReplicas(cs)
	}
	l.err = err
	l.cancel()

	r := &t.resolving
	r.mu.Lock()
	defer r.mu.Unlock()
	close(l.done)
	e.running, e.next = e.next, nil
	if e.running != nil {
		go t.listLive(key, repo, env, e, e.running)
		return
	}
	delete(r.envs, key)
}
