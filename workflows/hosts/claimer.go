package hosts

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Kinds of claim.
const (
	// KindDeclared is a host slipway.yaml declares (hosts:), granted by the
	// operator.
	KindDeclared = "declared"
	// KindLegacy is a host the installation served before environments were
	// scoped by repository, kept by the repository it served.
	KindLegacy = "legacy"
)

// ErrRefused is wrapped by the errors of a host a deploy may not have.
var ErrRefused = errors.New("host refused")

// Claim is the record that a host routes to a service of an environment.
type Claim struct {
	Host    string `json:"host"`
	Repo    string `json:"repo"`
	Env     string `json:"env"`
	Service string `json:"service"`
	Kind    string `json:"kind"`
}

// owns reports whether the claim belongs to env of repo.
func (c Claim) owns(repo, env string) bool { return c.Repo == repo && c.Env == env }

// Store keeps the claims of hosts and the host labels of repositories.
type Store interface {
	// Create records c unless its host is claimed, and returns the claim
	// that holds the host: c when it was created.
	Create(ctx context.Context, c Claim) (Claim, error)
	// Put records c over the claim of its host.
	Put(ctx context.Context, c Claim) error
	// Delete removes the claim of host; a host not claimed is not an error.
	Delete(ctx context.Context, host string) error
	// List returns every claim.
	List(ctx context.Context) ([]Claim, error)
	// CreateLabel gives label to repo unless a repository holds it, and
	// returns the repository holding it: repo when it was given.
	CreateLabel(ctx context.Context, label, repo string) (string, error)
	// Labels returns the repository of each label.
	Labels(ctx context.Context) (map[string]string, error)
}

// Claimer applies the rules of the package to a Store.
type Claimer struct {
	Store  Store
	Grants Grants
	// Domain is the proxy's domain ("localhost").
	Domain string
}

var _ deploy.Hosts = (*Claimer)(nil)

// Label returns the host label of repo, giving it the first free one of
// Candidates when it has none.
func (c *Claimer) Label(ctx context.Context, repo string) (string, error) {
	if repo == "" {
		return "", events.Permanent(fmt.Errorf("no repository named: %w", ErrRefused))
	}
	labels, err := c.Store.Labels(ctx)
	if err != nil {
		return "", err
	}
	for l, r := range labels {
		if r == repo {
			return l, nil
		}
	}
	for _, l := range Candidates(repo) {
		holder, err := c.Store.CreateLabel(ctx, l, repo)
		if err != nil {
			return "", err
		}
		if holder == repo {
			return l, nil
		}
	}
	return "", events.Permanent(fmt.Errorf("repository %s: every host label it may have (%s) is taken: %w", repo, strings.Join(Candidates(repo), ", "), ErrRefused))
}

// Claim implements deploy.Hosts: it gives repo its label and claims, for
// env of repo, every host its images declare. A host that is not granted,
// that another environment holds, that two services declare or that looks
// like a default host is refused with an events.Permanent error wrapping
// ErrRefused, and nothing is claimed. undo removes the claims this call
// created (for a deploy that then failed).
func (c *Claimer) Claim(ctx context.Context, repo, env string, images []events.Image) (undo func(context.Context), err error) {
	undo = func(context.Context) {}
	if _, err := c.Label(ctx, repo); err != nil {
		return undo, err
	}
	wanted, err := c.declared(repo, images)
	if err != nil {
		return undo, err
	}
	if len(wanted) == 0 {
		return undo, nil
	}
	held, err := c.byHost(ctx)
	if err != nil {
		return undo, err
	}
	for _, w := range wanted {
		if err := c.allowed(repo, env, w, held); err != nil {
			return undo, err
		}
	}
	var created []string
	undo = func(ctx context.Context) {
		for _, h := range created {
			if err := c.Store.Delete(context.WithoutCancel(ctx), h); err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Str("host", h).Msg("releasing a host claim of a failed deploy")
			}
		}
	}
	for _, w := range wanted {
		isNew, err := c.take(ctx, repo, env, w, held)
		if err != nil {
			undo(ctx)
			return func(context.Context) {}, err
		}
		if isNew {
			created = append(created, w.Host)
		}
	}
	return undo, nil
}

