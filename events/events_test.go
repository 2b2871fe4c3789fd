package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	repo = events.Repo{Forge: "github", FullName: "acme/shop", CloneURL: "https://git.example.com/acme/shop.git", DefaultBranch: "main"}
	sha  = "0123456789abcdef0123456789abcdef01234567"
	web  = events.ServiceSpec{Name: "web", Context: "services/web", Dockerfile: "Dockerfile", Port: 8080, HealthPath: "/healthz", Env: map[string]string{"GREETING": "hello"}}
	img  = events.Image{Service: web, Ref: "localhost:5000/acme/shop/web:" + sha, Digest: "sha256:" + sha + sha[:24]}
	at   = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	res  = events.DeployResult{Env: "staging", Repo: repo, Commit: sha, Images: []events.Image{img}, Trigger: "built.acme_2fshop.main." + sha,
		Kind: events.KindAuto, Actor: events.ActorSlipway, Previous: "fedcba9876543210fedcba9876543210fedcba98", StartedAt: at, Duration: 1500 * time.Millisecond, Request: "deploy.staging." + sha}
)

// withSecrets is img whose service references the secrets names.
func withSecrets(img events.Image, names ...string) events.Image {
	img.Service.Secrets = names
	return img
}

// withSecretVersions is r whose web service got secret name at version.
func withSecretVersions(r events.DeployResult, name string, version uint64) events.DeployResult {
	r.Images = []events.Image{withSecrets(img, name)}
	r.Secrets = map[string]uint64{name: version}
	return r
}

// result is res with an outcome and a reason.
func result(o events.DeployOutcome, reason string) events.DeployResult {
	r := res
	r.Outcome, r.Reason = o, reason
	return r
}

