package sshhost_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
)

// TestEveryHostProxiesItsHostNames deploys to three hosts with the host
// proxy, an image of Slipway's own binary, and requests the service's host
// name through each host's proxy container.
func TestEveryHostProxiesItsHostNames(t *testing.T) {
	f := mustFixture(t, 3)
	opts := f.options(3)
	opts.ProxyImage, opts.ProxyAddr = mustProxyImage(t), ":8080"
	target := mustTarget(t, opts)
	for _, commit := range []string{dockertest.RandomCommit(), dockertest.RandomCommit()} {
		if err := target.Deploy(f.ctx, f.deployment(commit, f.serve)); err != nil {
			t.Fatalf("deploy: %v", err)
		}
		for _, h := range f.hosts.List {
			url := "http://" + net.JoinHostPort(h.IP, "8080") + "/"
			got := waitFor(t, url, "shop.example.test", "200 "+commit)
			if got != "200 "+commit {
				t.Errorf("%s: GET %s for shop.example.test = %q, want 200 %s", h.NS, url, got, commit)
			}
			if got := request(url, "other.example.test"); !strings.HasPrefix(got, "404 ") {
				t.Errorf("%s: a host name nobody declared = %q, want 404", h.NS, got)
			}
		}
	}
}

// waitFor requests url for host until it answers want (the proxy reads its
// routes every second) or 20 seconds pass, and returns the last answer.
func waitFor(tb testing.TB, url, host, want string) string {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := request(url, host)
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// request sends GET url with Host host and returns "<status> <body>".
func request(url, host string) string {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	req.Host = host
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strconv.Itoa(resp.StatusCode) + " " + strings.TrimSpace(string(b))
}

// mustProxyImage builds Slipway's binary (static), makes an image holding
// it at docker.ProxyBinary, pushes it to the test registry and returns its
// reference.
func mustProxyImage(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "slipway")
	build := exec.Command("go", "build", "-o", bin, "github.com/slipway-dev/slipway/cmd/slipway")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build slipway: %v: %s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		tb.Fatal(err)
	}
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(docker.ProxyBinary, "/"), Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
		tb.Fatal(err)
	}
	if _, err := tw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	cli := dockertest.MustDocker(tb)
	ref := dockertest.MustRegistry(tb) + "/slipway-test/slipway:" + dockertest.RandomName("p")
	ctx := context.Background()
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &rootfs, SourceName: "-"}, ref, image.ImportOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	tb.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true}) })
	rc, err = cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: "e30="})
	if err != nil {
		tb.Fatal(err)
	}
	out, _ := io.ReadAll(rc)
	rc.Close()
	if bytes.Contains(out, []byte(`"error"`)) {
		tb.Fatalf("push %s: %s", ref, out)
	}
	return ref
}
