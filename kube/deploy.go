package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
)

// retryAfter is the delay of a retryable error.
const retryAfter = 5 * time.Second

// cleanupTimeout bounds a rollback or prune that runs after the deploy's
// context ended.
const cleanupTimeout = time.Minute

// Deploy applies d's objects and waits for every rollout to become
// available. When one does not, it re-applies what ran before (the
// previous digests), deletes the services d added and returns an
// events.Permanent error with the reason; on success it prunes the objects
// of the environment d no longer declares. A deploy of what already runs,
// all available, changes nothing.
func (t *Target) Deploy(ctx context.Context, d deploy.Deployment) error {
	if err := checkDeployment(d); err != nil {
		return events.Permanent(fmt.Errorf("kubernetes deploy of %s to %s: %w", d.Commit, d.Env, err))
	}
	for _, img := range d.Images {
		if _, err := t.pullRef(img); err != nil {
			return events.Permanent(fmt.Errorf("kubernetes deploy of %s to %s: service %s: %w", d.Commit, d.Env, img.Service.Name, err))
		}
	}
	log := zerolog.Ctx(ctx).With().Str("env", d.Env).Str("commit", d.Commit).Str("target", "kubernetes").Logger()
	ns := t.Namespace(d.Repo, d.Env)
	prev, err := t.deployments(ctx, ns, d.Repo, d.Env)
	if err != nil {
		return err
	}
	if t.upToDate(ns, prev, d) {
		log.Info().Msg("deploy is a no-op: the commit runs, every rollout available")
		return nil
	}
	started := time.Now()
	hold := holdReplicas(prev, d)
	kept := startedAt(prev, d)
	if err := t.apply(ctx, ns, d, hold, kept); err != nil {
		return errors.Join(err, t.rollback(ctx, ns, d, prev))
	}
	err = t.waitRollouts(ctx, ns, d, false)
	if err == nil && len(hold) > 0 {
		err = t.scaleDown(ctx, ns, d, hold, kept)
	}
	if err != nil {
		log.Warn().Err(err).Msg("rollout failed; re-applying the previous release")
		if rerr := t.rollback(ctx, ns, d, prev); rerr != nil {
			return errors.Join(err, rerr)
		}
		if ctx.Err() != nil {
			return err
		}
		return events.Permanent(err)
	}
	if err := t.prune(ctx, ns, d); err != nil {
		return err
	}
	log.Info().Dur("duration", time.Since(started)).Int("services", len(d.Images)).Msg("deploy succeeded")
	return nil
}

// holdReplicas returns, per service of d that runs fewer replicas than
// before, the replica count it had: the rollout runs at that count, so a
// failed one leaves every previous pod serving, and scales down only once
// the new pods are available.
func holdReplicas(prev map[string]*appsv1.Deployment, d deploy.Deployment) map[string]int {
	hold := map[string]int{}
	for _, img := range d.Images {
		if old, ok := prev[img.Service.Name]; ok && old.Spec.Replicas != nil && int(*old.Spec.Replicas) > replicas(img.Service) {
			hold[img.Service.Name] = int(*old.Spec.Replicas)
		}
	}
	return hold
}

// startedAt returns, per service of d, the commit its pods run after d:
// the commit of the live pods of a service whose image, declared values
// and secret versions d does not change (target.Unchanged, the rule of
// every target), which d keeps, d.Commit for every other.
func startedAt(prev map[string]*appsv1.Deployment, d deploy.Deployment) map[string]string {
	out := make(map[string]string, len(d.Images))
	for _, img := range d.Images {
		out[img.Service.Name] = d.Commit
		dep, ok := prev[img.Service.Name]
		if !ok {
			continue
		}
		if r, err := releaseOf(dep); err == nil && target.Unchanged(r.values(), d, img) {
			out[img.Service.Name] = r.started()
		}
	}
	return out
}

// scaleDown applies the Deployments of the services hold kept scaled up
// with d's replica counts, and waits for them.
func (t *Target) scaleDown(ctx context.Context, ns string, d deploy.Deployment, hold map[string]int, started map[string]string) error {
	for _, img := range d.Images {
		if _, ok := hold[img.Service.Name]; !ok {
			continue
		}
		if err := t.applyDeployment(ctx, ns, d, img, 0, started[img.Service.Name]); err != nil {
			return err
		}
	}
	return t.waitRollouts(ctx, ns, d, false)
}

// apply applies every object of d: the namespace of a preview, the pull
// secret, then per service its Service, Ingress and Deployment (with the
// replica count hold gives, if any, its pods at the commit started gives).
func (t *Target) apply(ctx context.Context, ns string, d deploy.Deployment, hold map[string]int, started map[string]string) error {
	if err := t.ensureNamespace(ctx, d.Repo, d.Env); err != nil {
		return err
	}
	if t.opts.Registry.Auth != nil {
		sec, err := t.pullSecret(ns, d)
		if err != nil {
			return events.Permanent(err)
		}
		if _, err := t.client.CoreV1().Secrets(ns).Apply(ctx, sec, applyOptions); err != nil {
			return apiError("apply image pull secret", err)
		}
	}
	for _, img := range d.Images {
		if err := t.applyService(ctx, ns, d, img, hold[img.Service.Name], started[img.Service.Name]); err != nil {
			return err
		}
	}
	return nil
}

