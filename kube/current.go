package kube

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/target"
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
		st, err := t.serviceState(ctx, ns, dep, r)
		if err != nil {
			return rel, err
		}
		st.Name = name
		rel.Services = append(rel.Services, st)
	}
	sort.Slice(rel.Services, func(i, j int) bool { return rel.Services[i].Name < rel.Services[j].Name })
	return rel, nil
}

// serviceState is one service as its Deployment and its ready pods at the
// Deployment's commit and digest say: Addrs are those pods' IP and port.
func (t *Target) serviceState(ctx context.Context, ns string, dep *appsv1.Deployment, r release) (deploy.ServiceState, error) {
	done, _ := rolloutStatus(dep)
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := deploy.ServiceState{
		Commit: r.Commit, Image: r.Image.Ref, Digest: r.Image.Digest, Running: done,
		Replicas: int(want), Up: int(min(dep.Status.UpdatedReplicas, dep.Status.AvailableReplicas, want)),
	}
	ref, err := t.pullRef(r.Image)
	if err != nil {
		return st, nil
	}
	// The pods run the commit they were started at (release.Started).
	sel := labels.SelectorFromSet(objectLabels(r.Repo, r.Env, r.Image.Service.Name, r.started())).String()
	pods, err := t.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return st, apiError("list pods of "+r.Image.Service.Name, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || !podReady(&p) || p.Status.PodIP == "" || len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != ref {
			continue
		}
		addr := net.JoinHostPort(p.Status.PodIP, strconv.Itoa(r.Image.Service.Port))
		st.Instances = append(st.Instances, deploy.Instance{
			Node: nodeOf(&p), ID: p.Name, Replica: len(st.Addrs), Addr: addr, Commit: r.Commit, Digest: r.Image.Digest, Running: true,
		})
		st.Addrs = append(st.Addrs, addr)
	}
	if len(st.Addrs) > 0 {
		st.Addr = st.Addrs[0]
	}
	return st, nil
}

// nodeOf names the node a pod runs on.
func nodeOf(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	return "unscheduled"
}

// ResolveAll returns the addresses (pod IP and port) of the ready pods of
// service of env of repo at the commit its Deployment declares, or none
// while none is ready (an error wrapping target.ErrNotLive).
func (t *Target) ResolveAll(ctx context.Context, repo, env, service string) ([]string, error) {
	rel, err := t.Current(ctx, repo, env)
	if err != nil {
		return nil, err
	}
	for _, s := range rel.Services {
		if s.Name == service && len(s.Addrs) > 0 {
			return s.Addrs, nil
		}
	}
	return nil, fmt.Errorf("%w: no ready pod of %s in %s", target.ErrNotLive, service, env)
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
