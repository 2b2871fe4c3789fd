package pipeline

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/notifier"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/workflows/build"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/notify"
	"github.com/slipway-dev/slipway/workflows/preview"
	"github.com/slipway-dev/slipway/workflows/release"
)

// route binds the consumer named name to its handler in h.
func route(tb testing.TB, name string, h handlers) natsjs.Route {
	tb.Helper()
	for _, c := range consumers {
		if c.Name == name {
			return c.route(h)
		}
	}
	tb.Fatalf("no consumer %s", name)
	return natsjs.Route{}
}

// allHandlers has every handler a consumer may feed.
func allHandlers() handlers {
	cfg := DefaultConfig()
	return handlers{cfg: &cfg, build: &build.Handler{}, deploy: &deploy.Handler{}, release: &ReleaseWorkflows{
		Release: &release.Handler{}, Preview: &preview.Handler{}, Notify: &notify.Handler{},
	}, read: &readmodel.Model{}, webhooks: &notifier.Handler{}}
}

// TestTopologyRoutesEveryConsumer: each declared consumer is valid, routed
// under its own name to a handler, by the component of its role.
func TestTopologyRoutesEveryConsumer(t *testing.T) {
	if err := Topology().Validate(); err != nil {
		t.Fatalf("Topology().Validate() = %v", err)
	}
	roles := map[part]natsjs.Role{partBuild: natsjs.RoleBuilder, partDeploy: natsjs.RoleDeployer, partRelease: natsjs.RoleDeployer,
		partReadModel: natsjs.RoleDeployer, partWebhooks: natsjs.RoleDeployer}
	routed := map[string]bool{}
	for _, p := range []part{partBuild, partDeploy, partRelease, partReadModel, partWebhooks} {
		var want []string
		for _, c := range consumers {
			if c.part == p {
				want = append(want, c.Name)
				if c.Role != roles[p] {
					t.Errorf("consumer %s: role %s, but the %s runs it", c.Name, c.Role, roles[p])
				}
			}
		}
		got := routes(p, allHandlers())
		if len(got) != len(want) {
			t.Fatalf("part %d: %d routes, want %d", p, len(got), len(want))
		}
		for i, r := range got {
			if r.Consumer != want[i] || r.Handler == nil {
				t.Errorf("part %d route %d = %s (handler %v), want %s", p, i, r.Consumer, r.Handler != nil, want[i])
			}
			routed[r.Consumer] = true
		}
	}
	if len(routed) != len(Topology().Consumers) {
		t.Errorf("%d consumers routed, %d declared", len(routed), len(Topology().Consumers))
	}
	cfg := DefaultConfig()
	cfg.PushWorkers, cfg.DeployWorkers, cfg.BuildWorkers = 3, 5, 7
	h := allHandlers()
	h.cfg = &cfg
	if w := route(t, ConsumerPush, h).Workers; w != 3 {
		t.Errorf("push workers = %d, want -push-workers", w)
	}
	if w := route(t, ConsumerDeploy, h).Workers; w != 5 {
		t.Errorf("deploy workers = %d, want -deploy-workers", w)
	}
	if w := route(t, ConsumerBuild, h).Workers; w != 7*buildHandlersPerSolve {
		t.Errorf("build request workers = %d, want %d per -build-workers", w, buildHandlersPerSolve)
	}
	if w := DefaultConfig().BuildWorkers; w != runtime.NumCPU() {
		t.Errorf("default build workers = %d, want the %d cores", w, runtime.NumCPU())
	}
}

// TestRolesPullOnlyTheirConsumers: on the embedded server of `slipway up`,
// whose permissions come from Topology, each role pulls its own consumers
// and no other role's.
func TestRolesPullOnlyTheirConsumers(t *testing.T) {
	s, keys := natsjs.MustAuthServer(t, Topology())
	for _, r := range []natsjs.Role{natsjs.RoleBuilder, natsjs.RoleDeployer, natsjs.RoleIngest} {
		errs := make(chan error, 64)
		nc, js := natsjs.MustRoleJetStream(t, s.ClientURL(), keys, r,
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		for _, c := range Topology().Consumers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := js.Consumer(ctx, natsjs.StreamName, c.Name)
			cancel()
			if err != nil {
				t.Fatalf("%s: consumer %s: %v", r, c.Name, err)
			}
			// A pull request, as Fetch sends it.
			next := "$JS.API.CONSUMER.MSG.NEXT." + natsjs.StreamName + "." + c.Name
			if err := nc.PublishRequest(next, nc.NewRespInbox(), []byte(`{"batch":1,"no_wait":true}`)); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil { // the server's -ERR comes before its PONG
				t.Fatal(err)
			}
			if denied, want := violated(errs), r != c.Role; denied != want {
				t.Errorf("%s pulls %s: denied %v, want %v", r, c.Name, denied, want)
			}
		}
	}
}

// violated reports whether the server reported a permissions violation:
// after a flush its error handler is called within a moment.
func violated(errs <-chan error) bool {
	deadline := time.After(200 * time.Millisecond)
	for {
		select {
		case err := <-errs:
			if strings.Contains(err.Error(), "Permissions Violation") {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
