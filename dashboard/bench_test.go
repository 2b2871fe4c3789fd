package dashboard_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dashboard"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/readmodel"
)

var projector = natsjs.Consumer{Name: "readmodel", Role: natsjs.RoleDeployer, MaxAckPending: 1,
	Subjects: []string{events.SubjectRoot + ".>"}, Buckets: natsjs.ReadModelBuckets}

// BenchmarkOverviewPageLoad loads the overview of 20 repositories × 3
// environments with 10,000 deploys recorded in a real headless chromium
// and reports the page load's p50 and p99 from the Navigation Timing API
// (loadEventEnd), over b.N loads (run with -benchtime=50x).
func BenchmarkOverviewPageLoad(b *testing.B) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("chromium unavailable (run scripts/setup.sh)")
		}
		b.Skip("chromium unavailable")
	}
	ctx := context.Background()
	topo := natsjs.DefaultTopology()
	topo.Consumers = append(topo.Consumers, projector)
	s := natsjs.MustServerWith(b, topo)
	_, js := natsjs.MustJetStream(b, s.ClientURL())
	m, err := readmodel.Open(ctx, js)
	if err != nil {
		b.Fatal(err)
	}
	pub := natsjs.NewPublisher(js, "/bench")
	const repos, envs, deploys = 20, 3, 10000
	for i := range deploys {
		r := events.Repo{Forge: "github", FullName: fmt.Sprintf("acme/svc%02d", i%repos)}
		sha := fmt.Sprintf("%040x", i+1)
		if i < repos {
			if _, err := pub.Publish(ctx, &events.PushReceived{Repo: r, Ref: "refs/heads/main", Branch: "main", Before: fmt.Sprintf("%040x", 0), After: sha}); err != nil {
				b.Fatal(err)
			}
		}
		env := []string{"staging", "qa", "production"}[(i/repos)%envs]
		req := &events.DeployRequested{Env: env, Repo: r, Commit: sha, Trigger: "bench", Kind: events.KindAuto, Actor: "slipway",
			Images: []events.Image{{Service: events.ServiceSpec{Name: "web"}, Ref: "r/web:" + sha, Digest: "sha256:" + sha}}}
		if _, err := pub.Publish(ctx, req.Result(events.OutcomeSucceeded, "", time.Unix(int64(1000+i), 0)).Event()); err != nil {
			b.Fatal(err)
		}
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- natsjs.Fold(fctx, js, projector.Name, zerolog.Nop(), m.Project) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("projector: %v", err)
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
	defer wcancel()
	if _, err := readmodel.CaughtUp(wctx, js, projector.Name); err != nil {
		b.Fatal(err)
	}
	tokens, err := api.OpenTokens(ctx, js)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokens.Create(ctx, "bench", api.RoleRead)
	if err != nil {
		b.Fatal(err)
	}
	d := &dashboard.Dashboard{Model: m, Tokens: tokens, Bus: actions.Bus{JS: js}}
	h, err := d.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	actx, cancelA := chromedp.NewExecAllocator(ctx, chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(b.TempDir()))
	defer cancelA()
	tctx, cancelT := chromedp.NewContext(actx)
	defer cancelT()
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/login"), chromedp.SendKeys(chromedp.ID("token"), tok),
		chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.ID("overview"))); err != nil {
		b.Fatal(err)
	}
	var loads []float64
	b.ResetTimer()
	for range b.N {
		if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("overview"))); err != nil {
			b.Fatal(err)
		}
		ms, err := chromedp.Run(tctx, chromedp.Evaluate[float64](`(() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd > 0 ? n.loadEventEnd : n.domContentLoadedEventEnd; })()`))
		if err != nil {
			b.Fatal(err)
		}
		loads = append(loads, ms)
	}
	b.StopTimer()
	sort.Float64s(loads)
	b.ReportMetric(loads[len(loads)/2], "p50-ms")
	b.ReportMetric(loads[min(len(loads)-1, len(loads)*99/100)], "p99-ms")
}
