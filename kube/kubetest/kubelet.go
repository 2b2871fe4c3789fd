package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Kubelet runs the pods of chosen namespaces for real, as containers of a
// Docker daemon: it is the node "kubetest-docker" (registered with a
// heartbeat, so the node lifecycle controller leaves its pods alone), binds
// those pods to itself (the scheduler's part), starts each pod's single
// container from its image with its command, arguments and environment,
// its ports published on a loopback address of its own that becomes the
// pod's IP, runs its HTTP readiness probe, reports its status (ready, a
// crash with its exit code and, for terminationMessagePolicy
// FallbackToLogsOnError, the end of its log as the termination message),
// serves its log to the API server (kubectl logs) and removes the
// container when the pod is deleted. It does not restart crashed
// containers (a crash shows as CrashLoopBackOff), mount volumes or enforce
// resources.
type Kubelet struct {
	c      *Cluster
	docker *client.Client
	name   string
	port   int
	id     string // labels its containers

	mu     sync.Mutex
	ns     map[string]bool
	pods   map[types.UID]*runPod
	nextIP int
}

type runPod struct {
	id    string // container
	ip    string
	ready bool
	done  bool
}

const kubeletNode = "kubetest-docker"

// labelKubelet marks the containers of a kubelet.
const labelKubelet = "kubetest.kubelet"

// Kubelet returns the cluster's Docker-backed node, started at the first
// call; docker is the daemon its pods run on.
func (c *Cluster) Kubelet(tb testing.TB, docker *client.Client) *Kubelet {
	tb.Helper()
	n := c.Node(tb) // the status-only node leaves the kubelet's namespaces alone
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.kubelet != nil {
		return n.kubelet
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	k := &Kubelet{c: c, docker: docker, name: kubeletNode, id: hex.EncodeToString(b), ns: map[string]bool{}, pods: map[types.UID]*runPod{}}
	if err := k.serve(tb); err != nil {
		tb.Fatalf("kubetest: kubelet: %v", err)
	}
	if err := k.register(); err != nil {
		tb.Fatalf("kubetest: kubelet: register node: %v", err)
	}
	stop := make(chan struct{})
	go k.heartbeat(stop)
	go k.monitor(stop)
	c.onStop = append(c.onStop, func() { close(stop); k.removeAll() })
	n.kubelet = k
	return k
}

// Run has the kubelet run every pod of namespace until the test ends.
func (k *Kubelet) Run(tb testing.TB, namespace string) {
	k.mu.Lock()
	k.ns[namespace] = true
	k.mu.Unlock()
	tb.Cleanup(func() {
		k.mu.Lock()
		delete(k.ns, namespace)
		k.mu.Unlock()
	})
}

func (k *Kubelet) runs(ns string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ns[ns]
}

// serve starts the kubelet's HTTPS endpoint, which serves container logs.
func (k *Kubelet) serve(tb testing.TB) error {
	cert, key := k.c.ca.issue(tb, "kubetest-kubelet", nil, net.IPv4(127, 0, 0, 1))
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return err
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	k.port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(k.logs), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	k.c.onStop = append(k.c.onStop, func() { _ = srv.Close() })
	return nil
}

// logs answers GET /containerLogs/<ns>/<pod>/<container>?tailLines=N.
func (k *Kubelet) logs(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	pod, err := k.c.Client.CoreV1().Pods(parts[0]).Get(r.Context(), parts[1], metav1.GetOptions{})
	if err != nil {
		http.NotFound(w, r)
		return
	}
	k.mu.Lock()
	rp := k.pods[pod.UID]
	k.mu.Unlock()
	if rp == nil {
		http.Error(w, "container not started", http.StatusBadRequest)
		return
	}
	tail := r.URL.Query().Get("tailLines")
	if tail == "" {
		tail = "all"
	}
	_, _ = w.Write([]byte(k.containerLog(r.Context(), rp.id, tail)))
}

func (k *Kubelet) containerLog(ctx context.Context, id, tail string) string {
	rc, err := k.docker.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: tail})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	return out.String()
}

// register creates the Node with the kubelet's endpoint and a Ready
// condition.
func (k *Kubelet) register() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.name, Labels: map[string]string{"kubernetes.io/hostname": k.name}}}
	if _, err := k.c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return k.postStatus(ctx)
}

