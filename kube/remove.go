package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// background deletes an object's dependents (ReplicaSets, pods) after it;
// foreground before it, so that the object is listed until they are gone.
var (
	background = metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationBackground)}
	foreground = metav1.DeleteOptions{PropagationPolicy: new(metav1.DeletePropagationForeground)}
)

// Remove deletes everything of env of repo: a preview's namespace with
// everything in it (waiting until it is gone), or else every object
// labelled for the environment. An environment without objects is not an
// error.
func (t *Target) Remove(ctx context.Context, repo, env string) error {
	if t.preview(repo, env) {
		return t.removeNamespace(ctx, repo, env)
	}
	ns := t.Namespace(repo, env)
	return t.deleteUntilGone(ctx, ns, envSelector(repo, env), repo, func(string) bool { return false })
}

// deleteUntilGone deletes what deleteUnless selects and waits until the
// API server lists none of it (foreground deletion: their pods are gone
// too), bounded by cleanupTimeout.
func (t *Target) deleteUntilGone(ctx context.Context, ns, sel, repo string, keep func(string) bool) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	tick := time.NewTicker(t.opts.Poll)
	defer tick.Stop()
	for {
		found, err := t.deleteUnless(ctx, ns, sel, repo, keep)
		if err != nil || found == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return events.Retryable(fmt.Errorf("%d objects of %s still being deleted: %w", found, ns, ctx.Err()), retryAfter)
		case <-tick.C:
		}
	}
}

func (t *Target) removeNamespace(ctx context.Context, repo, env string) error {
	name := t.Namespace(repo, env)
	ns, err := t.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return apiError("read namespace "+name, err)
	}
	if ns.Labels[LabelPreview] != "true" || !sameRepo(ns.Annotations[AnnotationRepo], repo) {
		return fmt.Errorf("namespace %s is not the preview %s of %s: left alone", name, env, repo)
	}
	if err := t.client.CoreV1().Namespaces().Delete(ctx, name, background); err != nil && !apierrors.IsNotFound(err) {
		return apiError("delete namespace "+name, err)
	}
	tick := time.NewTicker(t.opts.Poll)
	defer tick.Stop()
	for {
		_, err := t.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s still terminating: %w", name, ctx.Err())
		case <-tick.C:
		}
	}
}

// prune deletes the objects of d's environment that d no longer declares.
func (t *Target) prune(ctx context.Context, ns string, d deploy.Deployment) error {
	keep := map[string]bool{}
	for _, img := range d.Images {
		name := objectName(d.Repo, d.Env, img.Service.Name)
		keep["Deployment/"+name], keep["Service/"+name] = true, true
		if len(img.Service.Hosts) > 0 {
			keep["Ingress/"+name] = true
		}
	}
	if t.opts.Registry.Auth != nil {
		keep["Secret/"+pullSecretName(d.Repo, d.Env)] = true
	}
	return t.deleteUntilGone(ctx, ns, envSelector(d.Repo, d.Env), d.Repo, func(kindName string) bool { return keep[kindName] })
}

// removeService deletes one service's objects (a rollback of a service
// the failed deploy added).
func (t *Target) removeService(ctx context.Context, ns, repo, env, service string) error {
	sel := labels.SelectorFromSet(selectorLabels(repo, env, service)).String()
	return t.deleteUntilGone(ctx, ns, sel, repo, func(string) bool { return false })
}

func (t *Target) deleteIngress(ctx context.Context, ns, repo, env, service string) error {
	err := t.client.NetworkingV1().Ingresses(ns).Delete(ctx, objectName(repo, env, service), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return apiError("delete ingress of "+service, err)
	}
	return nil
}

// deleteUnless deletes every Deployment, Service, Ingress, Secret and Job
// that sel selects in ns, is annotated for repo and that keep does not
// keep ("<Kind>/<name>"), and returns how many it found (those already
// being deleted included).
func (t *Target) deleteUnless(ctx context.Context, ns, sel, repo string, keep func(string) bool) (int, error) {
	opts := metav1.ListOptions{LabelSelector: sel}
	var errs []error
	found := 0
	del := func(kind, name string, annotations map[string]string, fn func() error) {
		if keep(kind+"/"+name) || !sameRepo(annotations[AnnotationRepo], repo) {
			return
		}
		found++
		if err := fn(); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, apiError("delete "+kind+" "+name, err))
		}
	}
	deps, err := t.client.AppsV1().Deployments(ns).List(ctx, opts)
	errs = append(errs, apiError("list deployments", err))
	for _, o := range deps.Items {
		del("Deployment", o.Name, o.Annotations, func() error { return t.client.AppsV1().Deployments(ns).Delete(ctx, o.Name, foreground) })
	}
	svcs, err := t.client.CoreV1().Services(ns).List(ctx, opts)
	errs = append(errs, apiError("list services", err))
	for _, o := range svcs.Items {
		del("Service", o.Name, o.Annotations, func() error { return t.client.CoreV1().Services(ns).Delete(ctx, o.Name, background) })
	}
	ings, err := t.client.NetworkingV1().Ingresses(ns).List(ctx, opts)
	errs = append(errs, apiError("list ingresses", err))
	for _, o := range ings.Items {
		del("Ingress", o.Name, o.Annotations, func() error { return t.client.NetworkingV1().Ingresses(ns).Delete(ctx, o.Name, background) })
	}
	secs, err := t.client.CoreV1().Secrets(ns).List(ctx, opts)
	errs = append(errs, apiError("list secrets", err))
	for _, o := range secs.Items {
		del("Secret", o.Name, o.Annotations, func() error { return t.client.CoreV1().Secrets(ns).Delete(ctx, o.Name, background) })
	}
	jobs, err := t.client.BatchV1().Jobs(ns).List(ctx, opts)
	errs = append(errs, apiError("list jobs", err))
	for _, o := range jobs.Items {
		del("Job", o.Name, o.Annotations, func() error { return t.client.BatchV1().Jobs(ns).Delete(ctx, o.Name, foreground) })
	}
	return found, errors.Join(errs...)
}
