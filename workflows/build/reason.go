package build

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slipway-dev/slipway/events"
)

// MaxReason is the longest reason a build-failed event carries, in bytes.
const MaxReason = 2048

// Reason is the reason a build-failed event gives for err: its message on
// one line, without the retry policy's word ("permanent: ": the event says
// it failed for good), control and other non-printing characters replaced by spaces
// (so nothing a build printed can forge a log line or hide in a status), and
// cut to MaxReason bytes.
func Reason(err error) string {
	var b strings.Builder
	s := strings.ReplaceAll(err.Error(), policyWord, "")
	space := false
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			r = ' '
		}
		if r == ' ' && space {
			continue
		}
		space = r == ' '
		if b.Len()+utf8.RuneLen(r) > MaxReason-len(cut) {
			return strings.TrimSpace(b.String()) + cut
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// policyWord is what events.PermanentError puts before its message.
var policyWord = events.Permanent(errors.New("")).Error()

// cut ends a reason that was shortened.
const cut = " [...]"
