package readmodel

import (
	"context"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/release"
)

// envRecord folds into the environment env of repo.
func (f fold) envRecord(ctx context.Context, repo, env string, apply func(*Env)) error {
	if repo == "" || env == "" {
		return nil
	}
	return update(ctx, f.m.envs, envKey(repo, env), f.seq, func(v *Env) {
		v.Repo, v.Env, v.UpdatedAt = repo, env, f.env.Time
		apply(v)
	})
}

// requested marks the environment as progressing toward a request.
func (f fold) requested(ctx context.Context, e *events.DeployRequested) error {
	return f.envRecord(ctx, e.Repo.FullName, e.Env, func(v *Env) {
		v.Pending, v.Health = e.DedupKey(), HealthProgressing
		v.Preview = v.Preview || e.Kind == events.KindPreview
		if v.Commit == "" {
			v.Target = e.Target
		}
	})
}

// result appends a deploy result to the environment's history (the page
// first, then the count and the record, so an event redelivered in
// between is appended once) and moves the environment.
func (f fold) result(ctx context.Context, r events.DeployResult) error {
	repo, env := r.Repo.FullName, r.Env
	if repo == "" || env == "" {
		return nil
	}
	cur, _, _, err := get[Env](ctx, f.m.envs, envKey(repo, env))
	if err != nil || cur.Seq >= f.seq {
		return err
	}
	d := release.Deploy{DeployResult: r, ID: f.env.ID, Seq: f.seq, Time: f.env.Time}
	err = update(ctx, f.m.pages, deployPage(repo, env, cur.Deploys/pageSize), f.seq, func(p *page[release.Deploy]) {
		p.Items = append(p.Items, d)
	})
	if err != nil {
		return err
	}
	return f.envRecord(ctx, repo, env, func(v *Env) {
		v.Deploys++
		v.Last = &d
		if v.Pending == r.Request {
			v.Pending = ""
		}
		v.Preview = v.Preview || r.Kind == events.KindPreview
		switch r.Outcome {
		case events.OutcomeSucceeded:
			if v.Commit != r.Commit {
				v.Previous = v.Commit
			}
			v.Commit, v.Target, v.Images, v.Health = r.Commit, r.Target, r.Images, HealthHealthy
		case events.OutcomeFailed:
			v.Health = HealthDegraded
		default:
			if v.Pending == "" {
				v.Health = settled(v)
			}
		}
	})
}

// settled is the health of an environment with no deploy in flight, after
// a result that did not move it.
func settled(v *Env) Health {
	if v.Commit == "" {
		return HealthDegraded
	}
	return HealthHealthy
}

// plan records a release plan and makes it the environment's last.
func (f fold) plan(ctx context.Context, e *events.ReleasePlanned) error {
	repo, env := e.Repo.FullName, e.Env
	if repo == "" || env == "" {
		return nil
	}
	err := update(ctx, f.m.releases, planKey(repo, env, e.Number), f.seq, func(p *Plan) {
		*p = Plan{ReleasePlanned: *e, ID: f.env.ID, Seq: f.seq}
	})
	if err != nil {
		return err
	}
	return f.envRecord(ctx, repo, env, func(v *Env) { v.Plan = e.Number })
}
