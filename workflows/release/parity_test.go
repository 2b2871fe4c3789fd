package release_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// TestPlanParity: a release plan names what production would run
// differently from staging at the same commit, unless slipway.yaml expects
// it (differs:); without differs: nothing is checked.
func TestPlanParity(t *testing.T) {
	tests := []struct {
		name, differs string
		want          []string // substrings of the one problem; nil: no problem
	}{
		{name: "not declared"},
		{name: "nothing may differ", differs: "differs: []\n", want: []string{"replicas of web: 1 ≠ 2", "values of web GREETING: hello ≠ hello from prod"}},
		{name: "replicas may differ", differs: "differs: [replicas]\n", want: []string{"values of web GREETING"}},
		{name: "both may differ", differs: "differs: [replicas, values]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := workflowstest.Files{c1: {"slipway.yaml": declared + tt.differs}}
			claims := workflowstest.Results{}
			built(claims, c1, webSpec, apiSpec)
			h, _ := newHandler(src, claims, nil, nil, nil)
			m, err := h.Planner.Manifest(context.Background(), repo, c1)
			if err != nil {
				t.Fatal(err)
			}
			envs := release.Environments(m, "staging-x")
			prod, _ := m.Environment("prod")
			p, err := h.Plan(context.Background(), repo, prod, envs, c1)
			if err != nil {
				t.Fatal(err)
			}
			var parity []string // the other problem: c1 never ran on staging
			for _, pr := range p.Problems {
				if strings.Contains(pr, "differ") {
					parity = append(parity, pr)
				}
			}
			if tt.want == nil {
				if len(parity) != 0 {
					t.Errorf("parity problems %q, want none", parity)
				}
				return
			}
			if len(parity) != 1 || !strings.HasPrefix(parity[0], "stage and prod differ") {
				t.Fatalf("parity problems %q, want one naming stage and prod", parity)
			}
			for _, w := range tt.want {
				if !strings.Contains(parity[0], w) {
					t.Errorf("problem %q lacks %q", parity[0], w)
				}
			}
			if tt.differs == "differs: [replicas]\n" && strings.Contains(parity[0], "replicas") {
				t.Errorf("problem %q names the declared replicas", parity[0])
			}
		})
	}
}
