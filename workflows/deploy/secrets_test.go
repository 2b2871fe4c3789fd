package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/secrets"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// secretStore is a secrets store on an embedded NATS server with a real
// age key; set seals with the recipient alone, as the CLI does.
type secretStore struct {
	t     *testing.T
	store *natsstore.SecretStore
	kv    jetstream.KeyValue
	key   *secrets.Key
}

func newSecretStore(t *testing.T) *secretStore {
	t.Helper()
	s := natsjs.MustServer(t)
	_, js := natsjs.MustJetStream(t, s.ClientURL())
	kv, err := js.KeyValue(context.Background(), natsjs.BucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	key, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "age.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &secretStore{t: t, store: natsstore.NewSecretStore(kv, key), kv: kv, key: key}
}

func (s *secretStore) set(name, value string) uint64 {
	s.t.Helper()
	sealed, err := secrets.Seal(s.key.Recipient(), []byte(value))
	if err != nil {
		s.t.Fatal(err)
	}
	v, err := s.store.Put(context.Background(), repo.FullName, "staging", natsstore.SealedSecret{Name: name, Sealed: sealed, SetBy: "ada", SetAt: time.Now()})
	if err != nil {
		s.t.Fatal(err)
	}
	return v
}

// withSecret is request(sha, nonce) whose web service references names.
func withSecret(sha, nonce string, names ...string) *events.DeployRequested {
	r := request(sha, nonce)
	r.Images[0].Service.Secrets = names
	return r
}

// requireNoValue fails when any recorded event holds value.
func requireNoValue(t *testing.T, evs []events.Event, value string) {
	t.Helper()
	for _, e := range evs {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), value) {
			t.Errorf("event %s holds the secret's value: %s", e.EventType(), b)
		}
	}
}

// TestDeployMissingSecretFailsBeforeAnythingStarts: a deploy whose service
// references a secret never set fails for good, naming it, without
// touching the target; the previous commit keeps running.
func TestDeployMissingSecretFailsBeforeAnythingStarts(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, st := newHandler(t, tg)
	ss := newSecretStore(t)
	h.Secrets = ss.store
	ctx := context.Background()
	if err := h.HandleDeploy(ctx, request(commit(1), "")); err != nil {
		t.Fatal(err)
	}
	ss.set("API_KEY", "k-123")
	err := h.HandleDeploy(ctx, withSecret(commit(2), "", "API_KEY", "DATABASE_URL"))
	if !events.IsPermanent(err) || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("deploy with DATABASE_URL missing: %v, want a permanent error naming it", err)
	}
	if tg.deploys != 1 || len(st.states) != 1 {
		t.Errorf("%d deploys, %d records; want only the first commit's", tg.deploys, len(st.states))
	}
	failed := p.OfType(events.TypeDeployFailed)
	if len(failed) != 1 || !strings.Contains(failed[0].(*events.DeployFailed).Reason, "secret DATABASE_URL of staging of acme/shop is not set") {
		t.Fatalf("failed events %+v, want one naming DATABASE_URL", failed)
	}
	if strings.Contains(failed[0].(*events.DeployFailed).Reason, "API_KEY") {
		t.Errorf("reason %q names API_KEY, which is set", failed[0].(*events.DeployFailed).Reason)
	}
	if cur, _ := tg.Current(ctx, repo.FullName, "staging"); cur.Commit() != commit(1) {
		t.Errorf("staging runs %s, want the previous commit", cur.Commit())
	}
	requireNoValue(t, p.Events(), "k-123")
}

// TestChangedSecretMakesTheNextDeployNoNoop: the same commit deployed again
// is a no-op while its secrets keep their versions, and deploys with the
// new value once one changed; no event ever holds a value.
func TestChangedSecretMakesTheNextDeployNoNoop(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, _ := newHandler(t, tg)
	ss := newSecretStore(t)
	h.Secrets = ss.store
	ctx := context.Background()
	v1 := ss.set("DATABASE_URL", "postgres://one")
	if err := h.HandleDeploy(ctx, withSecret(commit(1), "", "DATABASE_URL")); err != nil {
		t.Fatal(err)
	}
	if len(tg.secrets) != 1 || tg.secrets[0].Value() != "postgres://one" || tg.secrets[0].Version != v1 {
		t.Fatalf("target got %v, want DATABASE_URL@%d opened", tg.secrets, v1)
	}
	if err := h.HandleDeploy(ctx, withSecret(commit(1), "replay-1", "DATABASE_URL")); err != nil || tg.deploys != 1 {
		t.Fatalf("same commit, same secret: %v, %d deploys; want a no-op", err, tg.deploys)
	}
	v2 := ss.set("DATABASE_URL", "postgres://two")
	redeploy := withSecret(commit(1), "", "DATABASE_URL").Ask(events.KindRedeploy, fmt.Sprintf("secret.x.%d", v2), "ada", "r1")
	if err := h.HandleDeploy(ctx, redeploy); err != nil {
		t.Fatal(err)
	}
	if tg.deploys != 2 || tg.secrets[0].Value() != "postgres://two" || tg.secrets[0].Version != v2 {
		t.Fatalf("after the change: %d deploys, target got %v; want 2 and DATABASE_URL@%d", tg.deploys, tg.secrets, v2)
	}
	ok := p.OfType(events.TypeDeploySucceeded)
	if last := ok[len(ok)-1].(*events.DeploySucceeded); last.Kind != events.KindRedeploy || last.Actor != "ada" || last.Secrets["DATABASE_URL"] != v2 {
		t.Errorf("last result kind %s by %s, secrets %v; want redeploy by ada with DATABASE_URL@%d", last.Kind, last.Actor, last.Secrets, v2)
	}
	requireNoValue(t, p.Events(), "postgres://")
}

