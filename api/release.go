package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/actions"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/readmodel"
)

// ReleaseRequest is the body of POST .../envs/{env}/release: the release
// of a commit as if a release pull request pinning it had merged, without
// the pin file.
type ReleaseRequest struct {
	// Commit is the commit to release: its id, or a prefix of at least 7
	// hex digits naming one of the last commits recorded (required).
	Commit string `json:"commit"`
	// Reason is why, recorded with the request.
	Reason string `json:"reason,omitempty"`
	// Wait is how long to wait for the deploy's result ("5m"); empty
	// answers once the release is decided.
	Wait string `json:"wait,omitempty"`
}

// prefixScan is how many of a repository's last commits a commit prefix
// is looked for among; a full id is looked up directly.
const prefixScan = 500

// errBadCommit is wrapped by resolveCommit's errors about the commit asked
// for (400).
var errBadCommit = errors.New("commit")

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	var body ReleaseRequest
	wait, ok := decode(w, r, &body, func() string { return body.Wait })
	if !ok {
		return
	}
	repo, env := repoOf(r), r.PathValue("env")
	rp, err := s.repository(r.Context(), repo)
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	sha, err := s.resolveCommit(r.Context(), repo, body.Commit)
	if errors.Is(err, errBadCommit) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		answer(w, r, nil, err)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(actions.DecideWait + wait + time.Minute))
	res, out := s.start(r)
	e := actions.ReleaseRequest(rp, env, sha, res.Actor, body.Reason)
	o, dec, err := actions.Release(r.Context(), s.Bus, e, actions.Deliberate{Actor: res.Actor, Wait: wait}, out)
	res.Request, res.Commit, res.Deploy = e.DedupKey(), sha, dec.Deploy
	s.finish(w, r, "release", res, out, o, err)
}

// repository returns the repository named repo as its last deploy
// recorded it (its clone URL and default branch); a repository nothing was
// deployed from is not found.
func (s *Server) repository(ctx context.Context, repo string) (events.Repo, error) {
	envs, err := s.Model.Envs(ctx, repo)
	if err != nil {
		return events.Repo{}, err
	}
	var last *readmodel.Env
	for i, e := range envs {
		if e.Last != nil && !e.Preview && (last == nil || e.UpdatedAt.After(last.UpdatedAt)) {
			last = &envs[i]
		}
	}
	if last == nil {
		return events.Repo{}, fmt.Errorf("repository %s: no deploy recorded: %w", repo, readmodel.ErrNotFound)
	}
	return last.Last.Repo, nil
}

// resolveCommit returns the full id of the commit of repo that ref names:
// a full id the read model knows, or a prefix of at least 7 hex digits
// naming one of its last prefixScan commits.
func (s *Server) resolveCommit(ctx context.Context, repo, ref string) (string, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	switch {
	case ref == "":
		return "", fmt.Errorf("%w: the commit to release is required", errBadCommit)
	case len(ref) < 7 || len(ref) > 64 || strings.Trim(ref, "0123456789abcdef") != "":
		return "", fmt.Errorf("%w %q: want a commit id or a prefix of at least 7 hex digits", errBadCommit, clip(ref))
	}
	if events.CheckSHA(ref) == nil {
		_, err := s.Model.Commit(ctx, repo, ref)
		if errors.Is(err, readmodel.ErrNotFound) {
			return "", fmt.Errorf("%w %s: not a commit of %s that Slipway recorded", errBadCommit, ref, repo)
		}
		return ref, err
	}
	commits, err := s.Model.Commits(ctx, repo, prefixScan)
	if err != nil {
		return "", err
	}
	var found []string
	for _, c := range commits {
		if strings.HasPrefix(c.SHA, ref) {
			found = append(found, c.SHA)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w %s: no commit of %s among the last %d recorded starts so (give the full id)", errBadCommit, ref, repo, prefixScan)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w %s is ambiguous: %d commits of %s start so", errBadCommit, ref, len(found), repo)
}

// clip keeps an echoed value short.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
