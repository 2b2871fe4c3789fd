package build_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
)

// TestFailurePolicyNamedOnce: a commit that fails (a bad slipway.yaml, a
// service whose build fails for good) is permanent once: neither the error
// the messaging edge logs nor the build-failed reason says "permanent:
// permanent:".
func TestFailurePolicyNamedOnce(t *testing.T) {
	h, p := newHandler(t, tree{"slipway.yaml": "version: 1\nservices:\n  - name: Web!\n"}, &builder{})
	err := h.HandlePush(context.Background(), push("main"))
	b := &builder{err: events.Permanent(errStep("RUN make: exit code 2"))}
	h2, p2 := newHandler(t, sources, b)
	err2 := h2.HandleBuild(context.Background(), requests()[0])
	for _, tt := range []struct {
		name    string
		err     error
		reasons []string
	}{
		{"bad slipway.yaml", err, reasonsOf(p.OfType(events.TypeBuildFailed))},
		{"failing RUN", err2, reasonsOf(p2.OfType(events.TypeBuildFailed))},
	} {
		if !events.IsPermanent(tt.err) || strings.Count(tt.err.Error(), "permanent: ") != 1 {
			t.Errorf("%s: error %q, want permanent, said once", tt.name, tt.err)
		}
		if len(tt.reasons) == 0 {
			t.Errorf("%s: no build-failed event", tt.name)
		}
		for _, r := range tt.reasons {
			if strings.Contains(r, "permanent: ") {
				t.Errorf("%s: reason %q names the retry policy", tt.name, r)
			}
		}
	}
}

type errStep string

func (e errStep) Error() string { return string(e) }

func reasonsOf(evs []events.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.(*events.BuildFailed).Reason)
	}
	return out
}