// declared returns the claims images ask for, sorted by host: it refuses a
// host two services declare and one shaped like a default host.
func (c *Claimer) declared(repo string, images []events.Image) ([]Claim, error) {
	by := map[string]Claim{}
	for _, img := range images {
		for _, h := range img.Service.Hosts {
			h = Normalize(h)
			if other, ok := by[h]; ok && other.Service != img.Service.Name {
				return nil, refused("host %s is declared by both services %s and %s", h, other.Service, img.Service.Name)
			}
			if c.defaultShaped(h) {
				return nil, refused("host %s has the form <service>.<env>.<repository>.%s of the default hosts; declare a host outside it", h, Normalize(c.Domain))
			}
			by[h] = Claim{Host: h, Repo: repo, Service: img.Service.Name, Kind: KindDeclared}
		}
	}
	out := make([]Claim, 0, len(by))
	for _, cl := range by {
		out = append(out, cl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out, nil
}

// defaultShaped reports whether host is "<a>.<b>.<c>.<domain>".
func (c *Claimer) defaultShaped(host string) bool {
	prefix, ok := strings.CutSuffix(host, "."+Normalize(c.Domain))
	return ok && strings.Count(prefix, ".") == 2
}

// allowed refuses w when another environment holds it, or when it is not
// granted and not a host the environment kept from before the upgrade.
func (c *Claimer) allowed(repo, env string, w Claim, held map[string]Claim) error {
	h, ok := held[w.Host]
	if ok && !h.owns(repo, env) {
		return refused("host %s is served by %s of %s, which claimed it first; it keeps it", w.Host, h.Env, h.Repo)
	}
	if ok && h.Kind == KindLegacy {
		return nil
	}
	if !c.Grants.Allows(repo, w.Host) {
		return refused("host %s is not granted to %s (the operator grants it with -host-grant %s=%s)", w.Host, repo, repo, w.Host)
	}
	return nil
}

// take claims w for env of repo and reports whether the claim is new. A
// claim of the environment's own is updated when the service changed.
func (c *Claimer) take(ctx context.Context, repo, env string, w Claim, held map[string]Claim) (bool, error) {
	w.Env = env
	if h, ok := held[w.Host]; ok {
		if h.Service == w.Service {
			return false, nil
		}
		w.Kind = h.Kind
		return false, c.Store.Put(ctx, w)
	}
	got, err := c.Store.Create(ctx, w)
	if err != nil {
		return false, err
	}
	if !got.owns(repo, env) {
		return false, refused("host %s is served by %s of %s, which claimed it first; it keeps it", w.Host, got.Env, got.Repo)
	}
	return got == w, nil
}

// Prune implements deploy.Hosts: it removes the claims of env of repo that
// images no longer need (a host no longer declared, a legacy host of a
// service gone). With no images it removes them all (a removed preview).
func (c *Claimer) Prune(ctx context.Context, repo, env string, images []events.Image) error {
	all, err := c.Store.List(ctx)
	if err != nil {
		return err
	}
	declared, services := map[string]string{}, map[string]bool{}
	for _, img := range images {
		services[img.Service.Name] = true
		for _, h := range img.Service.Hosts {
			declared[Normalize(h)] = img.Service.Name
		}
	}
	var errs []error
	for _, cl := range all {
		if !cl.owns(repo, env) {
			continue
		}
		keep := declared[cl.Host] == cl.Service || (cl.Kind == KindLegacy && services[cl.Service])
		if !keep {
			errs = append(errs, c.Store.Delete(ctx, cl.Host))
		}
	}
	return errors.Join(errs...)
}

// byHost returns every claim by host.
func (c *Claimer) byHost(ctx context.Context) (map[string]Claim, error) {
	all, err := c.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Claim, len(all))
	for _, cl := range all {
		out[cl.Host] = cl
	}
	return out, nil
}

// refused is a permanent error wrapping ErrRefused.
func refused(format string, args ...any) error {
	return events.Permanent(fmt.Errorf(format+": %w", append(args, ErrRefused)...))
}
