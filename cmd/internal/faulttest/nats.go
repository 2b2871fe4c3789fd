package faulttest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/internal/testport"
)

var (
	natsOnce sync.Once
	natsBin  string
	natsErr  error
)

// MustNATSServer returns the path of the nats-server binary that
// tests/scripts/nats-server.sh installs (into a cache directory).
func MustNATSServer(tb testing.TB) string {
	tb.Helper()
	natsOnce.Do(func() {
		out, err := exec.Command(filepath.Join(Root(), "tests", "scripts", "nats-server.sh")).Output()
		natsBin, natsErr = strings.TrimSpace(string(out)), err
	})
	if natsErr != nil {
		Missing(tb, "nats-server from tests/scripts/nats-server.sh: %v", natsErr)
	}
	return natsBin
}

// NATSOptions configures external nats-servers.
type NATSOptions struct {
	// SyncAlways fsyncs every JetStream write before acknowledging it
	// (`sync: always`); the default syncs every 2 minutes.
	SyncAlways bool
}

// NATS is one external nats-server process.
type NATS struct {
	*Proc
	Name                    string
	Port, ClusterPort, HTTP int
	Dir                     string
}

// URL is the node's client URL.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// URLs joins the client URLs of nodes, as -nats-url takes them.
func URLs(nodes []*NATS) string {
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// StartNATS starts one JetStream node with its store in a temporary
// directory.
func StartNATS(tb testing.TB, opt NATSOptions) *NATS {
	tb.Helper()
	return StartNATSCluster(tb, 1, opt)[0]
}

// StartNATSCluster starts n JetStream nodes on loopback, clustered when
// n > 1, and waits until each answers its health check.
func StartNATSCluster(tb testing.TB, n int, opt NATSOptions) []*NATS {
	tb.Helper()
	bin := MustNATSServer(tb)
	nodes := make([]*NATS, n)
	for i := range nodes {
		nodes[i] = &NATS{Name: fmt.Sprintf("n%d", i+1), Port: FreePort(tb), ClusterPort: FreePort(tb), HTTP: FreePort(tb), Dir: tb.TempDir()}
	}
	for _, node := range nodes {
		conf := filepath.Join(node.Dir, "nats.conf")
		if err := os.WriteFile(conf, []byte(natsConfig(node, nodes, opt)), 0o644); err != nil {
			tb.Fatal(err)
		}
		node.Proc = StartProc(tb, "nats-"+node.Name, bin, "-c", conf)
	}
	for _, node := range nodes {
		node.WaitReady(tb)
	}
	return nodes
}

func natsConfig(node *NATS, nodes []*NATS, opt NATSOptions) string {
	sync := `sync_interval: "2m"`
	if opt.SyncAlways {
		sync = "sync: always"
	}
	c := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\nmax_payload: 8MB\n"+
		"jetstream {\n  store_dir: %q\n  %s\n}\n", node.Name, node.Port, node.HTTP, filepath.Join(node.Dir, "js"), sync)
	if len(nodes) == 1 {
		return c
	}
	var routes []string
	for _, o := range nodes {
		if o != node {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", o.ClusterPort))
		}
	}
	return c + fmt.Sprintf("cluster {\n  name: slipway-test\n  listen: 127.0.0.1:%d\n  routes: [%s]\n}\n",
		node.ClusterPort, strings.Join(routes, ", "))
}

// WaitReady waits until the node's JetStream answers its health check.
func (n *NATS) WaitReady(tb testing.TB) {
	tb.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", n.HTTP)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	tb.Fatalf("nats-server %s not ready after 30s:\n%s", n.Name, n.Tail(20))
}

// FreePort returns a TCP port of 127.0.0.1 nobody listens on (testport).
func FreePort(tb testing.TB) int {
	tb.Helper()
	return testport.Port(tb)
}
