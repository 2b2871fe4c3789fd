package ingest

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
)

// Response bodies. Every answer is a JSON object with a status.
type (
	statusBody struct {
		Status string `json:"status"`
	}
	acceptedBody struct {
		Status string `json:"status"` // "accepted"
		// ID is the dedup key of the (first) event; IDs lists every one
		// when the delivery held several (a push of several refs).
		ID  string   `json:"id"`
		IDs []string `json:"ids,omitempty"`
		// Duplicate is true when nothing new was stored: the delivery was
		// recorded before, or JetStream already held every event.
		Duplicate bool `json:"duplicate"`
	}
	ignoredBody struct {
		Status string `json:"status"` // "ignored"
		Reason string `json:"reason"`
	}
	errorBody struct {
		Status string `json:"status"` // "error"
		Error  string `json:"error"`
	}
)

// reply is the answer to one delivery and what to log about it.
type reply struct {
	status int
	body   any
	level  zerolog.Level
	msg    string
	// err is logged, never sent: it may hold details the sender should
	// not see.
	err error
}

// refuse answers status with a public message; err is only logged.
func refuse(status int, level zerolog.Level, public string, err error) reply {
	return reply{
		status: status,
		body:   errorBody{Status: "error", Error: public},
		level:  level,
		msg:    "webhook refused: " + public,
		err:    err,
	}
}

// ignore answers status with the reason a delivery was not acted on.
func ignore(status int, reason string) reply {
	return reply{
		status: status,
		body:   ignoredBody{Status: "ignored", Reason: reason},
		level:  zerolog.InfoLevel,
		msg:    "webhook ignored: " + reason,
	}
}

// send writes the reply and logs it.
func (rep reply) send(w http.ResponseWriter, log *zerolog.Logger) {
	ev := log.WithLevel(rep.level).Int("status", rep.status)
	if rep.err != nil {
		ev = ev.Err(rep.err)
	}
	ev.Msg(rep.msg)
	writeJSON(w, rep.status, rep.body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
