package github

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// fixtures are real payloads copied byte for byte from ../../shared/webhooks/github,
// with the X-GitHub-Event each was delivered with.
var fixtures = []struct {
	file, eventType string
}{
	{"push-branch-1commit.json", "push"},
	{"push-main-1commit.json", "push"},
	{"push-multi-commit-merge.json", "push"},
	{"push-forced.json", "push"},
	{"push-branch-created.json", "push"},
	{"push-branch-deleted.json", "push"},
	{"push-tag-created.json", "push"},
	{"push-tag-deleted.json", "push"},
	{"ping.json", "ping"},
	{"ping.octokit.json", "ping"},
	{"pull_request-opened.json", "pull_request"},
	{"pull_request-synchronize.json", "pull_request"},
	{"pull_request-closed-merged.json", "pull_request"},
	{"create-tag.json", "create"},
	{"delete-branch.json", "delete"},
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
		{"ping", "ping.json", "ping", forge.ReasonPing},
		{"branch deleted", "push-branch-deleted.json", "push", forge.ReasonBranchDeleted},
		{"tag pushed", "push-tag-created.json", "push", forge.ReasonTag},
		{"tag deleted", "push-tag-deleted.json", "push", forge.ReasonTag},
		{"pull request", "pull_request-synchronize.json", "pull_request", forge.ReasonPullRequest},
		{"review", "pull_request-opened.json", "pull_request_review", forge.ReasonPullRequest},
		{"create tag", "create-tag.json", "create", forge.ReasonTag},
		{"delete branch", "delete-branch.json", "delete", forge.ReasonBranchDeleted},
		{"issues", "ping.json", "issues", `event "issues" is not handled`},
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

// TestParseCapturedHeaders replays payloads with the request headers GitHub
// really sent with them.
func TestParseCapturedHeaders(t *testing.T) {
	tests := []struct {
		name, headers, body, wantID string
		wantPing                    bool
	}{
		{"push", "push-branch-1commit.headers.json", "push-branch-1commit.json", "82f638c0-00f1-11ea-8a5a-03fe5a4959a9", false},
		{"merge push", "push-multi-commit-merge.headers.json", "push-multi-commit-merge.json", "88f41318-101a-11ea-99ad-ec7586fcd78e", false},
		{"ping", "ping.headers.json", "ping.json", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := forge.Request{
				Header: mustCapturedHeader(t, filepath.Join("testdata", tt.headers)),
				Body:   forgetest.MustReadFile(t, filepath.Join("testdata", tt.body)),
			}
			d, err := New().Parse(req)
			if tt.wantPing {
				if !forge.IsPing(err) {
					t.Errorf("Parse() = %v, want ping", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			if got := d.Event.(*events.PushReceived).DeliveryID; d.ID != tt.wantID || got != tt.wantID {
				t.Errorf("delivery id %q, event delivery id %q, want %q", d.ID, got, tt.wantID)
			}
		})
	}
}

// mustCapturedHeader reads a header capture ({"name": "value"}) into an
// http.Header.
func mustCapturedHeader(tb testing.TB, path string) http.Header {
	tb.Helper()
	var m map[string]string
	if err := json.Unmarshal(forgetest.MustReadFile(tb, path), &m); err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

func TestParseMalformedPush(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"after not hex", `{"ref":"refs/heads/main","after":"../../etc","repository":{"full_name":"a/b","clone_url":"https://github.com/a/b.git"}}`},
		{"after upper-case", `{"ref":"refs/heads/main","after":"ABCDEF0123456789ABCDEF0123456789ABCDEF01","repository":{"full_name":"a/b","clone_url":"https://github.com/a/b.git"}}`},
		{"no repository", `{"ref":"refs/heads/main","after":"366701fde727cb7a9e7f21eb88264f59f6f9b89c"}`},
		{"file clone url", `{"ref":"refs/heads/main","after":"366701fde727cb7a9e7f21eb88264f59f6f9b89c","repository":{"full_name":"a/b","clone_url":"file:///etc"}}`},
		{"ref is a number", `{"ref":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse("push", []byte(tt.body)); !errors.Is(err, forge.ErrMalformed) {
				t.Errorf("parse() = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseStripsCredentials(t *testing.T) {
	body := `{"ref":"refs/heads/main","after":"366701fde727cb7a9e7f21eb88264f59f6f9b89c",` +
		`"repository":{"full_name":"a/b","clone_url":"https://x-access-token:ghs_secret@github.com/a/b.git?token=t#f"}}`
	e, err := parse("push", []byte(body))
	if err != nil {
		t.Fatalf("parse() = %v", err)
	}
	if got, want := e.(*events.PushReceived).Repo.CloneURL, "https://github.com/a/b.git"; got != want {
		t.Errorf("clone url %q, want %q", got, want)
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
