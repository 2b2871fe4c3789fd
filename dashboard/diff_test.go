package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/api"
	"github.com/slipway-dev/slipway/dashboard"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
	"github.com/slipway-dev/slipway/secrets"
)

// TestEnvPageDiffSecrets: an environment's page compared with another
// lists, through envdiff, a secret one environment's deploy uses and the
// other's does not, and one set again since the deploy, by name and
// version (real NATS, the read model folded, the real secrets store);
// no value is on the page.
func TestEnvPageDiffSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo := natsjs.DefaultTopology()
	topo.Consumers = append(topo.Consumers, projector)
	s := natsjs.MustServerWith(t, topo)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	m, err := readmodel.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, natsjs.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	key, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "age.key"))
	if err != nil {
		t.Fatal(err)
	}
	store := natsstore.NewSecretStore(kv, nil)
	r := events.Repo{Forge: "github", FullName: "acme/shop"}
	var values []string
	set := func(env, name string) uint64 {
		t.Helper()
		v := "value-" + env + "-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		values = append(values, v)
		sealed, err := secrets.Seal(key.Recipient(), []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		rev, err := store.Put(ctx, r.FullName, env, natsstore.SealedSecret{Name: name, Sealed: sealed, Recipient: key.Recipient(), SetBy: "ada", SetAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	stgDB, stgKey, prodDB := set("staging", "DATABASE_URL"), set("staging", "API_KEY"), set("production", "DATABASE_URL")
	pub := natsjs.NewPublisher(js, "/test")
	sha := strings.Repeat("a", 40)
	deployed := func(env string, versions map[string]uint64, names ...string) {
		t.Helper()
		req := &events.DeployRequested{Env: env, Repo: r, Commit: sha, Trigger: "test", Kind: events.KindAuto, Actor: "slipway",
			Images: []events.Image{{Service: events.ServiceSpec{Name: "web", Secrets: names}, Ref: "r/web:" + sha, Digest: "sha256:" + sha}}}
		res := req.Result(events.OutcomeSucceeded, "", time.Now())
		res.Secrets = versions
		if _, err := pub.Publish(ctx, res.Event()); err != nil {
			t.Fatal(err)
		}
	}
	deployed("staging", map[string]uint64{"DATABASE_URL": stgDB, "API_KEY": stgKey}, "API_KEY", "DATABASE_URL")
	deployed("production", map[string]uint64{"DATABASE_URL": prodDB}, "DATABASE_URL")
	prodDB2 := set("production", "DATABASE_URL") // not deployed

	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- natsjs.Fold(fctx, js, projector.Name, zerolog.Nop(), m.Project) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("projector: %v", err)
		}
	}()
	if _, err := readmodel.CaughtUp(ctx, js, projector.Name); err != nil {
		t.Fatal(err)
	}
	tokens, err := api.OpenTokens(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Create(ctx, "test", api.RoleRead)
	if err != nil {
		t.Fatal(err)
	}
	d := &dashboard.Dashboard{Model: m, Tokens: tokens, Bus: actions.Bus{JS: js}, Secrets: store}
	h, err := d.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/repos/acme/shop/envs/staging?compare=production", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "slipway_session", Value: tok})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("page: %d %v\n%s", resp.StatusCode, err, body)
	}
	page := string(body)
	_, table, _ := strings.Cut(page, `id="differences"`)
	table, _, _ = strings.Cut(table, "</table>")
	v := func(n uint64) string { return "v" + strconv.FormatUint(n, 10) }
	for _, want := range []string{
		`<td data-label="Key">secrets</td><td data-label="Service">web</td><td data-label="Name">API_KEY</td>` + "\n" + `<td data-label="Here">` + v(stgKey) + `</td><td data-label="There"></td>`,
		`<td data-label="Name">DATABASE_URL</td>` + "\n" + `<td data-label="Here">` + v(stgDB) + `</td><td data-label="There">` + v(prodDB) + ", " + v(prodDB2) + ` set since (not deployed)</td>`,
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the page's differences lack %q:\n%s", want, table)
		}
	}
	for _, val := range values {
		if strings.Contains(page, val) {
			t.Error("the page shows a secret's value")
		}
	}
}
