package main

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/gitmirror/gittest"
	"github.com/slipway-dev/slipway/secrets"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// TestDiffSecrets runs slipway diff on a real NATS server with the real
// secrets store: a secret one environment's deploy uses and the other's
// does not, and a secret set again on one environment since its deploy
// (its services run an older version), are listed as differences by
// name, with versions; secrets in the same state on both sides are
// listed with their versions but are no difference; differs: [secrets]
// makes them expected. No value is in the output.
func TestDiffSecrets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := natsjs.MustServer(t)
	c, err := pipeline.Dial(ctx, srv.ClientURL(), "diff-test", pipeline.Topology())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	key, err := secrets.EnsureKey(filepath.Join(t.TempDir(), "age.key"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := c.Secrets(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PublishRecipient(ctx, key.Recipient()); err != nil {
		t.Fatal(err)
	}
	const repoName = "acme/shop"
	var values []string
	set := func(env, name string) uint64 {
		t.Helper()
		v := "value-of-" + name + "-" + randomSecret()
		values = append(values, v)
		var out strings.Builder
		if err := secretSet(ctx, c, repoName, env, name, []byte(v), false, deliberate{Actor: "ada"}, &out); err != nil {
			t.Fatalf("secret set %s %s: %v\n%s", env, name, err, out.String())
		}
		sec, err := store.Get(ctx, repoName, env, name)
		if err != nil {
			t.Fatal(err)
		}
		return sec.Version
	}
	stgDB, stgKey, prodDB := set("staging", "DATABASE_URL"), set("staging", "API_KEY"), set("production", "DATABASE_URL")

	// The clone whose slipway.yaml at staging's commit says what may differ.
	clone := gittest.MustRepo(t)
	clone.WriteFile("slipway.yaml", "version: 1\nservices:\n  - name: web\n    context: .\n    port: 8080\ndiffers: [hosts]\n")
	strict := clone.Commit("nothing but hosts may differ")
	clone.WriteFile("slipway.yaml", "version: 1\nservices:\n  - name: web\n    context: .\n    port: 8080\ndiffers: [hosts, secrets]\n")
	lenient := clone.Commit("secrets may differ")

	envs, err := c.Envs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	web := func(secrets ...string) events.Image {
		return events.Image{Service: events.ServiceSpec{Name: "web", Port: 8080, Secrets: secrets}, Ref: "registry/web", Digest: "sha256:1"}
	}
	record := func(env, sha string, img events.Image, versions map[string]uint64) {
		t.Helper()
		st := deploy.State{Env: env, Repo: events.Repo{FullName: repoName}, Commit: sha, Images: []events.Image{img}, Secrets: versions, DeployedAt: time.Now()}
		if err := envs.Record(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	record("staging", strict, web("API_KEY", "DATABASE_URL"), map[string]uint64{"DATABASE_URL": stgDB, "API_KEY": stgKey})
	record("production", strict, web("DATABASE_URL"), map[string]uint64{"DATABASE_URL": prodDB})

	diff := func(want error, lines ...string) string {
		t.Helper()
		var out strings.Builder
		err := diffEnvs(ctx, c, repoName, "staging", "production", clone.Dir(), &out)
		if !errors.Is(err, want) {
			t.Errorf("diff: %v, want %v", err, want)
		}
		for _, l := range lines {
			if !containsFields(out.String(), l) {
				t.Errorf("diff does not say %q:\n%s", l, out.String())
			}
		}
		for _, v := range values {
			if strings.Contains(out.String(), v) {
				t.Errorf("diff shows a secret's value:\n%s", out.String())
			}
		}
		t.Logf("slipway diff staging production:\n%s", out.String())
		return out.String()
	}
	v := func(n uint64) string { return "v" + strconv.FormatUint(n, 10) }

	// API_KEY on staging only; DATABASE_URL set and deployed on both.
	out := diff(errUnexpected,
		"secrets web API_KEY "+v(stgKey)+" - NO",
		"SECRET staging production",
		"API_KEY "+v(stgKey)+" -",
		"DATABASE_URL "+v(stgDB)+" "+v(prodDB))
	if strings.Contains(out, "secrets web DATABASE_URL") {
		t.Errorf("DATABASE_URL, deployed at its set version on both, is listed as a difference:\n%s", out)
	}

	// DATABASE_URL set again on production, not deployed: its services
	// run the older version.
	prodDB2 := set("production", "DATABASE_URL")
	diff(errUnexpected,
		"secrets web DATABASE_URL "+v(stgDB)+" "+v(prodDB)+", "+v(prodDB2)+" set since (not deployed) NO",
		"DATABASE_URL "+v(stgDB)+" "+v(prodDB)+", "+v(prodDB2)+" set since (not deployed)")

	// API_KEY removed from staging since its deploy.
	if err := store.Delete(ctx, repoName, "staging", "API_KEY"); err != nil {
		t.Fatal(err)
	}
	diff(errUnexpected, "secrets web API_KEY "+v(stgKey)+" deployed, removed since - NO")

	// slipway.yaml expects secrets to differ: listed, expected.
	record("staging", lenient, web("API_KEY", "DATABASE_URL"), map[string]uint64{"DATABASE_URL": stgDB, "API_KEY": stgKey})
	diff(nil, "secrets web DATABASE_URL "+v(stgDB)+" "+v(prodDB)+", "+v(prodDB2)+" set since (not deployed) yes")
}

// containsFields reports whether a line of out holds the fields of want,
// in order, separated by any run of spaces (tabwriter's columns).
func containsFields(out, want string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(strings.Join(strings.Fields(line), " "), want) {
			return true
		}
	}
	return false
}
