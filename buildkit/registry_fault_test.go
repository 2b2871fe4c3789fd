package buildkit_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/events"
)

// flakyRegistry is a reverse proxy in front of a real registry that
// answers the first blob upload of an image's repository (not its cache's)
// as a registry answers a corrupted one, then passes everything through.
type flakyRegistry struct {
	proxy  *httputil.ReverseProxy
	repo   string
	failed atomic.Int32
}

func (f *flakyRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v2/"+f.repo+"/blobs/uploads/") && f.failed.Add(1) == 1 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"},{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`))
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// startFlakyRegistry starts a flakyRegistry for repo in front of registry
// (host:port) on a loopback port of its own and returns its host:port.
func startFlakyRegistry(t *testing.T, registry, repo string) (string, *flakyRegistry) {
	t.Helper()
	target, err := url.Parse("http://" + registry)
	if err != nil {
		t.Fatal(err)
	}
	f := &flakyRegistry{proxy: httputil.NewSingleHostReverseProxy(target), repo: repo}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: f}}
	srv.Start()
	t.Cleanup(srv.Close)
	return ln.Addr().String(), f
}

// TestRegistryFailingMidPushIsRetryable: the first build of a service
// (its :buildcache tag does not exist yet: the cache import fails, which is
// no error) whose push the registry answers "digest did not match uploaded
// content / blob unknown" once is retryable, not the user's fault; the
// retry succeeds, and the image is in the registry.
func TestRegistryFailingMidPushIsRetryable(t *testing.T) {
	e := mustEnv(t)
	repo := buildkittest.UniqueRepo(t)
	addr, f := startFlakyRegistry(t, e.registry, repo)
	req := writeContext(t, map[string]string{
		"Dockerfile": "FROM " + e.base + "\nRUN echo " + repo + " > /id\n",
	})
	req.Image = addr + "/" + repo + ":v1"
	req.CacheRef = addr + "/" + repo + "/cache:buildcache"
	_, err := e.builder.Build(testContext(t), req)
	t.Logf("first build: %v", err)
	var re *events.RetryableError
	if f.failed.Load() == 0 || !errors.As(err, &re) || re.After <= 0 {
		t.Fatalf("with %d blob uploads refused: error = %v, want retryable", f.failed.Load(), err)
	}
	res, err := e.builder.Build(testContext(t), req)
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	got, err := buildkittest.ManifestDigest(e.registry, repo, "v1")
	if err != nil || got != res.Digest {
		t.Errorf("registry has %s (%v), Build returned %s", got, err, res.Digest)
	}
}
