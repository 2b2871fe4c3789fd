package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// rolloutStatus reads a Deployment's rollout the way `kubectl rollout
// status` does, and requires the Available condition too: done when the
// controller observed the latest spec, every replica is updated and
// available and no old or extra one remains; failed (with the reason) when the
// controller reports ProgressDeadlineExceeded.
func rolloutStatus(dep *appsv1.Deployment) (done bool, failed string) {
	st := dep.Status
	if dep.Generation > st.ObservedGeneration {
		return false, ""
	}
	if c := condition(dep, appsv1.DeploymentProgressing); c != nil && c.Reason == "ProgressDeadlineExceeded" {
		return false, fmt.Sprintf("deployment %s exceeded its progress deadline: %s", dep.Name, c.Message)
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	// st.Replicas > want: a scale-down whose extra pods still run.
	if st.UpdatedReplicas < want || st.Replicas > st.UpdatedReplicas || st.Replicas > want || st.AvailableReplicas < st.UpdatedReplicas {
		return false, ""
	}
	if c := condition(dep, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue {
		return false, ""
	}
	return true, ""
}

func condition(dep *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range dep.Status.Conditions {
		if dep.Status.Conditions[i].Type == t {
			return &dep.Status.Conditions[i]
		}
	}
	return nil
}

// waitRollouts waits until the Deployment of every service of d is rolled
// out at d's commit, or returns why not within the rollout timeout. A
// rollout the controller reports past its progress deadline fails at once,
// unless patient (a rollback, whose Deployments still carry the failed
// rollout's condition until the controller sees them complete again).
func (t *Target) waitRollouts(ctx context.Context, ns string, d deploy.Deployment, patient bool) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.RolloutTimeout)
	defer cancel()
	pending := map[string]bool{}
	for _, img := range d.Images {
		pending[img.Service.Name] = true
	}
	tick := time.NewTicker(t.opts.Poll)
	defer tick.Stop()
	// A watch wakes the loop as soon as a Deployment's status changes; the
	// poll is the fallback when the watch cannot be opened or ends.
	var changed <-chan watch.Event
	if w, err := t.client.AppsV1().Deployments(ns).Watch(ctx, metav1.ListOptions{LabelSelector: envSelector(d.Repo, d.Env)}); err == nil {
		defer w.Stop()
		changed = w.ResultChan()
	}
	for {
		for svc := range pending {
			dep, err := t.client.AppsV1().Deployments(ns).Get(ctx, objectName(d.Repo, d.Env, svc), metav1.GetOptions{})
			if err != nil {
				if deadline, _ := ctx.Deadline(); ctx.Err() != nil || time.Until(deadline) < time.Second {
					break // the client's rate limiter gives up before the deadline
				}
				return apiError("read rollout of "+svc, err)
			}
			done, failed := rolloutStatus(dep)
			if failed != "" && !patient {
				return t.unhealthy(ctx, ns, d, svc, fmt.Sprintf("rollout at %s failed: %s", short(d.Commit), failed))
			}
			if done {
				delete(pending, svc)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return t.timedOut(ctx, ns, d, pending)
		case <-tick.C:
		case _, ok := <-changed:
			if !ok {
				changed = nil
			}
		}
	}
}

// timedOut is the error of rollouts still pending when ctx ended.
func (t *Target) timedOut(ctx context.Context, ns string, d deploy.Deployment, pending map[string]bool) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	svcs := make([]string, 0, len(pending))
	for s := range pending {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	err := t.unhealthy(rctx, ns, d, svcs[0], fmt.Sprintf("rollout of %s at %s not available within %s", strings.Join(svcs, ", "), short(d.Commit), t.opts.RolloutTimeout))
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return events.Retryable(fmt.Errorf("deploy interrupted: %w", err), retryAfter)
	}
	return err
}

// unhealthy is the *deploy.UnhealthyError of svc's rollout: the first pod
// of d's commit that is not ready, why (its status, its readiness probe)
// and the end of its log.
func (t *Target) unhealthy(ctx context.Context, ns string, d deploy.Deployment, svc, reason string) error {
	u := &deploy.UnhealthyError{Service: svc, Node: "unscheduled", Instance: "deployment " + objectName(d.Repo, d.Env, svc), Reason: reason}
	for _, img := range d.Images {
		if img.Service.Name == svc {
			u.Reason += "; readiness probe GET " + healthPath(img.Service.HealthPath) + " on port " + strconv.Itoa(img.Service.Port)
		}
	}
	sel := labels.SelectorFromSet(objectLabels(d.Repo, d.Env, svc, d.Commit)).String()
	pods, err := t.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return u
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i, p := range pods.Items {
		if podReady(&p) || p.DeletionTimestamp != nil {
			continue
		}
		u.Replica, u.Node, u.Instance = i, nodeOf(&p), "pod "+p.Name
		u.Reason += "; " + podState(&p)
		u.Logs = t.lastLines(ctx, &p)
		break
	}
	return u
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podState is why a pod is not ready, as its status says.
func podState(p *corev1.Pod) string {
	var parts []string
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && (c.Reason != "" || c.Message != "") {
			parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s: %s %s", c.Type, c.Reason, c.Message)))
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			parts = append(parts, strings.TrimSpace("waiting: "+w.Reason+" "+w.Message))
		}
		if cs.RestartCount > 0 {
			parts = append(parts, fmt.Sprintf("restarted %d times", cs.RestartCount))
		}
	}
	if len(parts) == 0 {
		return "phase " + string(p.Status.Phase) + ", not ready"
	}
	return strings.Join(parts, "; ")
}

// lastLines is the end of the pod's container log, or, when the log is
// out of reach, its termination message (which the kubelet fills from the
// log's end: terminationMessagePolicy FallbackToLogsOnError).
func (t *Target) lastLines(ctx context.Context, p *corev1.Pod) string {
	lines := int64(t.opts.LogLines)
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if b, err := t.client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: &lines}).DoRaw(lctx); err == nil && len(b) > 0 {
		return tailLines(string(b), t.opts.LogLines)
	}
	for _, cs := range p.Status.ContainerStatuses {
		for _, st := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if st != nil && st.Message != "" {
				return tailLines(st.Message, t.opts.LogLines)
			}
		}
	}
	return ""
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
