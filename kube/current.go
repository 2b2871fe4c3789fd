package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Current reads what env of repo runs from the cluster alone: the
// Deployments labelled for it, their release annotations and rollout
// status.
func (t *Target) Current(ctx context.Context, repo, env string) (deploy.Release, error) {
	rel := deploy.Release{Repo: repo, Env: env}
	ns := t.Namespace(repo, env)
	deps, err := t.deployments(ctx, ns, repo, env)
	if err != nil {
		return rel, err
	}
	for name, dep := range deps {
		r, err := releaseOf(dep)
		if err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("skipping a deployment without a readable release")
			continue
		}
		done, _ := rolloutStatus(dep)
		addr := fmt.Sprintf("%s.%s.svc:%d", dep.Name, ns, r.Image.Service.Port)
		want := int32(1)
		if dep.Spec.Replicas != nil {
			want = *dep.Spec.Replicas
		}
		rel.Services = append(rel.Services, deploy.ServiceState{
			Name: name, Commit: r.Commit, Image: r.Image.Ref, Digest: r.Image.Digest,
			Running: done, Addr: addr, Addrs: []string{addr},
			Replicas: int(want), Up: int(min(dep.Status.UpdatedReplicas, dep.Status.AvailableReplicas)),
		})
	}
	sort.Slice(rel.Services, func(i, j int) bool { return rel.Services[i].Name < rel.Services[j].Name })
	return rel, nil
}

// ResolveAll returns the address of service of env of repo: its Service's
// cluster DNS name and port (the Service spreads requests over the ready
// pods), or none while nothing of it is available.
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	rel, err := t.Current(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	for _, s := range rel.Services {
		if s.Name == service && s.Up > 0 {
			return s.Addrs, nil
		}
	}
	return nil, nil
}

// deployments returns the Deployments of env of repo by service name.
func (t *Target) deployments(ctx context.Context, ns, repo, env string) (map[string]*appsv1.Deployment, error) {
	list, err := t.client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: envSelector(repo, env)})
	if err != nil {
		if notFoundNamespace(err) {
			return map[string]*appsv1.Deployment{}, nil
		}
		return nil, apiError("list deployments of "+env, err)
	}
	out := make(map[string]*appsv1.Deployment, len(list.Items))
	for i := range list.Items {
		dep := &list.Items[i]
		if !sameRepo(dep.Annotations[AnnotationRepo], repo) {
			continue
		}
		r, err := releaseOf(dep)
		if err != nil {
			// Still Slipway's: listed so that a deploy replaces it.
			out[dep.Labels[LabelService]] = dep
			continue
		}
		out[r.Image.Service.Name] = dep
	}
	return out, nil
}

// sameRepo reports whether two spellings name one repository (git hosts
// match names case-insensitively).
func sameRepo(a, b string) bool { return strings.EqualFold(a, b) }

// notFoundNamespace is a list in a namespace that does not exist: a
// preview never deployed. Listing in a missing namespace answers an empty
// list on Kubernetes, so this only guards older servers.
func notFoundNamespace(err error) bool {
	return err != nil && strings.Contains(err.Error(), "namespaces") && strings.Contains(err.Error(), "not found")
}
