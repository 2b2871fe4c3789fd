package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/forge"
)

// Handler receives webhooks. Build it with NewHandler; it is safe for
// concurrent use.
type Handler struct {
	cfg         Config
	secrets     map[string][][]byte // by lower-cased full name
	signers     []signer
	signerIndex map[string]int // of signers, by lower-cased full name
	forges      *forge.Registry
	pub         Publisher
	deliveries  Deliveries
	limit       *limiter
	now         func() time.Time
	mux         *http.ServeMux
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
		limit:      newLimiter(cfg),
		now:        time.Now,
		mux:        http.NewServeMux(),
	}
	h.signers, h.signerIndex = newSigners(cfg)
	h.mux.HandleFunc("/webhooks/{forge}", h.serveWebhook)
	h.mux.HandleFunc("/healthz", serveHealth)
	return h, nil
}

// ServeHTTP routes the request. A panic while serving it (a bug) is logged
// and answered 500; the process and the other requests are unaffected.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer recoverRequest(w, r)
	h.mux.ServeHTTP(w, r)
}

// recoverRequest turns a panic of a request into a logged 500, leaving
// http.ErrAbortHandler to net/http.
func recoverRequest(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
		panic(p)
	}
	zerolog.Ctx(r.Context()).Error().Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).
		Str("path", r.URL.Path).Msg("webhook handler panicked")
	writeJSON(w, http.StatusInternalServerError, errorBody{Status: "error", Error: "internal error"})
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
