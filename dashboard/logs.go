package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/buildlog"
)

// logLine is one record of a log as the page shows it (as `slipway logs`
// prints it, without the time and the service).
func logLine(r buildlog.Record) string {
	switch r.Kind {
	case buildlog.KindBegin:
		return "==> build started"
	case buildlog.KindStep:
		return "==> " + r.Step + " " + r.Status
	case buildlog.KindTruncated:
		return "==> " + r.Text
	case buildlog.KindEnd:
		return "==> build " + r.Result
	}
	return r.Text
}

// logLines is the stored log of service's build of sha of repo as lines,
// nil when it recorded none.
func (d *Dashboard) logLines(ctx context.Context, repo, sha, service string) ([]string, error) {
	if d.Bus.JS == nil {
		return nil, nil
	}
	recs, err := buildlog.Read(ctx, d.Bus.JS, repo, sha, service)
	if errors.Is(err, buildlog.ErrNoLog) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(recs))
	for _, r := range recs {
		lines = append(lines, logLine(r))
	}
	return lines, nil
}

// logStream streams the log of a build as server-sent events: "line"
// with each record's text (those stored, then those to come), "end" with
// the build's result once it ended; a comment every 15 seconds keeps the
// connection. A build not started yet is waited for.
func (d *Dashboard) logStream(w http.ResponseWriter, r *http.Request, _ view) {
	fl, ok := w.(http.Flusher)
	if !ok || d.Bus.JS == nil {
		http.Error(w, "live logs unavailable", http.StatusNotImplemented)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	recs := make(chan buildlog.Record, 64)
	followed := make(chan error, 1)
	go func() {
		defer close(recs)
		followed <- buildlog.Follow(ctx, d.Bus.JS, repoOf(r), r.PathValue("sha"), r.PathValue("service"), func(rec buildlog.Record) {
			select {
			case recs <- rec:
			case <-ctx.Done():
			}
		})
	}()
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	// A reconnect after the end would replay the log: the client closes
	// on "end"; retry only covers a dropped connection.
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	result := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case rec, more := <-recs:
			if !more {
				if err := <-followed; err != nil && ctx.Err() == nil {
					zerolog.Ctx(r.Context()).Warn().Err(err).Str("path", r.URL.Path).Msg("dashboard: follow log")
					return
				}
				fmt.Fprintf(w, "event: end\ndata: %s\n\n", jsonString(result))
				fl.Flush()
				return
			}
			if rec.Kind == buildlog.KindEnd {
				result = rec.Result
			}
			fmt.Fprintf(w, "event: line\ndata: %s\n\n", jsonString(logLine(rec)))
		}
		fl.Flush()
	}
}

// jsonString encodes s as a JSON string: one line, whatever s holds.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
