package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// failedLines is how many of a failed run's last output lines its error
// carries (the deploy's recorded reason).
const failedLines = 20

// Provisioner runs the provisioning steps of a commit's slipway.yaml for
// an environment. Secrets is optional: without it a step naming secrets
// fails.
type Provisioner struct {
	Runners   Runners
	Checkouts Checkouts
	Manifests Manifests
	Claims    workflows.Claims
	Publisher Publisher
	Secrets   deploy.Secrets
	// ClaimTTL is the lease of a running apply, renewed while it runs.
	ClaimTTL time.Duration
	Now      func() time.Time
}

// Apply applies every provisioning step slipway.yaml at d.Commit declares
// for d's environment, in order, each once per (environment, commit). A
// failed step is an events.Permanent error naming it, with the last lines
// of its output; the steps after it do not run.
func (p *Provisioner) Apply(ctx context.Context, d deploy.Deployment) error {
	repo := d.Origin
	if repo.FullName == "" {
		repo = events.Repo{FullName: d.Repo}
	}
	m, err := p.Manifests.Manifest(ctx, repo, d.Commit)
	if events.IsPermanent(err) {
		// As the release workflow does (HandleBuilt): a commit whose
		// slipway.yaml cannot be read any more declares nothing.
		zerolog.Ctx(ctx).Warn().Err(err).Str("sha", d.Commit).Msg("no provisioning steps: slipway.yaml unreadable")
		return nil
	}
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	for _, step := range m.Provision(d.Env) {
		if err := p.apply(ctx, repo, d, step); err != nil {
			return err
		}
	}
	return nil
}

// apply applies one step unless it succeeded before for this environment
// and commit.
func (p *Provisioner) apply(ctx context.Context, repo events.Repo, d deploy.Deployment, step events.ProvisionStep) error {
	key := events.ProvisionKey(d.Repo, d.Env, d.Commit, step.Name)
	var ev *events.ProvisionFinished
	lease, err := workflows.RunClaimed(ctx, p.Claims, key, p.ClaimTTL, func(ctx context.Context) (err error) {
		ev, err = p.run(ctx, repo, d.Env, d.Target, d.Commit, step, events.PhaseApply)
		return err
	})
	switch {
	case lease == nil && errors.Is(err, events.ErrAlreadyDone):
		zerolog.Ctx(ctx).Info().Str("step", step.Name).Msg("provisioning step applied before for this commit")
		return nil
	case lease == nil:
		return err
	}
	if ev == nil { // the run never started (no checkout, no secret): nothing to record
		return errors.Join(err, lease.Release(context.WithoutCancel(ctx)))
	}
	if _, perr := p.Publisher.Publish(ctx, ev); perr != nil {
		return errors.Join(perr, lease.Release(context.WithoutCancel(ctx)))
	}
	if !ev.Succeeded() {
		rerr := lease.Release(context.WithoutCancel(ctx))
		return errors.Join(events.Permanent(fmt.Errorf("provisioning step %s: apply %s; last lines:\n%s", step.Name, failure(ev), lastLines(ev.Output, failedLines))), rerr)
	}
	b, _ := json.Marshal(map[string]any{"exit_code": ev.ExitCode, "duration_ns": ev.Duration})
	return lease.Complete(ctx, b)
}

// Plan runs the plan of every provisioning step slipway.yaml at sha
// declares for env, on the environment's target, and returns each step's
// result; number is the release pull request. A step without a plan
// command is left out. A failed plan is a result, not an error: the
// release plan shows it.
func (p *Provisioner) Plan(ctx context.Context, repo events.Repo, env, target, sha string, number int) ([]events.ProvisionPlan, error) {
	m, err := p.Manifests.Manifest(ctx, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	var out []events.ProvisionPlan
	for _, step := range m.Provision(env) {
		if len(step.Plan) == 0 {
			continue
		}
		ev, err := p.run(ctx, repo, env, target, sha, step, events.PhasePlan)
		if ev == nil && events.IsPermanent(err) {
			out = append(out, events.ProvisionPlan{Step: step.Name, ExitCode: -1, Reason: err.Error()})
			continue
		}
		if ev == nil {
			return nil, err
		}
		ev.Number = number
		if _, err := p.Publisher.Publish(ctx, ev); err != nil {
			return nil, err
		}
		out = append(out, events.ProvisionPlan{Step: step.Name, ExitCode: ev.ExitCode, Output: ev.Output, Reason: ev.Reason})
	}
	return out, nil
}

// run runs phase of step with the step's dir of sha and describes the run.
// A run that could not start returns no event.
func (p *Provisioner) run(ctx context.Context, repo events.Repo, env, target, sha string, step events.ProvisionStep, phase events.ProvisionPhase) (*events.ProvisionFinished, error) {
	runner, err := p.Runners.Runner(repo.FullName, env, target)
	if err != nil {
		return nil, err
	}
	secrets, err := p.secrets(ctx, repo.FullName, env, step)
	if err != nil {
		return nil, err
	}
	dir, release, err := p.Checkouts.Checkout(ctx, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("provisioning step %s: %w", step.Name, err)
	}
	defer release()
	files, err := archive(dir, step.Dir)
	if err != nil {
		return nil, fmt.Errorf("provisioning step %s: %w", step.Name, err)
	}
	start := p.now()
	zerolog.Ctx(ctx).Info().Str("step", step.Name).Str("phase", string(phase)).Str("env", env).Msg("provisioning step started")
	out, code, err := runner.RunProvision(ctx, Run{Repo: repo.FullName, Env: env, Commit: sha, Step: step, Phase: phase, Files: files, Secrets: secrets})
	ev := &events.ProvisionFinished{
		Env: env, Repo: repo, Commit: sha, Step: step.Name, Phase: phase, Image: step.Image,
		ExitCode: code, Output: Clean(out), Started: start.UTC(), Duration: p.now().Sub(start),
	}
	if err != nil {
		ev.Reason = err.Error()
	}
	if err != nil && !events.IsPermanent(err) {
		return nil, err // the target did not answer: retried, nothing to record
	}
	return ev, nil
}

// secrets opens the secrets step names for env of repo.
func (p *Provisioner) secrets(ctx context.Context, repo, env string, step events.ProvisionStep) ([]deploy.Secret, error) {
	if len(step.Secrets) == 0 {
		return nil, nil
	}
	if p.Secrets == nil {
		return nil, events.Permanent(fmt.Errorf("provisioning step %s names secrets, and this deployer opens none", step.Name))
	}
	s, err := p.Secrets.Open(ctx, repo, []string{env}, step.Secrets)
	if err != nil {
		return nil, fmt.Errorf("provisioning step %s: %w", step.Name, err)
	}
	return s, nil
}

func failure(ev *events.ProvisionFinished) string {
	if ev.Reason != "" {
		return ev.Reason
	}
	return fmt.Sprintf("exited with code %d", ev.ExitCode)
}

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Target is a deploy.Target that applies the provisioning steps of a
// commit before deploying it.
type Target struct {
	deploy.Target
	Provisioner *Provisioner
}

// Deploy applies d's provisioning steps, then deploys d.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	if err := t.Provisioner.Apply(ctx, d); err != nil {
		return err
	}
	return t.Target.Deploy(ctx, d)
}
