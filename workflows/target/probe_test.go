package target_test

import (
	"testing"

	"github.com/slipway-dev/slipway/workflows/target"
)

func TestProbePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "empty probes the root", in: "", want: "/"},
		{name: "absolute", in: "/healthz", want: "/healthz"},
		{name: "relative", in: "healthz", want: "/healthz"},
		{name: "with a query", in: "ready?deep=1", want: "/ready?deep=1"},
		{name: "root", in: "/", want: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target.ProbePath(tt.in); got != tt.want {
				t.Errorf("ProbePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