// TestGolden freezes the wire form of every event: a renamed, retyped or
// removed field is a schema change and needs a new SchemaVersion. A field
// added keeps the earlier form readable (TestDecodeEarlierVersions reads
// the earlier forms in testdata/v1).
func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		event   events.Event
		wantID  string
		wantSub string
	}{
		{"push_received", &events.PushReceived{Repo: repo, Ref: "refs/heads/main", Branch: "main", Before: "fedcba9876543210fedcba9876543210fedcba98", After: sha, Pusher: "ada", Message: "Add cart", DeliveryID: "72d3162e", ReceivedAt: at,
			Commits: []events.Commit{{ID: sha, Message: "Add cart", Author: "Ada"}}, CommitCount: 1},
			"push.acme_2fshop.refs_2fheads_2fmain." + sha + ".fedcba9876543210fedcba9876543210fedcba98", events.SubjectPushReceived},
		{"push_received_created", &events.PushReceived{Repo: repo, Ref: "refs/heads/cart", Branch: "cart", Before: "0000000000000000000000000000000000000000", After: sha, Forced: true, Created: true, ReceivedAt: at},
			"push.acme_2fshop.refs_2fheads_2fcart." + sha + ".0", events.SubjectPushReceived},
		{"branch_deleted", &events.BranchDeleted{Repo: repo, Ref: "refs/heads/cart", Branch: "cart", Before: sha, Pusher: "ada", DeliveryID: "72d3162e"},
			"deleted.acme_2fshop.refs_2fheads_2fcart." + sha, events.SubjectBranchDeleted},
		{"branch_deleted_no_sha", &events.BranchDeleted{Repo: repo, Ref: "refs/heads/cart", Branch: "cart", DeliveryID: "72d3162e"},
			"deleted.acme_2fshop.refs_2fheads_2fcart.d-72d3162e", events.SubjectBranchDeleted},
		{"tag_pushed", &events.TagPushed{Repo: repo, Ref: "refs/tags/v1.0.0", Tag: "v1.0.0", Before: "0000000000000000000000000000000000000000", After: "fedcba9876543210fedcba9876543210fedcba98", Commit: sha, Created: true, Pusher: "ada"},
			"tag.acme_2fshop.refs_2ftags_2fv1_2e0_2e0.fedcba9876543210fedcba9876543210fedcba98", events.SubjectTagPushed},
		{"tag_deleted", &events.TagDeleted{Repo: repo, Ref: "refs/tags/v1.0.0", Tag: "v1.0.0", Before: sha, Pusher: "ada"},
			"deleted.acme_2fshop.refs_2ftags_2fv1_2e0_2e0." + sha, events.SubjectTagDeleted},
		{"build_requested", &events.BuildRequested{Repo: repo, Commit: sha, Branch: "main", Service: web},
			"build.acme_2fshop." + sha + ".web.requested", events.SubjectBuildRequested},
		{"build_succeeded", &events.BuildSucceeded{Repo: repo, Commit: sha, Branch: "main", Service: "web", Image: img.Ref, Digest: img.Digest},
			"build.acme_2fshop." + sha + ".web.succeeded", events.SubjectBuildSucceeded},
		{"build_failed", &events.BuildFailed{Repo: repo, Commit: sha, Branch: "main", Service: "web", Reason: "RUN make: exit code 2"},
			"build.acme_2fshop." + sha + ".web.failed", events.SubjectBuildFailed},
		{"commit_failed", &events.BuildFailed{Repo: repo, Commit: sha, Branch: "main", Reason: "slipway.yaml not found"},
			"built.acme_2fshop.main." + sha + ".failed", events.SubjectCommitFailed},
		{"commit_built", &events.CommitBuilt{Repo: repo, Commit: sha, Branch: "main", Images: []events.Image{img}},
			"built.acme_2fshop.main." + sha, events.SubjectCommitBuilt},
		{"deploy_requested", &events.DeployRequested{Env: "staging", Repo: repo, Commit: sha, Images: []events.Image{img}, Trigger: "built.acme_2fshop.main." + sha, Kind: events.KindAuto, Actor: "slipway"},
			"deploy.acme_2fshop.staging." + sha, events.SubjectDeployRequested + ".acme_2fshop.staging"},
		{"deploy_requested_rollback", (&events.DeployRequested{Env: "staging", Repo: repo, Commit: sha, Images: []events.Image{img}}).Ask(events.KindRollback, "deploy.acme_2fshop.staging.fedcba9876543210fedcba9876543210fedcba98.succeeded", "ada", "1a2b3c4d5e6f"),
			"deploy.acme_2fshop.staging." + sha + ".rollback-1a2b3c4d5e6f", events.SubjectDeployRequested + ".acme_2fshop.staging"},
		{"deploy_requested_redeploy", (&events.DeployRequested{Env: "staging", Repo: repo, Commit: sha, Images: []events.Image{withSecrets(img, "DATABASE_URL")}, Secrets: map[string]uint64{"DATABASE_URL": 7}}).Ask(events.KindRedeploy, "secret.acme_2fshop.staging.DATABASE_5fURL.7", "ada", "1a2b3c4d5e6f"),
			"deploy.acme_2fshop.staging." + sha + ".redeploy-1a2b3c4d5e6f", events.SubjectDeployRequested + ".acme_2fshop.staging"},
		{"deploy_succeeded_secrets", &events.DeploySucceeded{DeployResult: withSecretVersions(result(events.OutcomeSucceeded, ""), "DATABASE_URL", 7)},
			"deploy.staging." + sha + ".succeeded", events.SubjectDeploySucceeded + ".acme_2fshop.staging"},
		{"deploy_succeeded", &events.DeploySucceeded{DeployResult: result(events.OutcomeSucceeded, "")},
			"deploy.staging." + sha + ".succeeded", events.SubjectDeploySucceeded + ".acme_2fshop.staging"},
		{"pull_request_opened", &events.PullRequestChanged{Repo: repo, Action: events.PROpened, Number: 42, HeadSHA: sha, HeadBranch: "cart", BaseBranch: "main",
			SourceRepo: events.Repo{Forge: "github", FullName: "ada/shop", CloneURL: "https://git.example.com/ada/shop.git", DefaultBranch: "main"}, Title: "Add cart", Author: "ada"},
			"pr.acme_2fshop.42.opened." + sha, events.SubjectPullRequest + ".opened"},
		{"deploy_superseded", &events.DeploySuperseded{DeployResult: result(events.OutcomeSuperseded, "superseded by fedcba987654")},
			"deploy.staging." + sha + ".superseded", events.SubjectDeploySuperseded + ".acme_2fshop.staging"},
		{"release_planned", &events.ReleasePlanned{Env: "production", Repo: repo, Number: 43, HeadSHA: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			From: "fedcba9876543210fedcba9876543210fedcba98", To: sha,
			Services: []events.ServiceChange{
				{Service: "api", From: "sha256:1", To: "sha256:1", Change: events.ChangeUnchanged},
				{Service: "web", From: "sha256:2", To: img.Digest, Change: events.ChangeUpdated},
			},
			Commits: []events.Commit{{ID: sha, Message: "Add cart", Author: "ada"}}, CommitCount: 1, PlannedAt: at},
			"plan.production.acme_2fshop.43.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", events.SubjectReleasePlanned + ".acme_2fshop.production"},
		{"task_finished", &events.TaskFinished{Env: "production", Repo: repo, Commit: sha, Service: "api", Task: "migrate",
			Image: img.Ref + "@" + img.Digest, Output: "applied 2 migrations\n", Started: at, Duration: 1200 * time.Millisecond},
			"task.acme_2fshop.production." + sha + ".api.migrate.succeeded", events.SubjectTaskFinished + ".acme_2fshop.production"},
		{"task_failed", &events.TaskFinished{Env: "production", Repo: repo, Commit: sha, Service: "api", Task: "migrate",
			Image: img.Ref + "@" + img.Digest, ExitCode: 3, Output: "no database\n", Started: at, Duration: time.Second},
			"task.acme_2fshop.production." + sha + ".api.migrate.failed.1795694400000000000", events.SubjectTaskFinished + ".acme_2fshop.production"},
		{"provision_applied", &events.ProvisionFinished{Env: "production", Repo: repo, Commit: sha, Step: "infra", Phase: events.PhaseApply,
			Image: "localhost:5000/mirror/tofu:1.10.6", Output: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n", Started: at, Duration: 2 * time.Second},
			"provision.acme_2fshop.production." + sha + ".infra.apply.succeeded", events.SubjectProvisionFinished + ".acme_2fshop.production"},
		{"provision_apply_failed", &events.ProvisionFinished{Env: "production", Repo: repo, Commit: sha, Step: "infra", Phase: events.PhaseApply,
			Image: "localhost:5000/mirror/tofu:1.10.6", ExitCode: 1, Output: "Error: local-exec provisioner error\n", Started: at, Duration: time.Second},
			"provision.acme_2fshop.production." + sha + ".infra.apply.1795694400000000000", events.SubjectProvisionFinished + ".acme_2fshop.production"},
		{"provision_planned", &events.ProvisionFinished{Env: "production", Repo: repo, Commit: sha, Step: "infra", Phase: events.PhasePlan, Number: 43,
			Image: "localhost:5000/mirror/tofu:1.10.6", Output: "Plan: 1 to add, 0 to change, 0 to destroy.\n", Started: at, Duration: time.Second},
			"provision.acme_2fshop.production." + sha + ".infra.plan.1795694400000000000", events.SubjectProvisionFinished + ".acme_2fshop.production"},
		{"release_planned_provision", &events.ReleasePlanned{Env: "production", Repo: repo, Number: 43, HeadSHA: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", To: sha,
			Services:  []events.ServiceChange{{Service: "web", To: img.Digest, Change: events.ChangeAdded}},
			Provision: []events.ProvisionPlan{{Step: "infra", Output: "  # terraform_data.bucket will be created\n  + resource \"terraform_data\" \"bucket\" {}\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n"}}, PlannedAt: at},
			"plan.production.acme_2fshop.43.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", events.SubjectReleasePlanned + ".acme_2fshop.production"},
		{"preview_removed", &events.PreviewRemoved{Env: "pr-42", Repo: repo, Number: 42, HeadSHA: sha, Generation: 1, Reason: events.RemovedMerged, RemovedAt: at},
			"preview.acme_2fshop.42.1.removed", events.SubjectPreviewRemoved + ".acme_2fshop.pr-42"},
		{"deploy_failed", &events.DeployFailed{DeployResult: result(events.OutcomeFailed, "web: health check failed")},
			"deploy.staging." + sha + ".failed", events.SubjectDeployFailed + ".acme_2fshop.staging"},
		{"deploy_requested_target", &events.DeployRequested{Env: "production", Repo: repo, Commit: sha, Images: []events.Image{img}, Trigger: "push.x", Kind: events.KindRelease, Actor: "ada", Nonce: "release-1a2b3c4d5e6f", Target: "prod-hosts"},
			"deploy.acme_2fshop.production." + sha + ".release-1a2b3c4d5e6f", events.SubjectDeployRequested + ".acme_2fshop.production"},
		{"deploy_succeeded_target", &events.DeploySucceeded{DeployResult: func() events.DeployResult {
			r := result(events.OutcomeSucceeded, "")
			r.Target = "prod-hosts"
			return r
		}()}, "deploy.staging." + sha + ".succeeded", events.SubjectDeploySucceeded + ".acme_2fshop.staging"},
		{"check_requested", &events.CheckRequested{Repo: repo, Commit: sha, Branch: "main",
			Check: events.Check{Name: "unit", Service: "api", Run: "go test ./...", Target: "test", Timeout: 5 * time.Minute}},
			"check.acme_2fshop." + sha + ".unit.requested", events.SubjectCheckRequested},
		{"check_finished", &events.CheckFinished{Repo: repo, Commit: sha, Branch: "main", Check: "unit", Service: "api",
			Reason: "[slipway-check 2/2] RUN go test ./...: exit code: 1", Log: []string{"--- FAIL: TestCart"}, Started: at, Duration: 3 * time.Second},
			"check.acme_2fshop." + sha + ".unit.finished", events.SubjectCheckFinished},
		{"release_requested", &events.ReleaseRequested{Repo: repo, Env: "production", Commit: sha, Actor: "ops-ann", Reason: "ship the cart",
			Nonce: "1a2b3c4d5e6f", RequestedAt: at},
			"release.acme_2fshop.production." + sha + ".1a2b3c4d5e6f", events.SubjectReleaseRequested + ".acme_2fshop.production"},
		{"deploy_gated", &events.DeployGated{DeployResult: result(events.OutcomeBlocked, "check unit failed: exit code: 1"), Gate: "check/unit"},
			"deploy.staging." + sha + ".blocked", events.SubjectDeployGated + ".acme_2fshop.staging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.event.DedupKey(); got != tt.wantID {
				t.Errorf("DedupKey() = %q, want %q", got, tt.wantID)
			}
			if got := tt.event.Subject(); got != tt.wantSub {
				t.Errorf("Subject() = %q, want %q", got, tt.wantSub)
			}
			got, err := json.MarshalIndent(tt.event, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Errorf("wire form changed (run with -update if intended):\n got %s\nwant %s", got, want)
			}
			env, err := events.NewEnvelope(tt.event, "/test", at)
			if err != nil {
				t.Fatal(err)
			}
			back, err := env.Decode()
			if err != nil {
				t.Fatal(err)
			}
			again, _ := json.MarshalIndent(back, "", "  ")
			if !bytes.Equal(again, got) {
				t.Errorf("round trip changed the event:\n got %s\nwant %s", again, got)
			}
		})
	}
}

