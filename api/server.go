package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/readmodel"
)

// Prefix is the path every route of the API starts with.
const Prefix = "/api/v1"

// maxWait bounds how long an action may wait for its deploy's result.
const maxWait = 10 * time.Minute

// Server serves the API.
type Server struct {
	Model  *readmodel.Model
	Tokens *Tokens
	Bus    actions.Bus
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	read := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc("GET "+Prefix+pattern, s.require(RoleRead, h))
	}
	act := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc("POST "+Prefix+pattern, s.require(RoleDeploy, h))
	}
	read("/whoami", s.whoami)
	read("/repos", s.repos)
	read("/repos/{owner}/{name}/commits", s.commits)
	read("/repos/{owner}/{name}/commits/{sha}", s.commit)
	read("/repos/{owner}/{name}/commits/{sha}/builds", s.builds)
	read("/repos/{owner}/{name}/commits/{sha}/builds/{service}/log", s.buildLog)
	read("/repos/{owner}/{name}/commits/{sha}/checks", s.checks)
	read("/repos/{owner}/{name}/commits/{sha}/checks/{check}/log", s.checkLog)
	read("/envs", s.envs)
	read("/repos/{owner}/{name}/envs", s.envs)
	read("/repos/{owner}/{name}/envs/{env}", s.env)
	read("/repos/{owner}/{name}/envs/{env}/deploys", s.deploys)
	read("/repos/{owner}/{name}/envs/{env}/releases", s.releases)
	read("/previews", s.previews)
	read("/deadletters", s.deadLetters)
	act("/repos/{owner}/{name}/envs/{env}/rollback", s.rollback)
	act("/replay", s.replay)
	act("/deadletters/{seq}/retry", s.retry)
	act("/repos/{owner}/{name}/envs/{env}/release", s.release)
	act("/repos/{owner}/{name}/envs/{env}/lock", s.lock)
	act("/repos/{owner}/{name}/envs/{env}/unlock", s.unlock)
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such route")
	})
	return mux
}

func repoOf(r *http.Request) string { return r.PathValue("owner") + "/" + r.PathValue("name") }

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	tok, _ := TokenOf(r.Context())
	writeJSON(w, http.StatusOK, map[string]string{"name": tok.Name, "role": string(tok.Role)})
}

func (s *Server) repos(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Repos(r.Context())
	answer(w, r, v, err)
}

func (s *Server) commits(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Commits(r.Context(), repoOf(r), limit(r, 50))
	answer(w, r, v, err)
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Commit(r.Context(), repoOf(r), r.PathValue("sha"))
	answer(w, r, v, err)
}

func (s *Server) builds(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Commit(r.Context(), repoOf(r), r.PathValue("sha"))
	answer(w, r, v.Builds, err)
}

func (s *Server) envs(w http.ResponseWriter, r *http.Request) {
	repo := ""
	if r.PathValue("owner") != "" {
		repo = repoOf(r)
	}
	v, err := s.Model.Envs(r.Context(), repo)
	answer(w, r, v, err)
}

func (s *Server) env(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Env(r.Context(), repoOf(r), r.PathValue("env"))
	answer(w, r, v, err)
}

func (s *Server) deploys(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Model.Env(r.Context(), repoOf(r), r.PathValue("env")); err != nil {
		answer(w, r, nil, err)
		return
	}
	v, err := s.Model.LastDeploys(r.Context(), repoOf(r), r.PathValue("env"), limit(r, 100))
	answer(w, r, v, err)
}

func (s *Server) releases(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Plans(r.Context(), repoOf(r), r.PathValue("env"))
	answer(w, r, v, err)
}

func (s *Server) previews(w http.ResponseWriter, r *http.Request) {
	v, err := s.Model.Previews(r.Context(), r.URL.Query().Get("repo"))
	answer(w, r, v, err)
}

// DeadLetter is the API's view of a dead letter.
type DeadLetter struct {
	Seq        uint64    `json:"seq"`
	At         time.Time `json:"at"`
	Consumer   string    `json:"consumer"`
	Deliveries uint64    `json:"deliveries"`
	Subject    string    `json:"subject"`
	StreamSeq  uint64    `json:"stream_seq"`
	ID         string    `json:"id,omitempty"`
	Type       string    `json:"type,omitempty"`
}

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) {
	dead, err := s.Model.DeadLetters(r.Context())
	answer(w, r, DeadLetterViews(dead), err)
}

// DeadLetterViews returns the views of dead.
func DeadLetterViews(dead []natsjs.DeadLetter) []DeadLetter {
	out := make([]DeadLetter, 0, len(dead))
	for _, d := range dead {
		out = append(out, DeadLetter{Seq: d.Seq, At: d.At, Consumer: d.Consumer, Deliveries: d.Deliveries,
			Subject: d.Subject, StreamSeq: d.StreamSeq, ID: d.ID, Type: d.Type})
	}
	return out
}

// limit is the query's limit, def when none or not a positive number.
func limit(r *http.Request, def int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		return n
	}
	return def
}

// answer writes v, or the error: 404 for what the read model does not
// hold, 500 (logged, not shown) for anything else.
func answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, readmodel.ErrNotFound), errors.Is(err, natsstore.ErrEventNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("api: query")
		writeError(w, http.StatusInternalServerError, "query failed; see the server's log")
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) { writeJSON(w, code, Error{Error: msg}) }
