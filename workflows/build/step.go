package build

import (
	"errors"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// FailedStepError is a build failure that names the step that failed and
// its last lines of output (buildkit.StepError).
type FailedStepError interface {
	error
	FailedStep() (step string, output []string)
}

// failedStep returns the failing step of err and its last lines, bounded
// to events.MaxFailedOutput lines of at most 512 bytes, each one printable.
func failedStep(err error) (string, []string) {
	var se FailedStepError
	if !errors.As(err, &se) {
		return "", nil
	}
	step, output := se.FailedStep()
	if len(output) > events.MaxFailedOutput {
		output = output[len(output)-events.MaxFailedOutput:]
	}
	out := make([]string, 0, len(output))
	for _, l := range output {
		out = append(out, clip(printable(l), 512))
	}
	return clip(printable(step), 512), out
}

// printable replaces control characters, so a line cannot forge another.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
