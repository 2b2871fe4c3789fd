package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/canary"
)

// canaryWeb is the sample's web with /cgi-bin/app answering the commit,
// or, with FAIL=1, a 500 for every other request.
const canaryWeb = `mkdir -p /www/cgi-bin && echo 0 > /tmp/n
cat > /www/cgi-bin/app <<EOF
#!/bin/sh
n=\$(cat /tmp/n); echo \$((n+1)) > /tmp/n
if [ "%s" = 1 ] && [ \$((n %% 2)) = 0 ]; then
  printf 'HTTP/1.0 500 Internal Server Error\r\n\r\nfail\n'
else
  printf 'Content-Type: text/plain\r\n\r\n$SLIPWAY_COMMIT\n'
fi
EOF
chmod +x /www/cgi-bin/app
printf '%%s %%s\n' "$SLIPWAY_SERVICE" "$SLIPWAY_COMMIT" > /www/index.html
exec httpd -f -p 8080 -h /www
`

// TestCanaryEndToEnd: with a canary declared for staging in slipway.yaml,
// a pushed commit whose web answers every other request with a 500 is
// rolled back by itself through slipway up (deployer, proxy, NATS): the
// deploy is recorded as failed with an automatic analysis, the client's
// requests to the old commit all succeeded, and the old commit serves on.
func TestCanaryEndToEnd(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := startSlipway(t, ctx)
	t.Cleanup(func() { removeEnv(t, canary.ShadowEnv(e.env)) })
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b, err := os.ReadFile("../internal/sample/shop/slipway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest := string(b) + fmt.Sprintf("environments:\n  %s:\n    rollout: {strategy: canary, steps: [10%%, 50%%], pause: 20s, min_requests: 10}\n", e.env)
	for path, content := range map[string]string{"slipway.yaml": manifest, "services/web/start.sh": fmt.Sprintf(canaryWeb, "0")} {
		if err := s.WriteFile(path, content); err != nil {
			t.Fatal(err)
		}
	}
	p1 := e.push(t, ctx, s, "Web with an app, staging by canary", "")
	e.waitServing(t, ctx, p1.After)

	if err := s.WriteFile("services/web/start.sh", fmt.Sprintf(canaryWeb, "1")); err != nil {
		t.Fatal(err)
	}
	stop := sendLoad(e.up.Config.ProxyAddr, "web."+e.env+".shop.localhost")
	p2 := e.push(t, ctx, s, "Web failing half its requests", "")
	e.waitEvent(t, ctx, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, e.env), p2.After)
	got := stop()
	e.waitIdle(t, ctx)
	e.requireServing(t, ctx, p1.After)
	e.requireContainers(t, ctx, p1.After)

	res := failedResult(t, ctx, e, p2.After)
	if res.Analysis == nil || !res.Analysis.Automatic || !strings.Contains(res.Analysis.Cause, "error rate") {
		t.Fatalf("failed deploy's analysis = %+v (reason %q), want an automatic rollback on the error rate", res.Analysis, res.Reason)
	}
	var fromOld, failed, other int
	for _, a := range got {
		switch {
		case a == "200 "+p1.After:
			fromOld++
		case a == "500 fail":
			failed++
		case strings.HasPrefix(a, "200 "+p2.After):
		default:
			other++
			t.Errorf("answer %q is neither release's own", a)
		}
	}
	t.Logf("client: %d answers from the old commit, %d failed from the canary, analysis %+v", fromOld, failed, *res.Analysis)
	if fromOld == 0 || other != 0 {
		t.Errorf("%d answers from the old commit, %d others", fromOld, other)
	}
	if limit := len(got)/10 + 10; failed > limit {
		t.Errorf("%d of %d requests failed, more than the step's 10%% allows", failed, len(got))
	}
}

// failedResult returns the deploy-failed result of sha in e's staging.
func failedResult(t *testing.T, ctx context.Context, e *env, sha string) events.DeployResult {
	t.Helper()
	envs, err := natsjs.Events(ctx, e.up.Conn().JS, events.EnvSubject(events.SubjectDeployFailed, sample.RepoName, e.env))
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		ev, err := env.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := events.ResultOf(ev); ok && r.Commit == sha {
			return r
		}
	}
	t.Fatalf("no deploy-failed result of %s", sha[:12])
	return events.DeployResult{}
}

// sendLoad sends requests for /cgi-bin/app to host through the proxy at
// addr from two clients until stop is called, which returns every answer as
// "<status> <body>".
func sendLoad(addr, host string) (stop func() []string) {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/cgi-bin/app", nil)
				req.Host = host
				resp, err := hc.Do(req)
				if err != nil {
					time.Sleep(50 * time.Millisecond) // the proxy not answering yet: do not spin
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b))))
				mu.Unlock()
			}
		})
	}
	return func() []string {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}