func TestKeyPart(t *testing.T) {
	tests := []struct{ in, want string }{
		{"acme/shop", "acme_2fshop"},
		{"Acme-1", "Acme-1"},
		{"a_b/c", "a_5fb_2fc"},
		{"a/b_c", "a_2fb_5fc"},
		{"org/group/my.repo", "org_2fgroup_2fmy_2erepo"},
	}
	for _, tt := range tests {
		if got := events.KeyPart(tt.in); got != tt.want {
			t.Errorf("KeyPart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeErrorsArePermanent(t *testing.T) {
	tests := []struct {
		name string
		env  events.Envelope
	}{
		{"unknown type", events.Envelope{ID: "x", Type: "dev.slipway.nope.v1", Data: []byte(`{}`)}},
		{"bad json", events.Envelope{ID: "x", Type: events.TypePushReceived, Data: []byte(`{"repo":`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.env.Decode()
			if !events.IsPermanent(err) {
				t.Fatalf("Decode() error = %v, want a permanent error", err)
			}
		})
	}
}

// TestEnvKeyScopesByRepository: two repositories' environments of one name
// have keys, subjects and deploy ids of their own, and no scoped subject is
// a legacy one.
func TestEnvKeyScopesByRepository(t *testing.T) {
	tests := []struct {
		repo, env, want string
	}{
		{"acme/shop", "staging", "acme_2fshop.staging"},
		{"other/shop", "staging", "other_2fshop.staging"},
		{"acme/shop.b", "c", "acme_2fshop_2eb.c"},
		{"acme/shop", "b.c", "acme_2fshop.b_2ec"},
		{"", "staging", "_.staging"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := events.EnvKey(tt.repo, tt.env)
		if got != tt.want {
			t.Errorf("EnvKey(%q, %q) = %q, want %q", tt.repo, tt.env, got, tt.want)
		}
		if seen[got] {
			t.Errorf("EnvKey(%q, %q) = %q collides", tt.repo, tt.env, got)
		}
		seen[got] = true
		sub := events.EnvSubject(events.SubjectDeployRequested, tt.repo, tt.env)
		if sub == events.LegacyEnvSubject(events.SubjectDeployRequested, tt.env) {
			t.Errorf("scoped subject %q equals the legacy one", sub)
		}
	}
	a := &events.DeployRequested{Env: "staging", Repo: events.Repo{FullName: "acme/shop"}, Commit: sha}
	b := &events.DeployRequested{Env: "staging", Repo: events.Repo{FullName: "other/shop"}, Commit: sha}
	if a.DedupKey() == b.DedupKey() || a.Subject() == b.Subject() {
		t.Errorf("two repositories' deploys of one commit to staging share an id or subject: %s %s", a.DedupKey(), a.Subject())
	}
}
