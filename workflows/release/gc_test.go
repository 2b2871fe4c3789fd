package release_test

import (
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

func TestRetentionKept(t *testing.T) {
	ok := events.OutcomeSucceeded
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	stg, prod := events.EnvID{Repo: repo.FullName, Env: "stg"}, events.EnvID{Repo: repo.FullName, Env: "prod"}
	deploys := map[events.EnvID][]release.Deploy{
		stg:  {deployed("stg", c1, ok, 1, ""), deployed("stg", c2, ok, 2, ""), deployed("stg", c3, events.OutcomeFailed, 3, "")},
		prod: {deployed("prod", c1, ok, 4, "")},
	}
	built := []release.Built{
		{Name: "r/web", Commit: c1, Digest: image("web", c1).Digest, At: now.Add(-48 * time.Hour)},
		{Name: "r/web", Commit: c2, Digest: image("web", c2).Digest, At: now.Add(-47 * time.Hour)},
		{Name: "r/web", Commit: c3, Digest: image("web", c3).Digest, At: now.Add(-46 * time.Hour)},
		{Name: "r/web", Commit: c4, Digest: image("web", c4).Digest, At: now.Add(-time.Hour)},
	}
	tests := []struct {
		name   string
		keep   int
		minAge time.Duration
		want   []string
		gone   []string
	}{
		{"last one per env", 1, 0, []string{c2, c1}, []string{c3, c4}},
		{"last two", 2, 0, []string{c2, c1}, []string{c3, c4}},
		{"young images too", 1, 2 * time.Hour, []string{c2, c1, c4}, []string{c3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := release.Retention{Keep: func(id events.EnvID) int {
				if id == prod {
					return 1
				}
				return tt.keep
			}, MinAge: tt.minAge, Now: now}
			got := r.Kept(deploys, built)
			for _, sha := range tt.want {
				if _, ok := got[image("web", sha).Digest]; !ok {
					t.Errorf("%s not kept: %v", sha[:1], got)
				}
			}
			for _, sha := range tt.gone {
				if why, ok := got[image("web", sha).Digest]; ok {
					t.Errorf("%s kept (%s)", sha[:1], why)
				}
			}
		})
	}
}
