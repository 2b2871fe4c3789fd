package buildkit

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"

	"github.com/slipway-dev/slipway/events"
)

// StepError is a build that failed because of what it was asked to build: a
// Dockerfile that does not parse, a RUN step that exits non-zero, a COPY of
// a file that does not exist, a base image that does not exist. Build returns
// it wrapped in events.Permanent.
type StepError struct {
	// Image is the reference the build was to push.
	Image string
	// Step is the failing step as BuildKit names it, e.g. "[2/3] RUN make";
	// empty when the failure came before any step ran.
	Step string
	// Output holds the last lines the step printed.
	Output []string
	// Err is BuildKit's error.
	Err error
}

// Error is the step, BuildKit's message and the last lines of output, on one
// line: short enough for a BuildFailed reason.
func (e *StepError) Error() string {
	var b strings.Builder
	b.WriteString("build ")
	b.WriteString(e.Image)
	b.WriteString(": ")
	if e.Step != "" {
		b.WriteString(e.Step)
		b.WriteString(": ")
	}
	b.WriteString(excerpt(strings.TrimPrefix(e.Err.Error(), "failed to solve: "), maxMessage))
	if n := len(e.Output); n > 0 {
		lines := make([]string, 0, 3)
		for _, l := range e.Output[max(0, n-3):] {
			lines = append(lines, excerpt(l, maxOutputLine))
		}
		b.WriteString(" (output: ")
		b.WriteString(strings.Join(lines, " | "))
		b.WriteString(")")
	}
	return b.String()
}

// Bounds of what a StepError quotes: BuildKit's message (which may quote a
// line of the Dockerfile) and each of the last lines of output.
const (
	maxMessage    = 512
	maxOutputLine = 160
)

// excerpt is s with control characters replaced by spaces, cut to at most
// n bytes on a character boundary.
func excerpt(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func (e *StepError) Unwrap() error { return e.Err }

// transient are fragments of the messages of failures that a retry can fix:
// buildkitd, a registry or the network not answering, or a full disk.
var transient = []string{
	"connection refused", "connection reset", "no such host", "i/o timeout",
	"tls handshake timeout", "network is unreachable", "broken pipe",
	"server misbehaving", "error while dialing", "dial tcp", "dial unix",
	"503 service unavailable", "502 bad gateway", "504 gateway", "429 too many requests",
	"toomanyrequests", "no space left on device", "unexpected eof",
	// A blob upload the registry got corrupted (DIGEST_INVALID).
	"provided digest did not match uploaded content",
	// buildkitd's snapshotter left half-made after a crash: the next
	// snapshot it prepares may collide with a directory the killed
	// process left ("failed to rename: ... file exists"); a retry takes
	// the next one.
	"failed to prepare", "failed to rename", "failed to mount", "failed to create snapshot",
}

// registryFault are fragments of the messages of a registry failing a
// push or a pull that a retry can fix: an upload it dropped or corrupted
// ("digest did not match uploaded content", "blob unknown"), a commit of
// a layer it refused, a status it should not have answered.
var registryFault = []string{
	"failed to push", "failed commit on ref", "unexpected status from", "unexpected status:",
	"blob unknown", "digest did not match", "digest_invalid", "failed to copy:", "failed to do request",
	"500 internal server error",
}

// userFault are fragments of the messages of failures of the build itself.
var userFault = []string{
	"dockerfile parse error", "unknown instruction", "failed to read dockerfile",
	"did not complete successfully", "failed to compute cache key",
	"failed to calculate checksum", ": not found", "failed to resolve source metadata",
	"pull access denied", "invalid reference format", "denied by policy",
}

// classify attaches its policy to the failed build of image by the cause in
// err, not by the step that reported it: buildkitd, the network or a
// registry failing is retryable; a step of the build failing (step, the
// one the progress stream reported, if any) or a build that cannot be
// (a Dockerfile that does not parse, a base image that does not exist) is
// permanent.
func classify(err error, image string, step *StepError) error {
	switch {
	case isTransient(err), isRegistryFault(err):
		return events.Retryable(fmt.Errorf("build %s: %w", image, err), RetryAfter)
	case step != nil:
		step.Image, step.Err = image, err
		return events.Permanent(step)
	case isUserFault(err):
		return events.Permanent(&StepError{Image: image, Err: err})
	}
	return fmt.Errorf("build %s: %w", image, err)
}

// isTransient reports whether err is worth retrying.
func isTransient(err error) bool {
	switch grpcerrors.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted:
		return true
	}
	return containsAny(err.Error(), transient)
}

// isRegistryFault reports whether err is a registry failing a transfer;
// a reference it does not know or a pull it denies is the build's fault.
func isRegistryFault(err error) bool {
	var exit *gwpb.ExitError
	if errors.As(err, &exit) {
		return false // a RUN step exited non-zero, whatever it printed
	}
	return containsAny(err.Error(), registryFault) && !containsAny(err.Error(), []string{"pull access denied", "failed to resolve source metadata"})
}

// isUserFault reports whether err is the build's own failure.
func isUserFault(err error) bool {
	var exit *gwpb.ExitError
	var solve *errdefs.SolveError
	if errors.As(err, &exit) || errors.As(err, &solve) {
		return true
	}
	switch grpcerrors.Code(err) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition:
		return true
	}
	return containsAny(err.Error(), userFault)
}

// containsAny reports whether s contains one of the fragments, ignoring case.
func containsAny(s string, fragments []string) bool {
	s = strings.ToLower(s)
	for _, f := range fragments {
		if strings.Contains(s, f) {
			return true
		}
	}
	return false
}
