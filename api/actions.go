package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/freeze"
	"github.com/slipway-dev/slipway/workflows/release"
)

// RollbackRequest is the body of POST .../envs/{env}/rollback.
type RollbackRequest struct {
	// Steps back (1 when 0 and To is empty), or the commit To.
	Steps int    `json:"steps,omitempty"`
	To    string `json:"to,omitempty"`
	// Wait is how long to wait for the deploy's result ("5m"); empty
	// answers once requested.
	Wait string `json:"wait,omitempty"`
}

// ReplayRequest is the body of POST /replay.
type ReplayRequest struct {
	// Ref is a stream sequence or an event id.
	Ref  string `json:"ref"`
	Wait string `json:"wait,omitempty"`
}

// ActionResult is the answer of an action: what was requested, and its
// outcome when it was waited for.
type ActionResult struct {
	Actor   string `json:"actor"`
	Request string `json:"request,omitempty"`
	// Deploy is the deploy request a release led to (Request is the
	// release request's id).
	Deploy  string               `json:"deploy,omitempty"`
	Commit  string               `json:"commit,omitempty"`
	Outcome events.DeployOutcome `json:"outcome,omitempty"`
	Reason  string               `json:"reason,omitempty"`
	// Log is what the action printed, as the CLI shows it.
	Log string `json:"log"`
	// ID is the new id of a retried dead letter.
	ID string `json:"id,omitempty"`
	// Freeze is the freeze a lock made or an unlock ended.
	Freeze *freeze.Freeze `json:"freeze,omitempty"`
}

// LockRequest is the body of POST .../envs/{env}/lock.
type LockRequest struct {
	// Reason is why the environment is frozen (required).
	Reason string `json:"reason"`
	// For ends the freeze by itself after this long ("2h"); empty
	// freezes until unlocked.
	For string `json:"for,omitempty"`
}

func (s *Server) lock(w http.ResponseWriter, r *http.Request) {
	var body LockRequest
	if _, ok := decode(w, r, &body, func() string { return "" }); !ok {
		return
	}
	if strings.TrimSpace(body.Reason) == "" {
		writeError(w, http.StatusBadRequest, "reason: a freeze needs a reason")
		return
	}
	var d time.Duration
	if body.For != "" {
		var err error
		if d, err = time.ParseDuration(body.For); err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "for: want a positive duration such as 2h")
			return
		}
	}
	res, out := s.start(r)
	f, err := actions.Lock(r.Context(), s.Bus, repoOf(r), r.PathValue("env"), body.Reason, d, res.Actor, out)
	if err == nil {
		res.Freeze = &f
	}
	s.finish(w, r, "lock", res, out, natsstore.DeployDone{Done: deploy.Done{Outcome: events.OutcomeUnchanged}}, err)
}

func (s *Server) unlock(w http.ResponseWriter, r *http.Request) {
	res, out := s.start(r)
	f, found, err := actions.Unlock(r.Context(), s.Bus, repoOf(r), r.PathValue("env"), out)
	if found {
		res.Freeze = &f
		if f.Held != nil {
			res.Request, res.Commit = f.Held.DedupKey(), f.Held.Commit
		}
	}
	s.finish(w, r, "unlock", res, out, natsstore.DeployDone{Done: deploy.Done{Outcome: events.OutcomeUnchanged}}, err)
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	var body RollbackRequest
	wait, ok := decode(w, r, &body, func() string { return body.Wait })
	if !ok {
		return
	}
	if body.Steps == 0 && body.To == "" {
		body.Steps = 1
	}
	// A deploy in flight is waited for first (as the CLI does), then the
	// rollback's own: the server's write timeout bounds neither.
	inflight := wait
	if inflight <= 0 {
		inflight = actions.InFlightWait
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(inflight + wait + time.Minute))
	res, out := s.start(r)
	o, req, err := actions.Rollback(r.Context(), s.Bus, repoOf(r), r.PathValue("env"), body.Steps, body.To,
		actions.Deliberate{Actor: res.Actor, Wait: wait}, out)
	if req != nil {
		res.Request, res.Commit = req.DedupKey(), req.Commit
	}
	s.finish(w, r, "rollback", res, out, o, err)
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	var body ReplayRequest
	wait, ok := decode(w, r, &body, func() string { return body.Wait })
	if !ok {
		return
	}
	if body.Ref == "" {
		writeError(w, http.StatusBadRequest, "ref: want a stream sequence or an event id")
		return
	}
	if wait > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + time.Minute))
	}
	res, out := s.start(r)
	o, err := actions.Replay(r.Context(), s.Bus, body.Ref, actions.Deliberate{Actor: res.Actor, Wait: wait}, out)
	s.finish(w, r, "replay", res, out, o, err)
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "seq: want the sequence of a dead letter")
		return
	}
	res, out := s.start(r)
	id, err := actions.RetryDeadLetter(r.Context(), s.Bus, seq)
	res.ID = id
	s.finish(w, r, "dead-letter retry", res, out, natsstore.DeployDone{}, err)
}

// start begins an action's answer with the token's name as its actor.
func (s *Server) start(r *http.Request) (ActionResult, *strings.Builder) {
	tok, _ := TokenOf(r.Context())
	return ActionResult{Actor: tok.Name}, &strings.Builder{}
}

// finish logs the action with its actor and writes its answer: 202 when
// not waited for, 200 with its outcome, 409 when nothing can be done, 502
// for a failed deploy.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, action string, res ActionResult, out *strings.Builder, o natsstore.DeployDone, err error) {
	res.Log, res.Outcome, res.Reason = out.String(), o.Outcome, actions.Reason(o)
	ev := zerolog.Ctx(r.Context()).Info()
	if err != nil {
		ev = zerolog.Ctx(r.Context()).Warn().Err(err)
	}
	ev.Str("actor", res.Actor).Str("action", action).Str("path", r.URL.Path).Str("request", res.Request).Msg("api action")
	switch {
	case err == nil && res.Outcome == events.OutcomeUnknown:
		writeJSON(w, http.StatusAccepted, res)
	case err == nil:
		writeJSON(w, http.StatusOK, res)
	case errors.Is(err, release.ErrNoRollback), errors.Is(err, release.ErrNotReleasable):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, natsstore.ErrEventNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case o.Outcome == events.OutcomeFailed:
		writeJSON(w, http.StatusBadGateway, res)
	default:
		zerolog.Ctx(r.Context()).Error().Err(err).Str("action", action).Msg("api: action failed")
		writeError(w, http.StatusInternalServerError, action+" failed: "+err.Error())
	}
}

// maxBody bounds an action's body.
const maxBody = 64 << 10

// decode reads an optional JSON body into v and its wait duration;
// false when it answered 400.
func decode(w http.ResponseWriter, r *http.Request, v any, wait func() string) (time.Duration, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return 0, false
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, v); err != nil {
			writeError(w, http.StatusBadRequest, "decode body: "+err.Error())
			return 0, false
		}
	}
	if wait() == "" {
		return 0, true
	}
	d, err := time.ParseDuration(wait())
	if err != nil || d < 0 || d > maxWait {
		writeError(w, http.StatusBadRequest, "wait: want a duration up to "+maxWait.String())
		return 0, false
	}
	return d, true
}