// TestSecretSealedForAnotherKey: a secret the deployer's key cannot open
// fails the deploy for good, naming the secret and the key file, never
// the value.
func TestSecretSealedForAnotherKey(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, _ := newHandler(t, tg)
	ss := newSecretStore(t)
	other, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	ss.set("DATABASE_URL", "postgres://hidden")
	h.Secrets = natsstore.NewSecretStore(ss.kv, other)
	err = h.HandleDeploy(context.Background(), withSecret(commit(1), "", "DATABASE_URL"))
	if !events.IsPermanent(err) {
		t.Fatalf("deploy: %v, want a permanent error", err)
	}
	for _, want := range []string{"DATABASE_URL", other.Path(), "sealed for another key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if tg.deploys != 0 {
		t.Errorf("%d deploys, want none", tg.deploys)
	}
	requireNoValue(t, p.Events(), "postgres://hidden")
	if strings.Contains(err.Error(), "hidden") {
		t.Errorf("error %q holds the value", err)
	}
}

// TestPreviewGetsItsTemplateSecrets: a preview ("pr-7") gets the secrets
// set for its template environment ("pr") unless it has its own; another
// kind of deploy to an environment of that name does not.
func TestPreviewGetsItsTemplateSecrets(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, _, _ := newHandler(t, tg)
	ss := newSecretStore(t)
	h.Secrets = ss.store
	sealed, err := secrets.Seal(ss.key.Recipient(), []byte("shared"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.store.Put(context.Background(), repo.FullName, "pr", natsstore.SealedSecret{Name: "DATABASE_URL", Sealed: sealed}); err != nil {
		t.Fatal(err)
	}
	req := withSecret(commit(1), "", "DATABASE_URL").Ask(events.KindPreview, "pr.x", "ada", "1")
	req.Env = "pr-7"
	if err := h.HandleDeploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(tg.secrets) != 1 || tg.secrets[0].Value() != "shared" {
		t.Fatalf("preview got %v, want the template's DATABASE_URL", tg.secrets)
	}
	auto := withSecret(commit(1), "", "DATABASE_URL")
	auto.Env = "qa-7"
	if err := h.HandleDeploy(context.Background(), auto); !events.IsPermanent(err) {
		t.Errorf("an automatic deploy to qa-7: %v, want DATABASE_URL missing", err)
	}
}

// TestRedeployNeedsTheVersionItNames: a request naming a version of a
// secret newer than the one read (a stale replica) is retried, with
// nothing deployed and nothing recorded.
func TestRedeployNeedsTheVersionItNames(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, p, _ := newHandler(t, tg)
	ss := newSecretStore(t)
	h.Secrets = ss.store
	v := ss.set("DATABASE_URL", "postgres://one")
	req := withSecret(commit(1), "", "DATABASE_URL").Ask(events.KindRedeploy, "secret.x", "ada", "r1")
	req.Secrets = map[string]uint64{"DATABASE_URL": v + 1}
	err := h.HandleDeploy(context.Background(), req)
	if err == nil || events.IsPermanent(err) || !strings.Contains(err.Error(), fmt.Sprintf("needs %d", v+1)) {
		t.Fatalf("deploy needing a newer version: %v, want a retryable error", err)
	}
	if tg.deploys != 0 || len(p.Events()) != 0 {
		t.Errorf("%d deploys, %d events; want none", tg.deploys, len(p.Events()))
	}
	ss.set("DATABASE_URL", "postgres://two")
	if err := h.HandleDeploy(context.Background(), req); err != nil || tg.deploys != 1 || tg.secrets[0].Value() != "postgres://two" {
		t.Errorf("once the version is there: %v, %d deploys, %v", err, tg.deploys, tg.secrets)
	}
}

// TestSecretPrintsNoValue: a Secret formatted or marshalled by mistake
// shows its name and version only.
func TestSecretPrintsNoValue(t *testing.T) {
	s := deploy.NewSecret("DATABASE_URL", 3, "postgres://hunter2")
	d := deploy.Deployment{Env: "staging", Secrets: []deploy.Secret{s}}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", d, d, d, s), string(b)} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "DATABASE_URL") {
			t.Errorf("%q shows the value, or not the name", out)
		}
	}
	if s.Value() != "postgres://hunter2" {
		t.Errorf("Value() = %q", s.Value())
	}
}

// TestRecordKeepsSecretVersions: the environment's record names the
// version of each secret its deploy gave the services (what `slipway
// diff` compares), never a value.
func TestRecordKeepsSecretVersions(t *testing.T) {
	tg := &target{live: map[string]deploy.Release{}}
	h, _, st := newHandler(t, tg)
	ss := newSecretStore(t)
	h.Secrets = ss.store
	v := ss.set("DATABASE_URL", "postgres://recorded")
	if err := h.HandleDeploy(context.Background(), withSecret(commit(1), "", "DATABASE_URL")); err != nil {
		t.Fatal(err)
	}
	if len(st.states) != 1 || st.states[0].Secrets["DATABASE_URL"] != v || len(st.states[0].Secrets) != 1 {
		t.Fatalf("records %+v, want one with DATABASE_URL@%d", st.states, v)
	}
	if b, _ := json.Marshal(st.states[0]); strings.Contains(string(b), "postgres://") {
		t.Errorf("the record holds the value: %s", b)
	}
}
