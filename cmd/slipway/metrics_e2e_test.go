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
	if err := s.WriteFile("services/web/Dockerfile", "FROM localhost:5000/mirror/busybox:stable\nRUN echo breaking && exit 3\n"); err != nil {
		t.Fatal(err)
	}
	p3 := e.push(t, ctx, s, "Break the web build", "")
	e.waitEvent(t, ctx, events.SubjectCommitFailed, p3.After) // after the service's build failed
	e.waitIdle(t, ctx)
	d := deliberate{Actor: "ops", Wait: 3 * time.Minute}
	if _, err := rollback(ctx, e.up.Conn(), sample.RepoName, e.env, 1, "", d, io.Discard); err != nil {
		t.Fatal(err)
	}
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
