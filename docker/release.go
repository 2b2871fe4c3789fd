package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
)

// DefaultRetain is how many releases before the current one keep their
// containers (stopped) when a deployment names no count.
const DefaultRetain = 3

// Labels of a release record, a Docker volume that holds no data: its
// labels say which commit an environment runs and in which containers.
const (
	// LabelRelease is the commit of the release the record is of.
	LabelRelease = "slipway.release"
	// LabelSeq orders the records of an environment, newest highest.
	LabelSeq = "slipway.seq"
	// LabelContainers lists the short ids of the live containers of the
	// release, comma-separated.
	LabelContainers = "slipway.containers"
)

// record is one release of an environment as its volume records it.
type record struct {
	name       string
	commit     string
	seq        int64
	containers map[string]bool // short ids
}

// holds reports whether container id served the release r records.
func (r *record) holds(id string) bool {
	return r != nil && r.containers[short(id)]
}

// releaseName is the volume name of the record of env of repo at seq.
func releaseName(repo, env string, seq int64) string {
	return "slipway." + events.RepoToken(repo) + "." + env + ".release-" + strconv.FormatInt(seq, 10)
}

// records returns the release records of env of repo, newest first.
func (t *Target) records(ctx context.Context, repo, env string) ([]*record, error) {
	resp, err := t.cli.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", LabelEnv+"="+env),
		filters.Arg("label", LabelRepo+"="+repo),
		filters.Arg("label", LabelRelease),
	)})
	if err != nil {
		return nil, daemonError("list releases of "+events.EnvID{Repo: repo, Env: env}.String(), err)
	}
	var out []*record
	for _, v := range resp.Volumes {
		seq, err := strconv.ParseInt(v.Labels[LabelSeq], 10, 64)
		if err != nil {
			continue
		}
		r := &record{name: v.Name, commit: v.Labels[LabelRelease], seq: seq, containers: map[string]bool{}}
		for _, id := range strings.Split(v.Labels[LabelContainers], ",") {
			if id != "" {
				r.containers[id] = true
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq > out[j].seq })
	return out, nil
}

// current returns the newest record of rs, or nil.
func current(rs []*record) *record {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

// relabel returns cs with the commit of every container the release cur
// holds set to cur's: a container kept across deploys carries the commit
// it was started at, the record the commit it serves now. The labels of cs
// are not changed in place.
func relabel(cs []container.Summary, cur *record) []container.Summary {
	if cur == nil {
		return cs
	}
	out := slices.Clone(cs)
	for i, c := range out {
		if !cur.holds(c.ID) || c.Labels[LabelCommit] == cur.commit {
			continue
		}
		l := make(map[string]string, len(c.Labels))
		for k, v := range c.Labels {
			l[k] = v
		}
		l[LabelCommit] = cur.commit
		out[i].Labels = l
	}
	return out
}

// listRecorded lists the containers of env of repo with the commit the
// current release record gives those it holds (relabel).
func (t *Target) listRecorded(ctx context.Context, repo, env string) ([]container.Summary, error) {
	cs, err := t.list(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	rs, err := t.records(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	return relabel(cs, current(rs)), nil
}

// record records that env of repo runs commit in the live containers ids.
// The record is a new volume, newer than every other: a crash before it
// leaves the previous record standing.
func (t *Target) record(ctx context.Context, repo, env, commit string, ids []string) error {
	seq := time.Now().UnixNano()
	shorts := make([]string, len(ids))
	for i, id := range ids {
		shorts[i] = short(id)
	}
	sort.Strings(shorts)
	_, err := t.cli.VolumeCreate(ctx, volume.CreateOptions{
		Name: releaseName(repo, env, seq),
		Labels: map[string]string{
			LabelEnv: env, LabelRepo: repo, LabelRelease: commit,
			LabelSeq: strconv.FormatInt(seq, 10), LabelContainers: strings.Join(shorts, ","),
		},
	})
	if err != nil {
		return daemonError("record release "+short(commit)+" of "+events.EnvID{Repo: repo, Env: env}.String(), err)
	}
	return nil
}

// removeRecords removes the release records rs. A record that is already
// gone is not an error.
func (t *Target) removeRecords(ctx context.Context, rs []*record) error {
	for _, r := range rs {
		if err := t.cli.VolumeRemove(ctx, r.name, true); err != nil && !isNotFound(err) {
			return daemonError("remove release record "+r.name, err)
		}
	}
	return nil
}

// prune keeps the records of the current release and of the retain before
// it, removes the older ones and every retained container none of the kept
// records holds. A failure is logged: the next deploy prunes again.
func (t *Target) prune(ctx context.Context, repo, env string, retain int) {
	log := zerolog.Ctx(ctx)
	rs, err := t.records(ctx, repo, env)
	if err == nil {
		keep := rs[:min(len(rs), retain+1)]
		err = t.removeRecords(ctx, rs[len(keep):])
		rs = keep
	}
	if err != nil {
		log.Warn().Err(err).Msg("prune release records")
		return
	}
	cs, err := t.list(ctx, repo, env)
	if err != nil {
		log.Warn().Err(err).Msg("prune retained containers")
		return
	}
	for _, c := range cs {
		if !retainedOf(c) || slices.ContainsFunc(rs, func(r *record) bool { return r.holds(c.ID) }) {
			continue
		}
		if err := t.forceRemove(ctx, c.ID); err != nil {
			log.Warn().Err(err).Str("container", nameOf(c)).Msg("remove a container beyond retention")
			continue
		}
		log.Debug().Str("container", nameOf(c)).Msg("removed a container beyond retention")
	}
}

// removeAllRecords removes every release record of env of repo.
func (t *Target) removeAllRecords(ctx context.Context, repo, env string) error {
	rs, err := t.records(ctx, repo, env)
	if err != nil {
		return err
	}
	if err := t.removeRecords(ctx, rs); err != nil {
		return fmt.Errorf("remove %s: %w", events.EnvID{Repo: repo, Env: env}, err)
	}
	return nil
}
