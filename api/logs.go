package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/buildlog"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/readmodel"
)

func (s *Server) checks(w http.ResponseWriter, r *http.Request) {
	c, err := s.Model.Commit(r.Context(), repoOf(r), r.PathValue("sha"))
	out := make([]*readmodel.Check, 0, len(c.Checks))
	for _, k := range c.Checks {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *readmodel.Check) int { return strings.Compare(a.Name, b.Name) })
	answer(w, r, out, err)
}

func (s *Server) buildLog(w http.ResponseWriter, r *http.Request) {
	s.log(w, r, r.PathValue("service"))
}

func (s *Server) checkLog(w http.ResponseWriter, r *http.Request) {
	s.log(w, r, events.CheckLog(r.PathValue("check")))
}

// log answers the records of the last attempt of a build's or a check's
// log (buildlog.Read), 404 when it recorded none.
func (s *Server) log(w http.ResponseWriter, r *http.Request, service string) {
	recs, err := buildlog.Read(r.Context(), s.Bus.JS, repoOf(r), r.PathValue("sha"), service)
	if errors.Is(err, buildlog.ErrNoLog) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	answer(w, r, recs, err)
}
