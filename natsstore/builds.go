package natsstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// Build results, as Builds reports them.
const (
	BuildRunning   = "building"
	BuildSucceeded = "succeeded"
	BuildFailed    = "failed"
)

// Build is the latest known state of building one service of one commit
// (Service "" for a failure of the whole commit: its slipway.yaml).
type Build struct {
	Repo    string
	Commit  string
	Branch  string
	Service string
	Result  string // BuildRunning, BuildSucceeded or BuildFailed
	Digest  string
	Reason  string
	Time    time.Time
	Seq     uint64
	// Attempt counts the leases taken on the build (its claim), when a
	// claim is known: more than one while building means it is retried.
	Attempt int
}

// Builds returns the latest build per commit and service of repo (every
// repository when repo is empty), oldest first; with commit non-empty only
// those of the commits it is a prefix of. The attempts of unfinished builds are read from claims, when given.
func Builds(ctx context.Context, js jetstream.JetStream, claims *Claims, repo, commit string) ([]Build, error) {
	msgs, err := Messages(ctx, js, events.SubjectBuildRequested, events.SubjectBuildSucceeded, events.SubjectBuildFailed, events.SubjectCommitFailed)
	if err != nil {
		return nil, err
	}
	type key struct{ repo, commit, service string }
	latest := map[key]Build{}
	for _, m := range msgs {
		ev, err := m.Decode()
		if err != nil {
			continue
		}
		b, r, ok := buildOf(ev)
		if !ok || (repo != "" && !strings.EqualFold(r.FullName, repo)) || !strings.HasPrefix(b.Commit, strings.ToLower(commit)) {
			continue
		}
		b.Repo, b.Time, b.Seq = r.FullName, m.Time, m.Seq
		k := key{strings.ToLower(b.Repo), b.Commit, b.Service}
		if prev, seen := latest[k]; seen && b.Result == BuildRunning && prev.Result != BuildRunning {
			continue // a redelivered request of a finished build
		}
		latest[k] = b
	}
	out := make([]Build, 0, len(latest))
	for _, b := range latest {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Build) int { return cmp.Compare(a.Seq, b.Seq) })
	if claims != nil {
		for i, b := range out {
			if b.Result != BuildRunning {
				continue
			}
			if info, ok, err := claims.Inspect(ctx, events.BuildKey(b.Repo, b.Commit, b.Service)); err == nil && ok {
				out[i].Attempt = info.Attempt
			}
		}
	}
	return out, nil
}

// buildOf returns the build an event reports.
func buildOf(ev events.Event) (Build, events.Repo, bool) {
	switch e := ev.(type) {
	case *events.BuildRequested:
		return Build{Commit: e.Commit, Branch: e.Branch, Service: e.Service.Name, Result: BuildRunning}, e.Repo, true
	case *events.BuildSucceeded:
		return Build{Commit: e.Commit, Branch: e.Branch, Service: e.Service, Result: BuildSucceeded, Digest: e.Digest}, e.Repo, true
	case *events.BuildFailed:
		return Build{Commit: e.Commit, Branch: e.Branch, Service: e.Service, Result: BuildFailed, Reason: e.Reason}, e.Repo, true
	}
	return Build{}, events.Repo{}, false
}
