package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/buildkit/buildkittest"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
)

// TestMetricsCountWhatHappened scrapes /metrics of `slipway up` after two
// pushes served, a push whose web build fails and a rollback: the counters
// moved by exactly that, the environment's info names the commit rolled
// back to, and `promtool check metrics` accepts the scrape.
func TestMetricsCountWhatHappened(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := startSlipwayWith(t, ctx, func(c *pipeline.Config) { c.MetricsAddr = "127.0.0.1:0" }, nil)
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	p1 := e.push(t, ctx, s, "Add web and api", "")
	e.waitServing(t, ctx, p1.After)
	if err := s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		t.Fatal(err)
	}
	p2 := e.push(t, ctx, s, "Change web", "")
	e.waitServing(t, ctx, p2.After)
	proxiedCounted(t, ctx, e)
	if err := s.WriteFile("services/web/Dockerfile", "FROM localhost:5000/mirror/busybox:stable\nRUN echo breaking && exit 3\n"); err != nil {
		t.Fatal(err)
	}
	p3 := e.push(t, ctx, s, "Break the web build", "")
	e.waitEvent(t, ctx, events.SubjectCommitFailed, p3.After) // after the service's build failed
	e.waitIdle(t, ctx)
	// The rollback's deploy waits for the environment's lock, held here
	// from before it is requested until held after it was delivered.
	held := rollbackWaitingForLock(t, ctx, e)
	e.waitServing(t, ctx, p1.After)
	e.waitIdle(t, ctx)

	scrape := mustScrape(t, e.up.HTTP.URL()+"/metrics")
	for _, want := range []struct {
		series string
		value  float64
	}{
		{`slipway_webhook_requests_total{code="202",forge="github"}`, 3},
		{`slipway_build_duration_seconds_count{result="succeeded"}`, 5}, // web and api of p1, p2; api of p3
		{`slipway_build_duration_seconds_count{result="failed"}`, 1},
		{`slipway_deploy_duration_seconds_count{kind="auto",result="succeeded"}`, 2},
		{`slipway_deploy_duration_seconds_count{kind="rollback",result="succeeded"}`, 1},
		{fmt.Sprintf(`slipway_env_info{commit=%q,env=%q,health="healthy",repo=%q,target="local"}`, p1.After, e.env, sample.RepoName), 1},
		{`slipway_consumer_pending_messages{consumer="builder-build"}`, 0},
		{`slipway_consumer_pending_messages{consumer="readmodel"}`, 0},
		{`slipway_dead_letters`, 0},
	} {
		if got, ok := seriesValue(scrape, want.series); !ok || got != want.value {
			t.Errorf("%s = %v (present %v), want %v", want.series, got, ok, want.value)
		}
	}
	// p1, p2 and the rollback took the lock (p3 never deployed); the
	// rollback waited at least as long as the lock was held after its
	// delivery.
	lockSeries := fmt.Sprintf(`slipway_deploy_lock_wait_seconds_count{env=%q}`, e.env)
	if got, _ := seriesValue(scrape, lockSeries); got != 3 {
		t.Errorf("%s = %v, want 3", lockSeries, got)
	}
	if sum, _ := seriesValue(scrape, fmt.Sprintf(`slipway_deploy_lock_wait_seconds_sum{env=%q}`, e.env)); sum < held.Seconds() {
		t.Errorf("lock waits sum to %vs, want at least the %s the rollback waited", sum, held)
	}
	if quick, _ := seriesValue(scrape, fmt.Sprintf(`slipway_deploy_lock_wait_seconds_bucket{env=%q,le="1"}`, e.env)); quick > 2 {
		t.Errorf("%v lock waits under 1s, want the rollback's above", quick)
	}
	for _, absent := range []string{`result="failed"}`, `kind="auto",result="failed"`} {
		if regexp.MustCompile(`slipway_deploy_duration_seconds_count\{[^}]*` + regexp.QuoteMeta(absent)).Match(scrape) {
			t.Errorf("a deploy counted as %s", absent)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^slipway_env_info\{`).FindAll(scrape, -1)); n != 1 {
		t.Errorf("%d series of slipway_env_info, want 1 (one environment)", n)
	}
	cmd := exec.CommandContext(ctx, mustPromtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(scrape)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// mustPromtool returns the promtool scripts/setup.sh built, or skips (fails
// in CI).
func mustPromtool(t testing.TB) string {
	t.Helper()
	home := os.Getenv("SLIPWAY_HOME")
	if home == "" {
		home = "/var/lib/slipway"
	}
	if p := filepath.Join(home, "bin", "promtool"); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	buildkittest.Missing(t, "promtool not found")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func mustScrape(t testing.TB, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// seriesValue returns the value of the series named exactly (name and labels
// in Prometheus's sorted order) in a scrape.
func seriesValue(scrape []byte, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(scrape)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return v, err == nil
}

// proxiedCounted sends five requests to the web service of e's environment
// and two to a service it does not run through the proxy: the requests'
// counters move by exactly that, the unknown service under no names.
func proxiedCounted(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	url := e.up.HTTP.URL() + "/metrics"
	web := fmt.Sprintf(`{code="2xx",env=%q,repo=%q,service="web"}`, e.env, sample.RepoName)
	series := []string{`slipway_proxy_requests_total` + web,
		fmt.Sprintf(`slipway_proxy_request_duration_seconds_count{env=%q,repo=%q,service="web"}`, e.env, sample.RepoName),
		`slipway_proxy_requests_total{code="5xx",env="",repo="",service=""}`}
	before := mustScrape(t, url)
	send := func(host string, n, want int) {
		for range n {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.up.Config.ProxyAddr+"/", nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d", host, resp.StatusCode, want)
			}
		}
	}
	send("web."+e.env+".shop.localhost", 5, http.StatusOK)
	send("nope."+e.env+".shop.localhost", 2, http.StatusBadGateway)
	after := mustScrape(t, url)
	for i, want := range []float64{5, 5, 2} {
		b, _ := seriesValue(before, series[i])
		a, ok := seriesValue(after, series[i])
		if !ok || a-b != want {
			t.Errorf("%s moved from %v to %v (present %v), want +%v", series[i], b, a, ok, want)
		}
	}
	if regexp.MustCompile(`slipway_proxy_requests_total\{[^}]*service="nope"`).Match(after) {
		t.Error("a service named only by a Host header is a label")
	}
}

// rollbackWaitingForLock holds the lock of e's environment, rolls it back,
// keeps the lock a while once the deployer has the rollback's request in
// hand, releases it and waits for the rollback's result; it returns how
// long the lock was held after the delivery.
func rollbackWaitingForLock(t *testing.T, ctx context.Context, e *env) time.Duration {
	t.Helper()
	c := e.up.Conn()
	kv, err := c.JS.KeyValue(ctx, natsjs.BucketLocks)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := natsstore.NewEnvLocks(kv, "metrics-test").Lock(ctx, sample.RepoName, e.env, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := rollback(ctx, c, sample.RepoName, e.env, 1, "", deliberate{Actor: "ops", Wait: 3 * time.Minute}, io.Discard)
		done <- err
	}()
	cons, err := c.JS.Consumer(ctx, natsjs.StreamName, pipeline.ConsumerDeploy)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		info, err := cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rollback's deploy request was never delivered")
		}
	}
	// The deploy waits for the lock from here: hold it for a measured
	// time (what is measured, not a synchronisation).
	const hold = 1500 * time.Millisecond
	delivered := time.Now()
	<-time.After(hold)
	held := time.Since(delivered)
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return min(held, hold)
}
