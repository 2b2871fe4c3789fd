package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// defaultTaskTimeout bounds a task that declares no timeout (as on the
// Docker target).
const defaultTaskTimeout = 10 * time.Minute

// maxTaskOutput is how much of a task's output (its end) is returned.
const maxTaskOutput = 16 << 10

// RunTask runs task from img (by digest) to completion as a Job of one pod
// (no retry: backoffLimit 0) in the environment's namespace, with the
// service's environment and SLIPWAY_TASK, then deletes the Job. It returns
// the end of the pod's log (or its termination message) and the exit code.
// A task still running after its timeout is ended by the Job's active
// deadline: a permanent error.
func (t *Target) RunTask(ctx context.Context, d deploy.Deployment, img events.Image, task events.Task) (string, int, error) {
	if err := checkDeployment(deploy.Deployment{Repo: d.Repo, Env: d.Env, Commit: d.Commit, Images: []events.Image{img}}); err != nil {
		return "", -1, events.Permanent(fmt.Errorf("task %s: %w", task.Name, err))
	}
	ns := t.Namespace(d.Repo, d.Env)
	name := taskName(d.Repo, d.Env, img.Service.Name, task.Name, d.Commit)
	job, err := t.job(ns, name, d, img, task)
	if err != nil {
		return "", -1, events.Permanent(fmt.Errorf("task %s: %w", task.Name, err))
	}
	if err := t.ensureNamespace(ctx, d.Repo, d.Env); err != nil {
		return "", -1, err
	}
	if err := t.deleteJob(ctx, ns, name, true); err != nil { // left by a crashed run
		return "", -1, err
	}
	if t.opts.Registry.Auth != nil {
		sec, err := t.pullSecret(ns, d)
		if err != nil {
			return "", -1, events.Permanent(err)
		}
		if _, err := t.client.CoreV1().Secrets(ns).Apply(ctx, sec, applyOptions); err != nil {
			return "", -1, apiError("apply image pull secret", err)
		}
	}
	created, err := t.client.BatchV1().Jobs(ns).Apply(ctx, job, applyOptions)
	if err != nil {
		return "", -1, apiError("apply job of task "+task.Name, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = t.deleteJob(cctx, ns, name, false)
	}()
	return t.waitJob(ctx, ns, created.Name, string(created.UID), task)
}

func (t *Target) job(ns, name string, d deploy.Deployment, img events.Image, task events.Task) (*batchv1ac.JobApplyConfiguration, error) {
	for _, arg := range task.Command {
		if strings.IndexByte(arg, 0) >= 0 {
			return nil, fmt.Errorf("an argument of its command holds a NUL byte")
		}
	}
	c, err := t.container(d, img)
	if err != nil {
		return nil, err
	}
	c.WithEnv(corev1ac.EnvVar().WithName("SLIPWAY_TASK").WithValue(task.Name))
	if len(task.Command) > 0 {
		c.WithArgs(task.Command...) // the image's CMD, as docker run's command
	}
	timeout := task.Timeout
	if timeout <= 0 {
		timeout = defaultTaskTimeout
	}
	// The pod carries no service label: a Service never routes to it.
	l := envLabels(d.Repo, d.Env)
	l[LabelTask] = labelValue(img.Service.Name + "." + task.Name)
	l[LabelCommit] = labelValue(d.Commit)
	pod := t.pod(d, c).WithRestartPolicy(corev1.RestartPolicyNever)
	return batchv1ac.Job(name, ns).
		WithLabels(l).
		WithAnnotations(map[string]string{AnnotationRepo: d.Repo}).
		WithSpec(batchv1ac.JobSpec().
			WithBackoffLimit(0).
			WithActiveDeadlineSeconds(int64(max(timeout.Seconds(), 1))).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(l).WithSpec(pod))), nil
}

// waitJob waits for the Job's Complete or Failed condition.
func (t *Target) waitJob(ctx context.Context, ns, name, uid string, task events.Task) (string, int, error) {
	tick := time.NewTicker(t.opts.Poll)
	defer tick.Stop()
	for {
		job, err := t.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil && ctx.Err() == nil {
			return "", -1, apiError("read job of task "+task.Name, err)
		}
		if err == nil {
			if c := jobCondition(job, batchv1.JobComplete); c != nil {
				out, _ := t.taskOutput(ctx, ns, uid)
				return out, 0, nil
			}
			if c := jobCondition(job, batchv1.JobFailed); c != nil {
				out, code := t.taskOutput(ctx, ns, uid)
				if c.Reason == batchv1.JobReasonDeadlineExceeded {
					return out, -1, events.Permanent(fmt.Errorf("task %s ran past its timeout and was stopped", task.Name))
				}
				return out, code, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", -1, events.Retryable(fmt.Errorf("task %s interrupted: %w", task.Name, ctx.Err()), retryAfter)
		case <-tick.C:
		}
	}
}

func jobCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == ct && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// taskOutput returns the end of the output of the Job's last pod and its
// exit code (-1 when no container finished).
func (t *Target) taskOutput(ctx context.Context, ns, uid string) (string, int) {
	pods, err := t.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.ControllerUidLabel + "=" + uid})
	if err != nil || len(pods.Items) == 0 {
		return "", -1
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	p := &pods.Items[len(pods.Items)-1]
	code := -1
	for _, cs := range p.Status.ContainerStatuses {
		if st := cs.State.Terminated; st != nil {
			code = int(st.ExitCode)
		}
	}
	lines := int64(500)
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out := ""
	if b, err := t.client.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: &lines}).DoRaw(lctx); err == nil && len(b) > 0 {
		out = string(b)
	} else {
		for _, cs := range p.Status.ContainerStatuses {
			if st := cs.State.Terminated; st != nil {
				out = st.Message
			}
		}
	}
	if len(out) > maxTaskOutput {
		out = out[len(out)-maxTaskOutput:]
	}
	return out, code
}

// deleteJob deletes a task's Job and its pods; with wait, until the Job is
// gone, so a new one of the same name can be created.
func (t *Target) deleteJob(ctx context.Context, ns, name string, wait bool) error {
	err := t.client.BatchV1().Jobs(ns).Delete(ctx, name, background)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return apiError("delete job "+name, err)
	}
	tick := time.NewTicker(t.opts.Poll)
	defer tick.Stop()
	for wait {
		if _, err := t.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return events.Retryable(fmt.Errorf("job %s still being deleted: %w", name, ctx.Err()), retryAfter)
		case <-tick.C:
		}
	}
	return nil
}
