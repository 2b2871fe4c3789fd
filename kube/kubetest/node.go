package kubetest

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Outcome is what the node makes of a pod.
type Outcome struct {
	// Phase is corev1.PodRunning (every container running and ready),
	// corev1.PodSucceeded or corev1.PodFailed; empty leaves the pod
	// pending, as a kubelet would a pod whose readiness probe never passes.
	Phase corev1.PodPhase
	// ExitCode and Message are a finished container's exit code and
	// termination message (what a kubelet copies from the end of the log
	// under terminationMessagePolicy FallbackToLogsOnError).
	ExitCode int32
	Message  string
}

// Policy decides a pod's outcome.
type Policy func(*corev1.Pod) Outcome

// DefaultPolicy runs a Job's pod to success and makes any other pod ready.
func DefaultPolicy(p *corev1.Pod) Outcome {
	if _, ok := p.Labels["batch.kubernetes.io/job-name"]; ok {
		return Outcome{Phase: corev1.PodSucceeded}
	}
	return Outcome{Phase: corev1.PodRunning}
}

// Node plays the kubelet of the cluster: it writes the status of every pod
// as the policy of its namespace (DefaultPolicy when none) decides.
type Node struct {
	c        *Cluster
	mu       sync.Mutex
	policies map[string]Policy
	played   map[string]int // namespace to pods written
	kubelet  *Kubelet       // runs the pods of its namespaces itself
}

var nodes struct {
	sync.Mutex
	m map[*Cluster]*Node
}

// Node returns the cluster's node, started at the first call and running
// until the cluster stops.
func (c *Cluster) Node(tb testing.TB) *Node {
	tb.Helper()
	nodes.Lock()
	defer nodes.Unlock()
	if n := nodes.m[c]; n != nil {
		return n
	}
	n := &Node{c: c, policies: map[string]Policy{}, played: map[string]int{}}
	f := informers.NewSharedInformerFactory(c.Client, 0)
	inf := f.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { n.play(o) },
		UpdateFunc: func(_, o any) { n.play(o) },
	}); err != nil {
		tb.Fatalf("kubetest: watch pods: %v", err)
	}
	stop := make(chan struct{})
	f.Start(stop)
	c.onStop = append(c.onStop, func() { close(stop); f.Shutdown() })
	if nodes.m == nil {
		nodes.m = map[*Cluster]*Node{}
	}
	nodes.m[c] = n
	return n
}

// Policy sets the policy of the pods of a namespace until the test ends.
func (n *Node) Policy(tb testing.TB, namespace string, p Policy) {
	tb.Helper()
	n.mu.Lock()
	n.policies[namespace] = p
	n.mu.Unlock()
	tb.Cleanup(func() {
		n.mu.Lock()
		delete(n.policies, namespace)
		n.mu.Unlock()
	})
}

// Played returns how many pod statuses the node wrote in a namespace.
func (n *Node) Played(namespace string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.played[namespace]
}

func (n *Node) policy(ns string) Policy {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.kubelet != nil && n.kubelet.runs(ns) {
		return nil
	}
	if p := n.policies[ns]; p != nil {
		return p
	}
	return DefaultPolicy
}

func (n *Node) play(o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok || pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return
	}
	policy := n.policy(pod.Namespace)
	if policy == nil || pod.Spec.NodeName != "" {
		return // a kubelet's
	}
	out := policy(pod)
	if out.Phase == "" || (out.Phase == corev1.PodRunning && pod.Status.Phase == corev1.PodRunning) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := pod.DeepCopy()
	p.Status = status(p, out)
	if _, err := n.c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		// A conflict brings the newer pod as an update; a deleted one
		// needs nothing.
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			println("kubetest: node: update pod status:", err.Error())
		}
		return
	}
	n.mu.Lock()
	n.played[p.Namespace]++
	n.mu.Unlock()
}

// status is the status a kubelet would report for the outcome.
func status(p *corev1.Pod, out Outcome) corev1.PodStatus {
	now := metav1.Now()
	ready := corev1.ConditionFalse
	if out.Phase == corev1.PodRunning {
		ready = corev1.ConditionTrue
	}
	st := corev1.PodStatus{
		Phase:     out.Phase,
		StartTime: &now,
		PodIP:     "10.244.0.1",
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: ready, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: ready, LastTransitionTime: now},
		},
	}
	for _, c := range p.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: ready == corev1.ConditionTrue}
		if out.Phase == corev1.PodRunning {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
			cs.Started = new(true)
		} else {
			cs.State.Terminated = &corev1.ContainerStateTerminated{
				ExitCode: out.ExitCode, Message: out.Message, StartedAt: now, FinishedAt: now,
				Reason: map[bool]string{true: "Completed", false: "Error"}[out.Phase == corev1.PodSucceeded],
			}
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	return st
}
