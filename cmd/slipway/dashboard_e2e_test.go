package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/notifier"
)

// mustChromium returns the system's chromium; a missing one skips the
// test, or fails it with CI=true.
func mustChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium unavailable (run scripts/setup.sh)")
	}
	t.Skip("chromium unavailable (run scripts/setup.sh)")
	return ""
}

// mustBrowser starts a headless chromium with a fresh profile and returns
// a tab's context.
func mustBrowser(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(mustChromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	tctx, cancelT := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelT(); cancelA() })
	// The confirmation of a form (data-confirm) is accepted, as a user would.
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dialogs := chromedp.Events(tctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(tctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return tctx
}

// artifacts is where the test's screenshots go: $SLIPWAY_ARTIFACTS/dashboard
// when set, else the test's temporary directory.
func artifacts(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if a := os.Getenv("SLIPWAY_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "dashboard")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// receiver records the notifications a real HTTP receiver gets, each
// signature checked; a hanging one holds every request until the test ends.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []notifier.Notification
	bad     []string
	open    atomic.Int32
	release chan struct{}
}

func startReceiver(t testing.TB, secret string, hang bool) *receiver {
	r := &receiver{release: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if hang {
			r.open.Add(1)
			defer r.open.Add(-1)
			select {
			case <-r.release:
			case <-req.Context().Done():
			}
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get(notifier.SignatureHeader) != notifier.Sign(secret, req.Header.Get(notifier.TimestampHeader), body) {
			r.bad = append(r.bad, "bad signature")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var n notifier.Notification
		if err := json.Unmarshal(body, &n); err != nil || req.Header.Get("ce-type") != "dev.slipway.notify."+string(n.Kind) {
			r.bad = append(r.bad, fmt.Sprintf("body %s, ce-type %q: %v", body, req.Header.Get("ce-type"), err))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got = append(r.got, n)
	}))
	t.Cleanup(func() { close(r.release); r.srv.Close() })
	return r
}

// has reports whether a notification of kind for commit arrived.
func (r *receiver) has(kind notifier.Kind, commit string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		if n.Kind == kind && n.Commit == commit {
			return true
		}
	}
	return false
}

// startDashboardSlipway is startSlipway with the API and the dashboard on
// a free port and two notification receivers: one checking signatures and
// payloads, one that never answers.
func startDashboardSlipway(t *testing.T, ctx context.Context) (*env, *receiver, *receiver) {
	t.Helper()
	const secret = "notify-e2e-secret"
	good, hang := startReceiver(t, secret, false), startReceiver(t, secret, true)
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.MirrorDir = t.TempDir(), t.TempDir()
	cfg.NATSPort, cfg.HTTPAddr, cfg.ProxyAddr = -1, "127.0.0.1:0", freeAddr(t)
	cfg.API.Addr = "127.0.0.1:0"
	cfg.StagingEnv = fmt.Sprintf("dash-%d", time.Now().UnixNano()%1e6)
	cfg.HealthTimeout = 10 * time.Second
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte("e2e-secret")}}
	for _, u := range []string{"cloudevents=" + good.srv.URL, "slack=" + hang.srv.URL + "/hooks/T0/B0/secret"} {
		if err := cfg.Notify.Targets.Set(u); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Notify.SecretFile = filepath.Join(t.TempDir(), "notify.secret")
	if err := os.WriteFile(cfg.Notify.SecretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := os.Getenv("SLIPWAY_REGISTRY"); r != "" {
		cfg.Registry = r
	}
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		cfg.BuildkitHost = b
	}
	ctx = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel).WithContext(ctx)
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- up.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && runCtx.Err() == nil {
			t.Errorf("slipway up: %v", err)
		}
		up.Close()
		removeEnv(t, cfg.StagingEnv)
	})
	return &env{up: up, env: cfg.StagingEnv, window: cfg.Topology.DuplicateWindow}, good, hang
}

