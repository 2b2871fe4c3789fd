package ingest

import (
	"net/http/httptest"
	"testing"

	"github.com/slipway-dev/slipway/forge/forgetest"
)

// FuzzServeHTTP signs arbitrary bodies of arbitrary event kinds for every
// route, as each host signs them, so that they reach the parsers, and checks
// that no input earns a 5xx.
func FuzzServeHTTP(f *testing.F) {
	for i, c := range corpus {
		f.Add(uint8(i), c.event, forgetestRead(f, c.copyPath()))
		for _, deep := range forgetest.DeepNesting() {
			f.Add(uint8(i), c.event, deep)
		}
	}
	cfg := Config{AllowUnknownRepos: true, FallbackSecrets: [][]byte{secretCorpus}, DefaultBranch: "main"}
	h := MustNewHandler(f, cfg, &stubPublisher{})
	f.Fuzz(func(t *testing.T, route uint8, eventType string, body []byte) {
		c := corpus[int(route)%len(corpus)]
		c.event = eventType
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, c.request(t, body, secretCorpus))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %s %q body %q: %s", rec.Code, c.route, eventType, body, rec.Body)
		}
	})
}
