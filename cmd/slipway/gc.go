package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/gitclone"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/registry"
	"github.com/slipway-dev/slipway/workflows/release"
)

// gcOptions are the settings of `slipway gc`.
type gcOptions struct {
	Registry string
	// Auth holds the credentials and CA of the registry.
	Auth    pipeline.RegistryAuth
	Keep    int
	MinAge  time.Duration
	DryRun  bool
	RepoDir string // read each environment's keep from slipway.yaml there
	Repo    string // the repository RepoDir is a clone of
	// RegistryGC is a command freeing the deleted manifests' blobs
	// (registrygc.go).
	RegistryGC string
}

func gcCommand() *ffcli.Command {
	o := gcOptions{Auth: pipeline.DefaultConfig().RegistryAuth}
	fs := flag.NewFlagSet("slipway gc", flag.ContinueOnError)
	n := bindOperatorNATS(fs)
	fs.StringVar(&o.Registry, "registry", pipeline.DefaultConfig().Registry, "the registry Slipway pushes to")
	o.Auth.BindAccess(fs)
	fs.IntVar(&o.Keep, "keep", manifest.DefaultKeepCommits, "commits per environment whose images are kept, unless slipway.yaml says (keep:)")
	fs.DurationVar(&o.MinAge, "min-age", 24*time.Hour, "keep every image built more recently")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print what would be deleted, delete nothing")
	fs.StringVar(&o.RepoDir, "repo-dir", "", "a local clone whose slipway.yaml (at HEAD) sets each environment's keep")
	fs.StringVar(&o.Repo, "repo", "", "the repository -repo-dir is a clone of, as owner/name (default: the only one with environments)")
	fs.StringVar(&o.RegistryGC, "registry-gc", "", "command run (sh -c) after manifests were deleted, to free their blobs, e.g. 'docker exec registry registry garbage-collect /etc/docker/registry/config.yml'")
	return &ffcli.Command{
		Name:       "gc",
		ShortUsage: "slipway gc [flags]",
		ShortHelp:  "delete from the registry the images of commits no environment needs",
		LongHelp: "Keeps the images of the last -keep commits deployed to each environment (so rollback can\n" +
			"reach them) and of every commit built within -min-age; deletes the manifests of the other\n" +
			"commits Slipway built. Tags that are not commit ids (buildcache) are never touched. The\n" +
			"registry frees the space at its next `registry garbage-collect`.",
		FlagSet: fs,
		Options: pipeline.Options(),
		Exec: func(ctx context.Context, _ []string) (err error) {
			return n.with("slipway-gc", func(c *pipeline.Conn) error {
				_, err := gc(ctx, c, o, os.Stdout)
				return err
			})
		},
	}
}

