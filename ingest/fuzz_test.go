package ingest

import (
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"
)

// FuzzServeHTTP signs arbitrary bodies with a valid secret, so that they reach
// the parsers, and checks that no input earns a 5xx.
func FuzzServeHTTP(f *testing.F) {
	for _, name := range []string{"push-main-1commit.json", "ping.json", "push-tag-created.json", "gitea-push-1commit.json"} {
		f.Add(false, "push", MustReadFixture(f, name))
		f.Add(true, "push", MustReadFixture(f, name))
	}
	cfg := testConfig()
	cfg.AllowUnknownRepos, cfg.FallbackSecrets = true, [][]byte{secretFallback}
	h := MustNewHandler(f, cfg, &stubPublisher{})
	f.Fuzz(func(t *testing.T, toGitea bool, eventType string, body []byte) {
		d := githubDelivery(eventType, body, secretFallback)
		if toGitea {
			d = giteaDelivery("/webhooks/gitea", "X-Gitea", eventType, body, secretFallback)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, d.request(zerolog.Nop()))
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
	})
}