func (t *Target) applyService(ctx context.Context, ns string, d deploy.Deployment, img events.Image, hold int, started string) error {
	s := img.Service
	if _, err := t.client.CoreV1().Services(ns).Apply(ctx, service(ns, d, s), applyOptions); err != nil {
		return apiError("apply service of "+s.Name, err)
	}
	if len(s.Hosts) > 0 {
		if _, err := t.client.NetworkingV1().Ingresses(ns).Apply(ctx, t.ingress(ns, d, s), applyOptions); err != nil {
			return apiError("apply ingress of "+s.Name, err)
		}
	} else if err := t.deleteIngress(ctx, ns, d.Repo, d.Env, s.Name); err != nil {
		return err
	}
	return t.applyDeployment(ctx, ns, d, img, hold, started)
}

// applyDeployment applies the Deployment of img's service, with hold
// replicas instead of the service's when hold > 0, its pods at started.
func (t *Target) applyDeployment(ctx context.Context, ns string, d deploy.Deployment, img events.Image, hold int, started string) error {
	s := img.Service
	dep, err := t.deployment(ns, d, img, started)
	if err != nil {
		return events.Permanent(fmt.Errorf("service %s: %w", s.Name, err))
	}
	if hold > 0 {
		dep.Spec.WithReplicas(int32(hold))
	}
	if _, err := t.client.AppsV1().Deployments(ns).Apply(ctx, dep, applyOptions); err != nil {
		return apiError("apply deployment of "+s.Name, err)
	}
	return nil
}

// rollback re-applies the releases of prev (what ran before d) and deletes
// the services d added, in a context of its own so that an interrupted
// deploy is rolled back too. It waits for the previous rollouts, bounded.
func (t *Target) rollback(ctx context.Context, ns string, d deploy.Deployment, prev map[string]*appsv1.Deployment) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	back := deploy.Deployment{Repo: d.Repo, Env: d.Env}
	for _, img := range d.Images {
		old, ok := prev[img.Service.Name]
		if !ok {
			errs = append(errs, t.removeService(ctx, ns, d.Repo, d.Env, img.Service.Name))
			continue
		}
		rel, err := releaseOf(old)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := t.applyService(ctx, ns, rel.deployment(), rel.Image, 0, rel.started()); err != nil {
			errs = append(errs, fmt.Errorf("re-apply %s at %s: %w", img.Service.Name, rel.Commit, err))
			continue
		}
		back.Images = append(back.Images, rel.Image)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	if len(back.Images) == 0 {
		return nil
	}
	if err := t.waitRollouts(ctx, ns, back, true); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Str("env", d.Env).Msg("the previous release is re-applied but not yet available")
	}
	return nil
}

// releaseOf decodes what a Deployment was applied from.
func releaseOf(dep *appsv1.Deployment) (release, error) {
	var r release
	if err := json.Unmarshal([]byte(dep.Annotations[AnnotationRelease]), &r); err != nil {
		return r, fmt.Errorf("deployment %s/%s: annotation %s: %w", dep.Namespace, dep.Name, AnnotationRelease, err)
	}
	return r, nil
}

// upToDate reports whether prev is exactly d, every rollout available.
func (t *Target) upToDate(ns string, prev map[string]*appsv1.Deployment, d deploy.Deployment) bool {
	if len(prev) != len(d.Images) {
		return false
	}
	started := startedAt(prev, d)
	for _, img := range d.Images {
		dep, ok := prev[img.Service.Name]
		if !ok {
			return false
		}
		want, err := t.deployment(ns, d, img, started[img.Service.Name])
		if err != nil || want.Annotations[AnnotationRelease] != dep.Annotations[AnnotationRelease] ||
			dep.Spec.Replicas == nil || int(*dep.Spec.Replicas) != replicas(img.Service) {
			return false
		}
		if done, _ := rolloutStatus(dep); !done {
			return false
		}
	}
	return true
}

// checkDeployment rejects a deployment no retry can make work.
func checkDeployment(d deploy.Deployment) error {
	switch {
	case len(validation.IsDNS1123Label(d.Env)) > 0:
		return fmt.Errorf("environment %q is not a DNS label", d.Env)
	case d.Repo == "":
		return errors.New("deployment names no repository")
	case d.Commit == "":
		return errors.New("deployment has no commit")
	case len(d.Images) == 0:
		return errors.New("deployment has no images")
	}
	seen := map[string]bool{}
	for _, img := range d.Images {
		s := img.Service
		if errs := validation.IsDNS1123Label(s.Name); len(errs) > 0 {
			return fmt.Errorf("service %q is not a DNS label", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("service %s appears twice", s.Name)
		}
		seen[s.Name] = true
		if s.Replicas < 0 {
			return fmt.Errorf("service %s has a negative replica count (%d)", s.Name, s.Replicas)
		}
		if s.Port <= 0 || s.Port > 65535 {
			return fmt.Errorf("service %s has no valid port (%d)", s.Name, s.Port)
		}
		for _, h := range s.Hosts {
			if errs := validation.IsDNS1123Subdomain(h); len(errs) > 0 {
				return fmt.Errorf("service %s: host %q is not a DNS name", s.Name, h)
			}
		}
	}
	return nil
}
