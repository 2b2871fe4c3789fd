package proxy

import (
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// zapToZerolog returns a zap logger, as certmagic takes, writing to l.
// certmagic's debug and info lines go to l's debug level, so that only
// its warnings and errors (a failed renewal) reach an operator by default.
func zapToZerolog(l zerolog.Logger) *zap.Logger {
	return zap.New(&zerologCore{log: l})
}

// zerologCore is a zapcore.Core writing entries to a zerolog logger.
type zerologCore struct {
	log    zerolog.Logger
	fields []zapcore.Field
}

var _ zapcore.Core = (*zerologCore)(nil)

// Enabled implements zapcore.Core.
func (c *zerologCore) Enabled(l zapcore.Level) bool {
	return c.log.GetLevel() <= zerologLevel(l)
}

// With implements zapcore.Core.
func (c *zerologCore) With(fields []zapcore.Field) zapcore.Core {
	return &zerologCore{log: c.log, fields: append(append([]zapcore.Field(nil), c.fields...), fields...)}
}

// Check implements zapcore.Core.
func (c *zerologCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// Write implements zapcore.Core.
func (c *zerologCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field(nil), c.fields...), fields...) {
		f.AddTo(enc)
	}
	c.log.WithLevel(zerologLevel(e.Level)).Str("logger", "certmagic."+e.LoggerName).Fields(enc.Fields).Msg(e.Message)
	return nil
}

// Sync implements zapcore.Core.
func (c *zerologCore) Sync() error { return nil }

// zerologLevel maps a zap level to zerolog's; info is debug (see
// zapToZerolog).
func zerologLevel(l zapcore.Level) zerolog.Level {
	switch {
	case l >= zapcore.ErrorLevel:
		return zerolog.ErrorLevel
	case l == zapcore.WarnLevel:
		return zerolog.WarnLevel
	default:
		return zerolog.DebugLevel
	}
}
