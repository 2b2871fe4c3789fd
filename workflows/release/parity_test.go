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

// secretVersions are the versions of the secrets set, by environment.
type secretVersions map[string]map[string]uint64

func (s secretVersions) Versions(_ context.Context, _, env string) (map[string]uint64, error) {
	return s[env], nil
}

// TestPlanParitySecrets: a release plan flags a secret the release's
// services reference that is set on staging and not on the released
// environment (its deploy would fail), unless differs: lists secrets;
// set on both, whatever their versions, it is no difference.
func TestPlanParitySecrets(t *testing.T) {
	tests := []struct {
		name, differs string
		set           secretVersions
		want          string // in the one parity problem; "": none
	}{
		{name: "set on staging only", differs: "differs: [replicas, values]\n",
			set: secretVersions{"staging-x": {"DATABASE_URL": 5}}, want: "secrets of web DATABASE_URL: v5 ≠ not set"},
		{name: "set on prod only", differs: "differs: [replicas, values]\n",
			set: secretVersions{"prod": {"DATABASE_URL": 9}}, want: "secrets of web DATABASE_URL: not set ≠ v9"},
		{name: "set on both", differs: "differs: [replicas, values]\n",
			set: secretVersions{"staging-x": {"DATABASE_URL": 5}, "prod": {"DATABASE_URL": 9}}},
		{name: "secrets may differ", differs: "differs: [replicas, values, secrets]\n",
			set: secretVersions{"staging-x": {"DATABASE_URL": 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := workflowstest.Files{c1: {"slipway.yaml": strings.Replace(declared, "  stage: {}\n", "  staging-x: {}\n", 1) + tt.differs}}
			claims := workflowstest.Results{}
			web := webSpec
			web.Secrets = []string{"DATABASE_URL"}
			built(claims, c1, web, apiSpec)
			h, _ := newHandler(src, claims, nil, nil, nil)
			h.Secrets = tt.set
			m, err := h.Planner.Manifest(context.Background(), repo, c1)
			if err != nil {
				t.Fatal(err)
			}
			prod, _ := m.Environment("prod")
			p, err := h.Plan(context.Background(), repo, prod, release.Environments(m, "staging-x"), c1)
			if err != nil {
				t.Fatal(err)
			}
			var parity []string
			for _, pr := range p.Problems {
				if strings.Contains(pr, "differ") {
					parity = append(parity, pr)
				}
			}
			switch {
			case tt.want == "" && len(parity) != 0:
				t.Errorf("parity problems %q, want none", parity)
			case tt.want != "" && (len(parity) != 1 || !strings.Contains(parity[0], tt.want)):
				t.Errorf("parity problems %q, want one saying %q", parity, tt.want)
			}
		})
	}
}