func (k *Kubelet) postStatus(ctx context.Context) (err error) {
	for range 5 {
		if err = k.postStatusOnce(ctx); !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

func (k *Kubelet) postStatusOnce(ctx context.Context) error {
	node, err := k.c.Client.CoreV1().Nodes().Get(ctx, k.name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110"),
	}
	node.Status.Capacity, node.Status.Allocatable = capacity, capacity
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: k.name}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(k.port)
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubetest kubelet on Docker",
		LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	_, err = k.c.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// heartbeat renews the node's lease and status, as a kubelet does.
func (k *Kubelet) heartbeat(stop chan struct{}) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k.renewLease(ctx)
		_ = k.postStatus(ctx)
		cancel()
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

func (k *Kubelet) renewLease(ctx context.Context) {
	leases := k.c.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, k.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: k.name}, Spec: coordinationv1.LeaseSpec{
			HolderIdentity: new(k.name), LeaseDurationSeconds: new(int32(40)), RenewTime: &now,
		}}
		_, _ = leases.Create(ctx, l, metav1.CreateOptions{})
		return
	}
	if err == nil {
		l.Spec.RenewTime = &now
		_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
}

// monitor binds, starts, probes and finalizes the pods of the kubelet's
// namespaces.
func (k *Kubelet) monitor(stop chan struct{}) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		k.mu.Lock()
		nss := make([]string, 0, len(k.ns))
		for ns := range k.ns {
			nss = append(nss, ns)
		}
		k.mu.Unlock()
		for _, ns := range nss {
			k.sync(ns)
		}
	}
}

func (k *Kubelet) sync(ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pods, err := k.c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.DeletionTimestamp != nil:
			k.finalize(ctx, p)
		case p.Spec.NodeName == "":
			k.bind(ctx, p)
		case p.Spec.NodeName == k.name:
			k.step(ctx, p)
		}
	}
}

func (k *Kubelet) bind(ctx context.Context, p *corev1.Pod) {
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: k.name}}
	_ = k.c.Client.CoreV1().Pods(p.Namespace).Bind(ctx, b, metav1.CreateOptions{})
}

// finalize removes a deleted pod's container and confirms the deletion.
func (k *Kubelet) finalize(ctx context.Context, p *corev1.Pod) {
	k.mu.Lock()
	rp := k.pods[p.UID]
	delete(k.pods, p.UID)
	k.mu.Unlock()
	if rp != nil {
		_ = k.docker.ContainerRemove(ctx, rp.id, container.RemoveOptions{Force: true})
	}
	_ = k.c.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64(0)), Preconditions: &metav1.Preconditions{UID: &p.UID},
	})
}

// step starts a bound pod's container, or reports how it runs.
func (k *Kubelet) step(ctx context.Context, p *corev1.Pod) {
	k.mu.Lock()
	rp := k.pods[p.UID]
	k.mu.Unlock()
	if rp == nil {
		var err error
		if rp, err = k.start(ctx, p); err != nil {
			k.report(ctx, p, func(st *corev1.PodStatus) {
				st.Phase = corev1.PodPending
				st.ContainerStatuses = []corev1.ContainerStatus{{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()}}}}
			})
			return
		}
	}
	if rp.done {
		return
	}
	info, err := k.docker.ContainerInspect(ctx, rp.id)
	if err != nil {
		return
	}
	c := p.Spec.Containers[0]
	if !info.State.Running {
		k.exited(ctx, p, rp, info.State.ExitCode)
		return
	}
	ready := probe(ctx, rp.ip, c)
	if ready == rp.ready && p.Status.Phase == corev1.PodRunning {
		return
	}
	rp.ready = ready
	k.report(ctx, p, func(st *corev1.PodStatus) { running(st, rp, c, ready) })
}