// gc deletes the registry manifests of built commits the retention rule
// does not keep, and returns the images deleted ("name@digest").
func gc(ctx context.Context, c *pipeline.Conn, o gcOptions, out io.Writer) ([]string, error) {
	log, err := c.FreshReadModel(ctx)
	if err != nil {
		return nil, err
	}
	log.CatchUp(ctx)
	built, err := log.Built(ctx)
	if err != nil {
		return nil, err
	}
	deploys, err := liveDeploys(ctx, c, log)
	if err != nil {
		return nil, err
	}
	keep, err := keepCounts(ctx, c, o)
	if err != nil {
		return nil, err
	}
	kept := release.Retention{Keep: keep, MinAge: o.MinAge, Now: time.Now()}.Kept(deploys, built)
	access, err := o.Auth.Access()
	if err != nil {
		return nil, err
	}
	reg, err := registry.New(o.Registry, access)
	if err != nil {
		return nil, err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACTION\tIMAGE\tDIGEST\tWHY")
	var deleted []string
	var errs []error
	ours := builtCommits(built, o.Registry)
	for _, name := range sortedKeys(ours) {
		d, err := gcRepository(ctx, reg, o, name, ours[name], kept, w)
		deleted = append(deleted, d...)
		errs = append(errs, err)
	}
	if err := w.Flush(); err != nil {
		return deleted, err
	}
	verb := "deleted"
	if o.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(out, "==> %s %d image(s); run the registry's garbage-collect to free their blobs (-registry-gc)\n", verb, len(deleted))
	errs = append(errs, runRegistryGC(ctx, o.RegistryGC, len(deleted), o.DryRun, out))
	return deleted, errors.Join(errs...)
}

// gcRepository deletes the unkept commit tags of one repository.
func gcRepository(ctx context.Context, reg *registry.Client, o gcOptions, name string, commits map[string]bool, kept map[string]string, w io.Writer) ([]string, error) {
	tags, err := reg.Tags(ctx, name)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(tags)
	gone := map[string]bool{}
	var deleted []string
	for _, tag := range tags {
		if !manifest.IsCommit(tag) || !commits[tag] {
			continue // not a commit, or one another Slipway built
		}
		digest, err := reg.Digest(ctx, name, tag)
		if errors.Is(err, registry.ErrNotFound) {
			continue // deleted with an earlier tag of the same digest
		}
		if err != nil {
			return deleted, err
		}
		ref := o.Registry + "/" + name + ":" + tag[:12]
		if why, ok := kept[digest]; ok {
			fmt.Fprintf(w, "keep\t%s\t%s\t%s\n", ref, shortDigest(digest), why)
			continue
		}
		if gone[digest] {
			continue
		}
		if !o.DryRun {
			if err := reg.Delete(ctx, name, digest); err != nil {
				return deleted, err
			}
		}
		gone[digest] = true
		deleted = append(deleted, name+"@"+digest)
		fmt.Fprintf(w, "delete\t%s\t%s\tno environment needs it\n", ref, shortDigest(digest))
	}
	return deleted, nil
}

// builtCommits returns, by registry repository (without the host), the
// commits built into reg.
func builtCommits(built []release.Built, reg string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, b := range built {
		name, ok := strings.CutPrefix(b.Name, reg+"/")
		if !ok {
			continue
		}
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		out[name][b.Commit] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// liveDeploys returns the deploys of the environments that exist: a
// removed preview needs no image any more.
func liveDeploys(ctx context.Context, c *pipeline.Conn, log readmodel.Fresh) (map[events.EnvID][]release.Deploy, error) {
	all, err := log.AllDeploys(ctx)
	if err != nil {
		return nil, err
	}
	envs, err := c.Envs(ctx)
	if err != nil {
		return nil, err
	}
	states, err := envs.List(ctx)
	if err != nil {
		return nil, err
	}
	live := map[events.EnvID][]release.Deploy{}
	for _, st := range states {
		id := events.EnvID{Repo: st.Repo.FullName, Env: st.Env}
		live[id] = all[id]
	}
	return live, nil
}

// keepCounts returns each environment's keep: for the environments of the
// repository o.RepoDir is a clone of, as its slipway.yaml declares them;
// otherwise o.Keep.
func keepCounts(ctx context.Context, c *pipeline.Conn, o gcOptions) (func(events.EnvID) int, error) {
	declared := map[string]manifest.Environment{}
	var previews *manifest.Environment
	repo := ""
	if o.RepoDir != "" {
		r, err := chooseRepo(ctx, c, o.Repo)
		if err != nil {
			return nil, fmt.Errorf("-repo-dir: %w", err)
		}
		repo = r
		clone, err := gitclone.Open(ctx, o.RepoDir)
		if err != nil {
			return nil, err
		}
		m, err := release.ReadManifest(ctx, clone, events.Repo{}, "HEAD")
		if err != nil {
			return nil, err
		}
		for _, e := range m.Environments() {
			declared[e.Name] = e
			if e.Follows == manifest.FollowsPullRequests {
				previews = &e
			}
		}
	}
	return func(id events.EnvID) int {
		env := id.Env
		if id.Repo != repo {
			return o.Keep
		}
		if e, ok := declared[env]; ok && e.Keep > 0 {
			// The releases whose containers the target retains keep
			// their images in the registry too.
			return max(e.Keep, e.Retain+1)
		}
		if previews != nil {
			if _, ok := previews.PreviewNumber(env); ok {
				return previews.Keep
			}
		}
		return o.Keep
	}, nil
}
