package ingest

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/forge"
)

// Handler receives webhooks. Build it with NewHandler; it is safe for
// concurrent use.
type Handler struct {
	cfg        Config
	secrets    map[string][][]byte // by lower-cased full name
	forges     *forge.Registry
	pub        Publisher
	deliveries Deliveries
	now        func() time.Time
	mux        *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler serving the forges of the registry, publishing
// through pub and recording delivery ids in deliveries. A nil deliveries
// leaves deduplication to the publisher alone (JetStream's duplicate window).
// cfg is completed with its defaults, then validated.
func NewHandler(cfg Config, forges *forge.Registry, pub Publisher, deliveries Deliveries) (*Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if forges == nil || pub == nil {
		return nil, errors.New("new ingest handler: nil forge registry or publisher")
	}
	h := &Handler{
		cfg:        cfg,
		secrets:    cfg.secretIndex(),
		forges:     forges,
		pub:        pub,
		deliveries: deliveries,
		now:        time.Now,
		mux:        http.NewServeMux(),
	}
	h.mux.HandleFunc("/webhooks/{forge}", h.serveWebhook)
	h.mux.HandleFunc("/healthz", serveHealth)
	return h, nil
}

// ServeHTTP routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// serveHealth answers liveness probes. It checks nothing beyond the process
// serving HTTP.
func serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Status: "error", Error: "method not allowed"})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// secretsFor returns the secrets to verify a delivery of repo with, and false
// when the repository is unknown and unknown repositories are not allowed.
func (h *Handler) secretsFor(repo string) ([][]byte, bool) {
	if secrets, ok := h.secrets[strings.ToLower(repo)]; ok && repo != "" {
		return secrets, true
	}
	if h.cfg.AllowUnknownRepos {
		return h.cfg.FallbackSecrets, true
	}
	return nil, false
}

// anySecret returns every configured secret. A ping that names no
// repository (an organisation hook, Bitbucket Server's "Test connection")
// is verified with them: it proves the sender knows one, and publishes
// nothing.
func (h *Handler) anySecret() [][]byte {
	all := append([][]byte(nil), h.cfg.FallbackSecrets...)
	for _, secrets := range h.secrets {
		all = append(all, secrets...)
	}
	return all
}
