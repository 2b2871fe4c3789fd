package release_test

import (
	"context"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

var repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "http://git.invalid/acme/shop.git", DefaultBranch: "main"}

// Commits of the tests.
const (
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
	c3 = "3333333333333333333333333333333333333333"
	c4 = "4444444444444444444444444444444444444444"
)

// built records sha's services as built, each with digest "sha256:<svc>-<sha[:4]>".
func built(c workflowstest.Results, sha string, specs ...events.ServiceSpec) {
	for _, s := range specs {
		img := image(s.Name, sha)
		img.Service = s
		c.Built(repo.FullName, sha, img)
	}
}

func image(svc, sha string) events.Image {
	return events.Image{
		Service: events.ServiceSpec{Name: svc},
		Ref:     "localhost:5000/acme/shop/" + svc + ":" + sha,
		Digest:  "sha256:" + svc + "-" + sha[:4],
	}
}

// envs is release.Envs from a map.
type envs map[string]deploy.State

func (e envs) Get(_ context.Context, repo, env string) (deploy.State, bool, error) {
	st, ok := e[env]
	if ok && st.Repo.FullName != repo {
		return deploy.State{}, false, nil
	}
	return st, ok, nil
}

// history is release.History from a map.
type history map[string][]release.Deploy

func (h history) Deploys(_ context.Context, repo, env string) ([]release.Deploy, error) {
	var out []release.Deploy
	for _, d := range h[env] {
		if d.Repo.FullName == repo {
			out = append(out, d)
		}
	}
	return out, nil
}

// gitLog is release.Log over a linear history, oldest first.
type gitLog []string

func (g gitLog) Log(_ context.Context, _ events.Repo, from, to string, limit int) ([]events.Commit, int, error) {
	var out []events.Commit
	started := from == ""
	for _, sha := range g {
		if started {
			out = append([]events.Commit{{ID: sha, Message: "commit " + sha[:1]}}, out...)
		}
		if sha == from {
			started = true
		}
		if sha == to {
			break
		}
	}
	if !started || (len(out) > 0 && out[0].ID != to) {
		return nil, 0, nil
	}
	n := len(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, n, nil
}

// deployed is a recorded deploy of sha to env.
func deployed(env, sha string, outcome events.DeployOutcome, seq uint64, request string) release.Deploy {
	if request == "" {
		request = events.DeployKey(repo.FullName, env, sha, "")
	}
	return release.Deploy{
		DeployResult: events.DeployResult{Env: env, Repo: repo, Commit: sha, Images: []events.Image{image("web", sha)}, Request: request,
			Kind: events.KindAuto, Outcome: outcome},
		ID: request + "." + outcome.String(), Seq: seq,
	}
}
