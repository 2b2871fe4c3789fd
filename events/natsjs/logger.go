package natsjs

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/rs/zerolog"
)

// Logger adapts zerolog to watermill.LoggerAdapter. watermill's Info is
// logged at debug level: it reports every message received, while Slipway's
// own code logs what happened to it at info.
type Logger struct{ l zerolog.Logger }

var _ watermill.LoggerAdapter = Logger{}

// NewLogger returns a watermill logger writing to l.
func NewLogger(l zerolog.Logger) Logger {
	return Logger{l: l.With().Str("component", "watermill").Logger()}
}

func (a Logger) Error(msg string, err error, fields watermill.LogFields) {
	a.l.Error().Err(err).Fields(map[string]any(fields)).Msg(msg)
}

func (a Logger) Info(msg string, fields watermill.LogFields) {
	a.l.Debug().Fields(map[string]any(fields)).Msg(msg)
}

func (a Logger) Debug(msg string, fields watermill.LogFields) {
	a.l.Trace().Fields(map[string]any(fields)).Msg(msg)
}

func (a Logger) Trace(msg string, fields watermill.LogFields) {
	a.l.Trace().Fields(map[string]any(fields)).Msg(msg)
}

func (a Logger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return Logger{l: a.l.With().Fields(map[string]any(fields)).Logger()}
}
