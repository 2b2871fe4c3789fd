package readmodel

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/release"
)

// ErrNotFound is wrapped by the queries asking for one record that is not
// there.
var ErrNotFound = errors.New("not in the read model")

var _ release.History = (*Model)(nil)

// Repos returns every repository, by name.
func (m *Model) Repos(ctx context.Context) ([]Repo, error) {
	out, err := all[Repo](ctx, m.repos, "")
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Commit returns the commit sha of repo with its builds.
func (m *Model) Commit(ctx context.Context, repo, sha string) (Commit, error) {
	c, _, found, err := get[Commit](ctx, m.commits, commitKey(repo, sha))
	if err == nil && !found {
		err = fmt.Errorf("commit %s of %s: %w", sha, repo, ErrNotFound)
	}
	return c, err
}

// Commits returns the last limit commits of repo, newest first (every
// one when limit is 0). It reads limit/64+2 pages, whatever the number of
// commits recorded.
func (m *Model) Commits(ctx context.Context, repo string, limit int) ([]Commit, error) {
	r, _, _, err := get[Repo](ctx, m.repos, repoKey(repo))
	if err != nil {
		return nil, err
	}
	shas, err := last[string](ctx, m.pages, func(n int) string { return commitPage(repo, n) }, r.Commits, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Commit, 0, len(shas))
	for _, sha := range slices.Backward(shas) {
		c, err := m.Commit(ctx, repo, sha)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Env returns the environment env of repo.
func (m *Model) Env(ctx context.Context, repo, env string) (Env, error) {
	v, _, found, err := get[Env](ctx, m.envs, envKey(repo, env))
	if err == nil && !found {
		err = fmt.Errorf("environment %s: %w", events.EnvID{Repo: repo, Env: env}, ErrNotFound)
	}
	return v, err
}

// Envs returns the environments of repo, or of every repository when repo
// is empty, by repository and name.
func (m *Model) Envs(ctx context.Context, repo string) ([]Env, error) {
	prefix := ""
	if repo != "" {
		prefix = events.RepoKey(repo) + "."
	}
	out, err := all[Env](ctx, m.envs, prefix)
	out = slices.DeleteFunc(out, func(e Env) bool { return repo != "" && e.Repo != repo })
	sort.Slice(out, func(i, j int) bool {
		if out[i].Repo != out[j].Repo {
			return out[i].Repo < out[j].Repo
		}
		return out[i].Env < out[j].Env
	})
	return out, err
}

// Previews returns the previews of repo (every repository when empty),
// removed ones included (their Health is HealthRemoved).
func (m *Model) Previews(ctx context.Context, repo string) ([]Env, error) {
	envs, err := m.Envs(ctx, repo)
	return slices.DeleteFunc(envs, func(e Env) bool { return !e.Preview }), err
}

// Deploys implements release.History: every deploy result of env of repo,
// oldest first.
func (m *Model) Deploys(ctx context.Context, repo, env string) ([]release.Deploy, error) {
	return m.LastDeploys(ctx, repo, env, 0)
}

// LastDeploys returns the last limit deploy results of env of repo (every
// one when limit is 0), oldest first. It reads the environment's record
// and limit/64+2 pages: its time does not grow with the history.
func (m *Model) LastDeploys(ctx context.Context, repo, env string, limit int) ([]release.Deploy, error) {
	v, _, _, err := get[Env](ctx, m.envs, envKey(repo, env))
	if err != nil {
		return nil, err
	}
	return last[release.Deploy](ctx, m.pages, func(n int) string { return deployPage(repo, env, n) }, v.Deploys, limit)
}

// AllDeploys returns the deploys of every environment, by environment,
// oldest first.
func (m *Model) AllDeploys(ctx context.Context) (map[events.EnvID][]release.Deploy, error) {
	envs, err := m.Envs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[events.EnvID][]release.Deploy, len(envs))
	for _, e := range envs {
		d, err := m.Deploys(ctx, e.Repo, e.Env)
		if err != nil {
			return nil, err
		}
		out[e.ID()] = d
	}
	return out, nil
}

// Built returns every image built, from the commits' builds.
func (m *Model) Built(ctx context.Context) ([]release.Built, error) {
	commits, err := all[Commit](ctx, m.commits, "")
	if err != nil {
		return nil, err
	}
	var out []release.Built
	for _, c := range commits {
		for _, b := range c.Builds {
			if b.Result != BuildSucceeded || b.Digest == "" {
				continue
			}
			name := b.Image
			if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
				name = name[:i]
			}
			at := b.StartedAt.Add(b.Duration)
			if b.StartedAt.IsZero() {
				at = b.RequestedAt
			}
			out = append(out, release.Built{Name: name, Commit: c.SHA, Digest: b.Digest, At: at})
		}
	}
	return out, nil
}

// Plan returns the release plan of pull request number for env of repo,
// or its last plan when number is 0.
func (m *Model) Plan(ctx context.Context, repo, env string, number int) (Plan, error) {
	if number == 0 {
		v, err := m.Env(ctx, repo, env)
		if err != nil {
			return Plan{}, err
		}
		number = v.Plan
	}
	p, _, found, err := get[Plan](ctx, m.releases, planKey(repo, env, number))
	if err == nil && !found {
		err = fmt.Errorf("plan of %s: %w", events.EnvID{Repo: repo, Env: env}, ErrNotFound)
	}
	return p, err
}

// Plans returns the release plans of env of repo, by pull request number.
func (m *Model) Plans(ctx context.Context, repo, env string) ([]Plan, error) {
	out, err := all[Plan](ctx, m.releases, envKey(repo, env)+".")
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, err
}

// Event returns where the last event with id is stored. The index keeps
// an entry as long as the stream keeps messages (the bucket's TTL is the
// stream's max age).
func (m *Model) Event(ctx context.Context, id string) (Stored, error) {
	s, _, found, err := get[Stored](ctx, m.byID, idKey(id))
	if err == nil && (!found || s.ID != id) {
		err = fmt.Errorf("event %q: %w", id, ErrNotFound)
	}
	return s, err
}

// DeadLetters returns the messages waiting in the dead-letter stream, the
// record of what JetStream gave up on (bounded: each is removed when
// retried).
func (m *Model) DeadLetters(ctx context.Context) ([]natsjs.DeadLetter, error) {
	return natsjs.DeadLetters(ctx, m.js)
}

// last returns the last limit of the n items of a paged list (every one
// when limit is 0), oldest first.
func last[T any](ctx context.Context, kv jetstream.KeyValue, key func(int) string, n, limit int) ([]T, error) {
	from := 0
	if limit > 0 && n > limit {
		from = n - limit
	}
	var out []T
	for p := from / pageSize; p*pageSize < n; p++ {
		pg, _, _, err := get[page[T]](ctx, kv, key(p))
		if err != nil {
			return nil, err
		}
		for i, it := range pg.Items {
			if p*pageSize+i >= from {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// all returns every record of kv whose key starts with prefix.
func all[T any](ctx context.Context, kv jetstream.KeyValue, prefix string) ([]T, error) {
	filter := ">"
	if prefix != "" {
		filter = prefix + ">"
	}
	lister, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("read model list %s: %w", kv.Bucket(), err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	var out []T
	for _, k := range keys {
		v, _, found, err := get[T](ctx, kv, k)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, v)
		}
	}
	return out, nil
}
