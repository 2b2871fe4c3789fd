package generic

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/forgetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// Fixtures are the examples of the format documented in doc.go.
var Fixtures = []string{"push.json", "push-branch-deleted.json", "push-tag.json", "pull_request-opened.json", "ping.json"}

func TestConformance(t *testing.T) {
	forgetest.Run(t, forgetest.Harness{
		Forge:          New(),
		Header:         header,
		Sign:           sign,
		Push:           forgetest.MustReadFile(t, filepath.Join("testdata", "push.json")),
		PushDeliveryID: "ci-4711-push",
		PullRequest:    forgetest.MustReadFile(t, filepath.Join("testdata", "pull_request-opened.json")),
		Ping:           forgetest.MustReadFile(t, filepath.Join("testdata", "ping.json")),
		Unhandled:      []byte(`{"event":"deployment","repository":{"full_name":"acme/shop"}}`),
		EventInBody:    true,
	})
}

func header(string, string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return h
}

func sign(h http.Header, body, secret []byte) {
	h.Set(HeaderSignature, "sha256="+hex.EncodeToString(forge.SignHMACSHA256(body, secret)))
}

func TestVerify(t *testing.T) {
	forgetest.VerifySHA256Header(t, New(), HeaderSignature, forgetest.MustReadFile(t, filepath.Join("testdata", "push.json")))
}

func TestParse(t *testing.T) {
	for _, file := range Fixtures {
		t.Run(file, func(t *testing.T) {
			_, evs, err := parse(forgetest.MustReadFile(t, filepath.Join("testdata", file)))
			if err := forgetest.CheckResult(Name, evs, err); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(file, ".json")+".golden.json")
			forgetest.MustMatchGolden(t, golden, forgetest.MustOutcome(t, evs, err), *update)
		})
	}
}

func TestParseKinds(t *testing.T) {
	tests := []struct{ file, want string }{
		{"push.json", events.TypePushReceived},
		{"push-branch-deleted.json", events.TypeBranchDeleted},
		{"push-tag.json", events.TypeTagPushed},
		{"pull_request-opened.json", events.PROpened},
		{"ping.json", "ignored: " + forge.ReasonPing},
	}
	for _, tt := range tests {
		_, evs, err := parse(forgetest.MustReadFile(t, filepath.Join("testdata", tt.file)))
		got := fmt.Sprintf("error %v", err)
		switch reason, ok := forge.IgnoredReason(err); {
		case ok:
			got = "ignored: " + reason
		case err == nil && len(evs) == 1:
			got = evs[0].EventType()
			if pr, ok := evs[0].(*events.PullRequestChanged); ok {
				got = pr.Action
			}
		}
		if got != tt.want {
			t.Errorf("parse(%s) = %q, want %q", tt.file, got, tt.want)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	const repo = `"repository":{"full_name":"a/b","clone_url":"https://h/a/b.git"}`
	tests := []struct{ name, body string }{
		{"no event", `{` + repo + `}`},
		{"version 2", `{"version":2,"event":"push",` + repo + `}`},
		{"push without after", `{"event":"push","ref":"refs/heads/main",` + repo + `}`},
		{"pull request without pull_request", `{"event":"pull_request",` + repo + `}`},
		{"pull request with an unknown action", `{"event":"pull_request","pull_request":{"action":"labelled","number":1,"head_sha":"366701fde727","head_branch":"x","base_branch":"main"},` + repo + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parse([]byte(tt.body)); !errors.Is(err, forge.ErrMalformed) {
				t.Errorf("parse() = %v, want ErrMalformed", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range Fixtures {
		f.Add(forgetest.MustReadFile(f, filepath.Join("testdata", file)))
	}
	for _, deep := range forgetest.DeepNesting() {
		f.Add(deep)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, evs, err := parse(body)
		if err := forgetest.CheckResult(Name, evs, err); err != nil {
			t.Fatal(err)
		}
	})
}