// start pulls the pod's image and starts its container on a fresh
// loopback address.
func (k *Kubelet) start(ctx context.Context, p *corev1.Pod) (*runPod, error) {
	if len(p.Spec.Containers) != 1 {
		return nil, fmt.Errorf("kubetest kubelet runs pods of one container, not %d", len(p.Spec.Containers))
	}
	c := p.Spec.Containers[0]
	rc, err := k.docker.ImagePull(ctx, c.Image, image.PullOptions{})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", c.Image, err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	k.mu.Lock()
	k.nextIP++
	ip := fmt.Sprintf("127.100.%d.%d", k.nextIP/250, k.nextIP%250+1)
	k.mu.Unlock()
	cfg := &container.Config{Image: c.Image, Cmd: c.Args, Labels: map[string]string{labelKubelet: k.id, "kubetest.pod": p.Namespace + "/" + p.Name}, ExposedPorts: nat.PortSet{}}
	if len(c.Command) > 0 {
		cfg.Entrypoint = c.Command
	}
	for _, e := range c.Env {
		cfg.Env = append(cfg.Env, e.Name+"="+e.Value)
	}
	host := &container.HostConfig{PortBindings: nat.PortMap{}}
	for _, port := range c.Ports {
		pp := nat.Port(strconv.Itoa(int(port.ContainerPort)) + "/tcp")
		cfg.ExposedPorts[pp] = struct{}{}
		host.PortBindings[pp] = []nat.PortBinding{{HostIP: ip, HostPort: strconv.Itoa(int(port.ContainerPort))}}
	}
	created, err := k.docker.ContainerCreate(ctx, cfg, host, nil, nil, "")
	if err != nil {
		return nil, fmt.Errorf("create container: %w", err)
	}
	if err := k.docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		_ = k.docker.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
		return nil, fmt.Errorf("start container: %w", err)
	}
	rp := &runPod{id: created.ID, ip: ip}
	k.mu.Lock()
	k.pods[p.UID] = rp
	k.mu.Unlock()
	return rp, nil
}

// probe runs the container's HTTP readiness probe once; a container
// without one is ready once running.
func probe(ctx context.Context, ip string, c corev1.Container) bool {
	pr := c.ReadinessProbe
	if pr == nil || pr.HTTPGet == nil {
		return true
	}
	port := pr.HTTPGet.Port.IntValue()
	for _, p := range c.Ports {
		if p.Name == pr.HTTPGet.Port.String() {
			port = int(p.ContainerPort)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, strconv.Itoa(port))+pr.HTTPGet.Path, nil)
	if err != nil {
		return false
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// exited reports a container that ended: a finished pod under
// restartPolicy Never, a crash loop otherwise.
func (k *Kubelet) exited(ctx context.Context, p *corev1.Pod, rp *runPod, code int) {
	c := p.Spec.Containers[0]
	msg := ""
	if c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError && code != 0 {
		msg = k.containerLog(ctx, rp.id, "80")
		if len(msg) > 2048 {
			msg = msg[len(msg)-2048:]
		}
	}
	now := metav1.Now()
	term := &corev1.ContainerStateTerminated{ExitCode: int32(code), Message: msg, FinishedAt: now,
		Reason: map[bool]string{true: "Completed", false: "Error"}[code == 0]}
	rp.done = true
	k.report(ctx, p, func(st *corev1.PodStatus) {
		running(st, rp, c, false)
		cs := &st.ContainerStatuses[0]
		if p.Spec.RestartPolicy == corev1.RestartPolicyNever {
			st.Phase = map[bool]corev1.PodPhase{true: corev1.PodSucceeded, false: corev1.PodFailed}[code == 0]
			cs.State = corev1.ContainerState{Terminated: term}
			return
		}
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting failed container"}}
		cs.LastTerminationState = corev1.ContainerState{Terminated: term}
		cs.RestartCount = 1
	})
}

func running(st *corev1.PodStatus, rp *runPod, c corev1.Container, ready bool) {
	now := metav1.Now()
	r := map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[ready]
	st.Phase = corev1.PodRunning
	st.HostIP, st.PodIP = "127.0.0.1", rp.ip
	st.PodIPs = []corev1.PodIP{{IP: rp.ip}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	st.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: r, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: r, LastTransitionTime: now},
	}
	st.ContainerStatuses = []corev1.ContainerStatus{{
		Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: "docker://" + rp.id, Ready: ready, Started: new(true),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
	}}
}

// report writes the pod's status as mod changes it, on the latest pod.
func (k *Kubelet) report(ctx context.Context, p *corev1.Pod, mod func(*corev1.PodStatus)) {
	for range 5 {
		cur, err := k.c.Client.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil || cur.UID != p.UID {
			return
		}
		mod(&cur.Status)
		if _, err := k.c.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
			return
		}
	}
}

// removeAll removes every container the kubelet started.
func (k *Kubelet) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := k.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", labelKubelet+"="+k.id))})
	if err != nil {
		return
	}
	for _, c := range cs {
		_ = k.docker.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
}
