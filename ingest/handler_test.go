package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/forge"
	"github.com/slipway-dev/slipway/forge/azuredevops"
	"github.com/slipway-dev/slipway/forge/bitbucket"
	"github.com/slipway-dev/slipway/forge/bitbucketserver"
	"github.com/slipway-dev/slipway/forge/generic"
	"github.com/slipway-dev/slipway/forge/gitea"
	"github.com/slipway-dev/slipway/forge/github"
	"github.com/slipway-dev/slipway/forge/gitlab"
)

var (
	secretOld      = []byte("old-secret-never-logged")
	secretNew      = []byte("new-secret-never-logged")
	secretFallback = []byte("fallback-secret-never-logged")
	secretOther    = []byte("other-repo-secret-never-logged")
	receivedAt     = time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC)
)

// stubPublisher records what it is asked to publish.
type stubPublisher struct {
	mu        sync.Mutex
	events    []events.Event
	duplicate bool
	err       error
}

func (p *stubPublisher) Publish(ctx context.Context, e events.Event) (bool, error) {
	if _, ok := ctx.Deadline(); !ok {
		return false, errors.New("publish without a deadline")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return false, p.err
	}
	p.events = append(p.events, e)
	return p.duplicate, nil
}

func (p *stubPublisher) published() []events.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.events
}

func testConfig() Config {
	return Config{
		Secrets: map[string][][]byte{
			"woodpecker-ci/Woodpecker": {secretOld, secretNew},
			"gordon/hello-world":       {secretNew},
			"other/repo":               {secretOther},
		},
		MaxBodyBytes: 64 << 10,
	}
}

// bitbucketServerURL is the base URL the test registry gives the Bitbucket
// Server forge.
const bitbucketServerURL = "https://bitbucket.example.com"

// MustForges returns a registry of every forge, as the pipeline builds it.
func MustForges(tb testing.TB) *forge.Registry {
	tb.Helper()
	reg, err := forge.NewRegistry(
		github.New(), gitea.New(), gitlab.New(), bitbucket.New(),
		bitbucketserver.New(bitbucketserver.WithBaseURL(bitbucketServerURL)),
		azuredevops.New(), generic.New(),
	)
	if err != nil {
		tb.Fatalf("new registry: %v", err)
	}
	return reg
}

// MustNewHandler returns a handler over the real forges with a fixed clock
// and no delivery store.
func MustNewHandler(tb testing.TB, cfg Config, pub Publisher) *Handler {
	tb.Helper()
	return MustNewHandlerWith(tb, cfg, pub, nil)
}

// MustNewHandlerWith is MustNewHandler with a delivery store.
func MustNewHandlerWith(tb testing.TB, cfg Config, pub Publisher, deliveries Deliveries) *Handler {
	tb.Helper()
	h, err := NewHandler(cfg, MustForges(tb), pub, deliveries)
	if err != nil {
		tb.Fatalf("new handler: %v", err)
	}
	h.now = func() time.Time { return receivedAt }
	return h
}

func MustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// delivery builds a request the way a host sends it.
type delivery struct {
	method, path string
	body         []byte
	header       map[string]string
	chunked      bool // no Content-Length
}

func (d delivery) request(logger zerolog.Logger) *http.Request {
	var body io.Reader = bytes.NewReader(d.body)
	if d.chunked {
		body = io.MultiReader(body)
	}
	r := httptest.NewRequest(cmp.Or(d.method, http.MethodPost), d.path, body)
	for k, v := range d.header {
		r.Header.Set(k, v)
	}
	return r.WithContext(logger.WithContext(r.Context()))
}

func githubDelivery(eventType string, body, secret []byte) delivery {
	h := map[string]string{
		"Content-Type":      "application/json",
		"X-GitHub-Event":    eventType,
		"X-GitHub-Delivery": "gh-delivery-1",
	}
	if secret != nil {
		h["X-Hub-Signature-256"] = "sha256=" + hex.EncodeToString(forge.SignHMACSHA256(body, secret))
	}
	return delivery{path: "/webhooks/github", body: body, header: h}
}

func giteaDelivery(path, prefix, eventType string, body, secret []byte) delivery {
	h := map[string]string{
		"Content-Type":         "application/json",
		prefix + "-Event":      eventType,
		prefix + "-Delivery":   "gt-delivery-1",
		prefix + "-Signature":  hex.EncodeToString(forge.SignHMACSHA256(body, secret)),
		"X-Hub-Signature-256":  "sha256=" + hex.EncodeToString(forge.SignHMACSHA256(body, secret)),
		"X-Unrelated-Checksum": "x",
	}
	return delivery{path: path, body: body, header: h}
}
