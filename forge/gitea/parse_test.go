package gitea

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// fixtures are real payloads copied byte for byte from
// ../../shared/webhooks/gitea and ../../shared/webhooks/gogs (prefixed
// gogs-), with the X-Gitea-Event (or X-Gogs-Event) each was delivered with.
var fixtures = []struct {
	file, eventType string
}{
	{"push-1commit.json", "push"},
	{"push-multi-commit.json", "push"},
	{"forgejo-push-multi-commit.json", "push"},
	{"push-branch-created.json", "push"},
	{"push-new-branch-initial.json", "push"},
	{"gogs-push.json", "push"},
	{"create-branch.json", "create"},
	{"create-tag.json", "create"},
	{"delete-branch.json", "delete"},
	{"pull_request-opened.json", "pull_request"},
	{"pull_request-synchronized.json", "pull_request"},
	{"pull_request-reopened.json", "pull_request"},
	{"pull_request-closed-merged.json", "pull_request"},
	{"pull_request-closed-unmerged.json", "pull_request"},
	{"gogs-pull_request-opened.json", "pull_request"},
}

func TestParse(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			body := forgetest.MustReadFile(t, filepath.Join("testdata", fx.file))
			e, err := parse(fx.eventType, body)
			if err := forgetest.CheckResult(Name, e, err); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(fx.file, ".json")+".golden.json")
			forgetest.MustMatchGolden(t, golden, forgetest.MustOutcome(t, e, err), *update)
		})
	}
}

func TestParseReasons(t *testing.T) {
	tests := []struct {
		name, file, eventType, wantReason string
	}{
		{"create branch", "create-branch.json", "create", forge.ReasonBranchCreated},
		{"create tag", "create-tag.json", "create", forge.ReasonTag},
		{"delete branch", "delete-branch.json", "delete", forge.ReasonBranchDeleted},
		{"pull request", "pull_request-synchronized.json", "pull_request", forge.ReasonPullRequest},
		{"pull request label", "pull_request-opened.json", "pull_request_label", forge.ReasonPullRequest},
		{"issues", "push-1commit.json", "issues", `event "issues" is not handled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.eventType, forgetest.MustReadFile(t, filepath.Join("testdata", tt.file)))
			if reason, _ := forge.IgnoredReason(err); reason != tt.wantReason {
				t.Errorf("parse() = %v, want ignored %q", err, tt.wantReason)
			}
		})
	}
}

// TestParsePushVariants covers what the real fixtures lack: Gitea reports
// branch deletions as delete events, but an all-zero after must still be
// ignored, and tags pushed must be.
func TestParsePushVariants(t *testing.T) {
	const repo = `"repository":{"full_name":"a/b","clone_url":"https://user:tok@codeberg.org/a/b.git"}`
	tests := []struct {
		name, body, wantReason string
		wantErr                error
	}{
		{"branch deleted", `{"ref":"refs/heads/x","before":"ef98532add3b2feb7a137426bba1248724367df5","after":"0000000000000000000000000000000000000000",` + repo + `}`, forge.ReasonBranchDeleted, nil},
		{"tag", `{"ref":"refs/tags/v1","after":"ef98532add3b2feb7a137426bba1248724367df5",` + repo + `}`, forge.ReasonTag, nil},
		{"note ref", `{"ref":"refs/notes/commits","after":"ef98532add3b2feb7a137426bba1248724367df5",` + repo + `}`, forge.ReasonNotBranch, nil},
		{"after not hex", `{"ref":"refs/heads/x","after":"HEAD",` + repo + `}`, "", forge.ErrMalformed},
		{"no clone url", `{"ref":"refs/heads/x","after":"ef98532add3b2feb7a137426bba1248724367df5","repository":{"full_name":"a/b"}}`, "", forge.ErrMalformed},
		{"not an object", `[]`, "", forge.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("push", []byte(tt.body))
			reason, _ := forge.IgnoredReason(err)
			if reason != tt.wantReason || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("parse() = %v, want ignored %q / %v", err, tt.wantReason, tt.wantErr)
			}
		})
	}
}

func TestParseSHA256Repository(t *testing.T) {
	const after = "6f1d3ba0e2a31b7a9bd9e8f1a4f7a0b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7"
	body := `{"ref":"refs/heads/main","before":"` + strings.Repeat("0", 64) + `","after":"` + after +
		`","repository":{"full_name":"a/b","clone_url":"https://user:tok@codeberg.org/a/b.git"}}`
	e, err := parse("push", []byte(body))
	if err != nil {
		t.Fatalf("parse() = %v", err)
	}
	p := e.(*events.PushReceived)
	if p.After != after || p.Repo.CloneURL != "https://codeberg.org/a/b.git" {
		t.Errorf("after %q clone url %q", p.After, p.Repo.CloneURL)
	}
}

func FuzzParse(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.eventType, forgetest.MustReadFile(f, filepath.Join("testdata", fx.file)))
	}
	f.Fuzz(func(t *testing.T, eventType string, body []byte) {
		e, err := parse(eventType, body)
		if err := forgetest.CheckResult(Name, e, err); err != nil {
			t.Fatal(err)
		}
	})
}
