package dashboard

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rs/zerolog"
)

// events streams server-sent events: "change" with the read model's
// version each time it moves, and a comment every 15 seconds so proxies
// keep the connection. It ends with the request.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request, _ view) {
	fl, ok := w.(http.Flusher)
	if !ok || d.Version == nil {
		http.Error(w, "live updates unavailable", http.StatusNotImplemented)
		return
	}
	// The server's write timeout bounds answers, not this stream.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	poll := d.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	tick, keep := time.NewTicker(poll), time.NewTicker(15*time.Second)
	defer tick.Stop()
	defer keep.Stop()
	last, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
		case <-tick.C:
			v, err := d.Version(r.Context())
			if err != nil {
				zerolog.Ctx(r.Context()).Debug().Err(err).Msg("dashboard: read model version")
				continue
			}
			if v == last {
				continue
			}
			last = v
			fmt.Fprintf(w, "event: change\ndata: %d\n\n", v)
			fl.Flush()
		}
	}
}
