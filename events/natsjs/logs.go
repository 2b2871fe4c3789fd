package natsjs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/events"
)

// LogStream holds the logs of builds, one subject per build
// (LogSubject), bounded per build and in age.
const LogStream = "SLIPWAY_LOGS"

// LogSubjectRoot is the root of the subjects of LogStream.
const LogSubjectRoot = "slipway_logs"

// LogSubject is the subject of the log of service's build of sha of repo.
func LogSubject(repo, sha, service string) string {
	return LogSubjectRoot + "." + events.RepoKey(repo) + "." + events.KeyPart(sha) + "." + events.KeyPart(service)
}

// Bounds of the build logs: what a build may write (the writer stops with
// a truncation record past them) and how long logs are kept.
const (
	LogMaxLines  = 5000
	LogMaxBytes  = 1 << 20
	LogMaxAge    = 7 * 24 * time.Hour
	logMaxPerLog = LogMaxLines + 1000 // step records beside the lines
)

// logStreamConfig is the configuration of LogStream.
func logStreamConfig(t Topology) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              LogStream,
		Description:       "Slipway build logs, one subject per build",
		Subjects:          []string{LogSubjectRoot + ".>"},
		Storage:           jetstream.FileStorage,
		Retention:         jetstream.LimitsPolicy,
		Replicas:          t.Replicas,
		MaxAge:            LogMaxAge,
		MaxMsgsPerSubject: logMaxPerLog,
		Discard:           jetstream.DiscardOld,
	}
}

// provisionLogs creates or updates LogStream.
func provisionLogs(ctx context.Context, js jetstream.JetStream, t Topology) error {
	if _, err := js.CreateOrUpdateStream(ctx, logStreamConfig(t)); err != nil {
		return fmt.Errorf("provision stream %s: %w", LogStream, err)
	}
	return nil
}