// TestDashboardInChromium drives the dashboard in a real headless
// chromium against a real `slipway up` (git, BuildKit, registry, Docker):
// log in, see a pushed commit appear without reload, open its builds,
// roll the environment back with the button and see it change; a read
// token sees no button and the API refuses it with 403. Notifications
// reach a signed receiver while another one hangs, and no deploy waits
// for it.
func TestDashboardInChromium(t *testing.T) {
	requireComponents(t)
	mustChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e, good, hang := startDashboardSlipway(t, ctx)
	base := e.up.APIURL()
	tokens, err := api.OpenTokens(ctx, e.up.Conn().JS)
	if err != nil {
		t.Fatal(err)
	}
	deployTok, err := tokens.Create(ctx, "ops-ann", api.RoleDeploy)
	if err != nil {
		t.Fatal(err)
	}
	readTok, err := tokens.Create(ctx, "viewer", api.RoleRead)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	shots := artifacts(t)
	b := mustBrowser(t, ctx)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(b, 4*time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			if buf, serr := chromedp.Run(b, chromedp.FullScreenshot(100)); serr == nil {
				_ = os.WriteFile(filepath.Join(shots, "failed-"+name+".png"), buf, 0o644)
			}
			t.Fatalf("%s: %v", name, err)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	login := func(token string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/"), chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Submit(chromedp.ID("token")),
			chromedp.WaitVisible(chromedp.CSS("header nav"))} // only a session's pages have it
	}
	run := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(b, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}

	step("login", append(login(deployTok), shot("01-overview-empty"))...)

	// A pushed commit appears on the open overview, by server-sent events.
	p1 := e.push(t, ctx, s, "Add web and api", "")
	cell := fmt.Sprintf(`#overview a[data-env=%q][data-commit=%q]`, e.env, p1.After)
	step("commit appears", chromedp.WaitVisible(chromedp.CSS(cell)), shot("02-overview-first-commit"))
	e.waitServing(t, ctx, p1.After)

	// The commit's page: each service's build and the deploy.
	step("commit page", chromedp.Navigate(base+"/repos/"+sample.RepoName+"/commits/"+p1.After),
		chromedp.WaitVisible(chromedp.CSS(`section[data-service="web"] .result-succeeded`)),
		chromedp.WaitVisible(chromedp.CSS(`section[data-service="api"] .result-succeeded`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/envs/`+e.env+`"]`)), shot("03-commit"))

	if err := s.WriteFile("services/web/index.txt", "two\n"); err != nil {
		t.Fatal(err)
	}
	p2 := e.push(t, ctx, s, "Change web", "")
	e.waitServing(t, ctx, p2.After)
	if hang.open.Load() == 0 {
		t.Error("the hanging receiver holds no request while the second commit serves")
	}

	// The environment: roll back with the button, confirm, see it change.
	envURL := base + "/repos/" + sample.RepoName + "/envs/" + e.env
	step("environment", chromedp.Navigate(envURL),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#current a[data-commit=%q]`, p2.After))), shot("04-environment"),
		chromedp.Click(chromedp.ID("rollback")), chromedp.WaitVisible(chromedp.ID("confirm-rollback")), shot("05-confirm"),
		chromedp.Click(chromedp.ID("confirm-rollback")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#current a[data-commit=%q]`, p1.After))),
		chromedp.WaitVisible(chromedp.CSS(`#history td[data-label="Kind"]`)), shot("06-rolled-back"))
	e.waitServing(t, ctx, p1.After)
	kinds := run("history", chromedp.Text(chromedp.CSS("#history tbody tr")))
	if !strings.Contains(kinds, "rollback") || !strings.Contains(kinds, "ops-ann") {
		t.Errorf("latest history row %q, want the rollback by ops-ann", kinds)
	}
	step("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("overview")), shot("07-overview-phone"), chromedp.EmulateViewport(1280, 900))

	// A read token: no rollback button, and the API refuses the action.
	step("read login", chromedp.Click(chromedp.CSS("header form button")), chromedp.WaitVisible(chromedp.ID("token")))
	step("read environment", append(login(readTok), chromedp.Navigate(envURL),
		chromedp.WaitVisible(chromedp.ID("current")), shot("08-read-only"))...)
	buttons, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll("#rollback, button.danger").length`))
	if err != nil {
		t.Fatal(err)
	}
	if buttons != 0 {
		t.Errorf("a read token sees %d rollback button(s)", buttons)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{readTok, http.StatusForbidden}, {"", http.StatusUnauthorized}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/repos/"+sample.RepoName+"/envs/"+e.env+"/rollback", strings.NewReader("{}"))
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("rollback by API with token %q…: %d, want %d", tc.token[:min(6, len(tc.token))], resp.StatusCode, tc.want)
		}
	}

	// The signed receiver got each deploy and the rollback; the hanging
	// one held the notifier, never a deploy.
	deadline := time.Now().Add(time.Minute)
	all := func() bool {
		return good.has(notifier.KindDeploySucceeded, p1.After) && good.has(notifier.KindDeploySucceeded, p2.After) &&
			good.has(notifier.KindRollbackSucceeded, p1.After)
	}
	for !all() {
		if time.Now().After(deadline) {
			good.mu.Lock()
			t.Fatalf("notifications %+v (refused: %v), want deploys of %s and %s and the rollback", good.got, good.bad, p1.After[:12], p2.After[:12])
		}
		time.Sleep(100 * time.Millisecond)
	}
	good.mu.Lock()
	defer good.mu.Unlock()
	if len(good.bad) > 0 {
		t.Errorf("refused deliveries: %v", good.bad)
	}
}
