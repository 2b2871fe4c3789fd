package natsjs

import (
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
