package buildkit_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/workflows/checks"
)

// TestRunCheck runs checks on a stage of a real Dockerfile with the real
// buildkitd: a passing command, a failing one with its output kept, the last
// stage when no target is named, and no network for the command.
func TestRunCheck(t *testing.T) {
	e := mustEnv(t)
	df := "FROM " + e.base + " AS test\nCOPY suite.sh /suite.sh\n" +
		"FROM " + e.base + "\nRUN echo final > /stage\n"
	tests := []struct {
		name, target, run string
		wantPassed        bool
		wantLog, wantWhy  string
	}{
		{name: "passes", target: "test", run: "sh /suite.sh ok", wantPassed: true, wantLog: "suite ok"},
		{name: "fails", target: "test", run: "sh /suite.sh fail", wantLog: "FAIL: TestThing", wantWhy: "exit code: 3"},
		{name: "last stage", run: "cat /stage", wantPassed: true, wantLog: "final"},
		// The step's network namespace holds a loopback interface only.
		{name: "no network", target: "test", run: `grep : /proc/net/dev | grep -v " lo:" && exit 1; echo only loopback`, wantPassed: true, wantLog: "only loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := writeContext(t, map[string]string{
				"Dockerfile": df,
				"suite.sh":   "echo suite start\nif [ \"$1\" = ok ]; then echo suite ok; exit 0; fi\necho 'FAIL: TestThing'\nexit 3\n",
			})
			res, err := e.builder.RunCheck(testContext(t), checks.Request{Request: req, Target: tt.target, Run: tt.run})
			if err != nil {
				t.Fatalf("RunCheck: %v", err)
			}
			if res.Passed != tt.wantPassed {
				t.Fatalf("passed = %v, want %v (reason %q, log %q)", res.Passed, tt.wantPassed, res.Reason, res.Log)
			}
			if !slices.ContainsFunc(res.Log, func(l string) bool { return strings.Contains(l, tt.wantLog) }) {
				t.Errorf("log %q lacks %q", res.Log, tt.wantLog)
			}
			if !strings.Contains(res.Reason, tt.wantWhy) {
				t.Errorf("reason %q lacks %q", res.Reason, tt.wantWhy)
			}
		})
	}
}
