package events_test

import (
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// TestPushKeyTellsMovesApart checks that two moves of a branch to the same
// commit (a push, then a force-push back to it) have different keys, and
// that the same move has the same key however often it is delivered.
func TestPushKeyTellsMovesApart(t *testing.T) {
	const z, a, b = "cccccccccccccccccccccccccccccccccccccccc", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	push := func(before, after, delivery string, forced bool) *events.PushReceived {
		return &events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: before, After: after, Forced: forced, DeliveryID: delivery}
	}
	toA, toB, backToA := push(z, a, "d1", false), push(a, b, "d2", false), push(b, a, "d3", true)
	if toA.DedupKey() == backToA.DedupKey() {
		t.Errorf("moves %.7s→%.7s and the force-push %.7s→%.7s share key %s", z, a, b, a, toA.DedupKey())
	}
	if toA.DedupKey() == toB.DedupKey() || toB.DedupKey() == backToA.DedupKey() {
		t.Errorf("keys %s, %s, %s: want three", toA.DedupKey(), toB.DedupKey(), backToA.DedupKey())
	}
	if redelivered := push(b, a, "d4", true); redelivered.DedupKey() != backToA.DedupKey() {
		t.Errorf("the same move delivered twice: keys %s and %s", backToA.DedupKey(), redelivered.DedupKey())
	}
	if created, zeros := push("", a, "d5", false), push("0000000000000000000000000000000000000000", a, "d6", false); created.DedupKey() != zeros.DedupKey() {
		t.Errorf("a new branch named by an empty or an all-zero before: keys %s and %s", created.DedupKey(), zeros.DedupKey())
	}
}

// TestKeysIgnoreRepositoryCase checks that every key naming a repository is
// the same for two spellings of its name, as the git hosts (and the secrets
// of the receiver) treat them as one repository.
func TestKeysIgnoreRepositoryCase(t *testing.T) {
	upper, lower := events.Repo{Forge: "github", FullName: "Acme/Shop"}, events.Repo{Forge: "github", FullName: "acme/shop"}
	keyed := func(r events.Repo) []events.Event {
		return []events.Event{
			&events.PushReceived{Repo: r, Ref: "refs/heads/main", After: sha},
			&events.TagPushed{Repo: r, Ref: "refs/tags/v1", After: sha},
			&events.BranchDeleted{Repo: r, Ref: "refs/heads/x", Before: sha},
			&events.TagDeleted{Repo: r, Ref: "refs/tags/v1", Before: sha},
			&events.PullRequestChanged{Repo: r, Number: 1, Action: events.PROpened, HeadSHA: sha},
			&events.BuildRequested{Repo: r, Commit: sha, Service: events.ServiceSpec{Name: "web"}},
			&events.BuildSucceeded{Repo: r, Commit: sha, Service: "web"},
			&events.BuildFailed{Repo: r, Commit: sha, Branch: "main"},
			&events.CommitBuilt{Repo: r, Commit: sha, Branch: "main"},
			&events.ReleasePlanned{Env: "production", Repo: r, Number: 2, HeadSHA: sha},
			&events.PreviewRemoved{Repo: r, Number: 3, Generation: 1},
			&events.ReleaseRequested{Repo: r, Env: "production", Commit: sha, Nonce: "n1"},
		}
	}
	for i, u := range keyed(upper) {
		if l := keyed(lower)[i]; u.DedupKey() != l.DedupKey() {
			t.Errorf("%T: keys %s and %s", u, u.DedupKey(), l.DedupKey())
		}
	}
	if events.RepoKey("Acme/Shop") != "acme_2fshop" {
		t.Errorf("RepoKey(Acme/Shop) = %s", events.RepoKey("Acme/Shop"))
	}
}

// TestCheckLogNeverAServiceName: a check's log is recorded beside the build
// logs of its commit, so its name must differ from every service's, which
// is a DNS label: check "lint" and service "check-lint" keep two logs.
func TestCheckLogNeverAServiceName(t *testing.T) {
	for _, tc := range []struct{ check, service string }{
		{"lint", "check-lint"},
		{"unit", "check-unit"},
		{"a", "check-a"},
	} {
		if got := events.KeyPart(events.CheckLog(tc.check)); got == events.KeyPart(tc.service) {
			t.Errorf("the log of check %q is recorded as service %q's (%s)", tc.check, tc.service, got)
		}
	}
}
