package kubetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/slipway-dev/slipway/internal/testca"
	"github.com/slipway-dev/slipway/internal/testport"
)

// Cluster is a running control plane: etcd, kube-apiserver and
// kube-controller-manager on loopback.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig for an administrator
	// (group system:masters).
	Kubeconfig string
	// Config and Client are the administrator's.
	Config *rest.Config
	Client kubernetes.Interface

	server string
	ca     *testca.CA
	dir    string
	procs  []*process
	// onStop runs before the components stop (the node's watch).
	onStop []func()
}

// startTimeout bounds the start of each component on a loaded machine.
const startTimeout = 2 * time.Minute

// binaries are the executables a cluster needs, found on PATH or in
// $SLIPWAY_HOME/bin.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager"}

// lookPath finds a binary on PATH, then in $SLIPWAY_HOME/bin.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	home := os.Getenv("SLIPWAY_HOME")
	if home == "" {
		home = "/var/lib/slipway"
	}
	p := filepath.Join(home, "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not on PATH nor in %s/bin (run scripts/setup.sh)", name, home)
	}
	return p, nil
}

// errMissing marks a component that is not installed, as opposed to one
// that failed to start.
var errMissing = errors.New("missing component")

// start brings a cluster up in dir; stop tears it down.
func start(tb testing.TB, dir string) (c *Cluster, err error) {
	paths := map[string]string{}
	for _, b := range binaries {
		p, err := lookPath(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errMissing, err)
		}
		paths[b] = p
	}
	c = &Cluster{dir: dir, ca: testca.MustNew(tb, "kubetest-ca")}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	etcdURL, err := c.startEtcd(tb, paths["etcd"])
	if err != nil {
		return nil, err
	}
	if err := c.startAPIServer(tb, paths["kube-apiserver"], etcdURL); err != nil {
		return nil, err
	}
	if err := c.startControllerManager(tb, paths["kube-controller-manager"]); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startEtcd(tb testing.TB, bin string) (string, error) {
	client, peer := freePort(tb), freePort(tb)
	clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProcess(c.dir, "etcd", bin,
		"--name=kubetest", "--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+clientURL, "--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL, "--log-level=warn")
	if err != nil {
		return "", err
	}
	c.procs = append(c.procs, p)
	return clientURL, p.waitFor(startTimeout, func(ctx context.Context) error {
		return httpOK(ctx, http.DefaultClient, clientURL+"/health")
	})
}

func (c *Cluster) startAPIServer(tb testing.TB, bin, etcdURL string) error {
	dir := filepath.Join(c.dir, "apiserver")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	port := freePort(tb)
	c.server = "https://127.0.0.1:" + strconv.Itoa(port)
	c.ca.IssueNow(tb, serverNames...).Write(tb, dir, "tls")
	mustWrite(tb, filepath.Join(dir, "ca.crt"), c.ca.PEM)
	saKey, saPub := mustServiceAccountKey(tb, dir)
	p, err := startProcess(c.dir, "kube-apiserver", bin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+filepath.Join(dir, "tls.crt"), "--tls-private-key-file="+filepath.Join(dir, "tls.key"),
		"--client-ca-file="+filepath.Join(dir, "ca.crt"),
		"--cert-dir="+dir,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		// Allocated as numbers only: no traffic goes to this range.
		"--service-cluster-ip-range=10.96.0.0/24",
		// The "kubernetes" Service cannot point at a loopback address.
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		// deployments/k8s runs a privileged buildkitd.
		"--allow-privileged=true",
		// kubetest's Kubelet serves pod logs with a certificate of this CA.
		"--kubelet-certificate-authority="+filepath.Join(dir, "ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
		"--profiling=false")
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	c.Kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	cfg, err := c.writeKubeconfig(tb, c.Kubeconfig, "kubetest-admin", []string{"system:masters"})
	if err != nil {
		return err
	}
	c.Config = cfg
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	return p.waitFor(startTimeout, func(ctx context.Context) error {
		return httpOK(ctx, hc, c.server+"/readyz")
	})
}

func (c *Cluster) startControllerManager(tb testing.TB, bin string) error {
	kubeconfig := filepath.Join(c.dir, "controller-manager.kubeconfig")
	// Every controller runs as this user (no per-controller service
	// accounts), so it gets every right.
	if _, err := c.writeKubeconfig(tb, kubeconfig, "system:kube-controller-manager", []string{"system:masters"}); err != nil {
		return err
	}
	dir := filepath.Join(c.dir, "apiserver")
	p, err := startProcess(c.dir, "kube-controller-manager", bin,
		"--kubeconfig="+kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+filepath.Join(dir, "sa.key"),
		"--root-ca-file="+filepath.Join(dir, "ca.crt"),
		"--profiling=false")
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	// The service account controller creates "default" in every
	// namespace: then the controllers run.
	return p.waitFor(startTimeout, func(ctx context.Context) error {
		_, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// User writes a kubeconfig for a user of the given groups authenticated by
// a client certificate of the cluster's CA, and returns its path and
// configuration. What the user may do is up to RBAC.
func (c *Cluster) User(tb testing.TB, name string, groups ...string) (string, *rest.Config) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	cfg, err := c.writeKubeconfig(tb, path, name, groups)
	if err != nil {
		tb.Fatalf("kubetest: %v", err)
	}
	return path, cfg
}

func (c *Cluster) writeKubeconfig(tb testing.TB, path, user string, groups []string) (*rest.Config, error) {
	leaf := c.ca.IssueClient(tb, user, groups...)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: c.server, CertificateAuthorityData: c.ca.PEM}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: leaf.CertPEM, ClientKeyData: leaf.KeyPEM}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: user}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// stop ends the components in reverse order of their start.
func (c *Cluster) stop() {
	for _, f := range c.onStop {
		f()
	}
	c.onStop = nil
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop()
	}
	c.procs = nil
}

// logTails returns the end of every component's log.
func (c *Cluster) logTails() string {
	var s string
	for _, p := range c.procs {
		s += p.tail()
	}
	return s
}

// freePort returns a port of 127.0.0.1 nothing listens on (testport).
func freePort(tb testing.TB) int {
	tb.Helper()
	return testport.Port(tb)
}

func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}
