package release_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
	"github.com/slipway-dev/slipway/workflows/release"
	"github.com/slipway-dev/slipway/workflows/workflowstest"
)

// planner answers each step's plan with its output and exit code.
type planner struct {
	calls []string
	plans []events.ProvisionPlan
}

func (p *planner) Plan(_ context.Context, _ events.Repo, env, target, sha string, number int) ([]events.ProvisionPlan, error) {
	p.calls = append(p.calls, env+"@"+sha[:4]+"#"+string(rune('0'+number)))
	return p.plans, nil
}

func TestPullRequestPlanShowsProvisioning(t *testing.T) {
	pin := func(sha string) string { return string(manifest.FormatPin("prod", sha)) }
	head := "5555555555555555555555555555555555555555"
	src := workflowstest.Files{
		c3:   {"slipway.yaml": declared},
		head: {"slipway.yaml": declared, "deploy/prod.yaml": pin(c3)},
	}
	c := workflowstest.Results{}
	built(c, c3, webSpec, apiSpec)
	h, p := newHandler(src, c, envs{}, history{"stage": {deployed("stage", c3, events.OutcomeSucceeded, 9, "")}}, gitLog{c3})
	out := "  # terraform_data.bucket will be created\n  + resource \"terraform_data\" \"bucket\" {}\n\n```\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
	pl := &planner{plans: []events.ProvisionPlan{{Step: "infra", Output: out}, {Step: "dns", ExitCode: 1, Output: "Error: Invalid block\n"}}}
	h.Provision = pl
	pr := &events.PullRequestChanged{Repo: repo, Action: events.PROpened, Number: 7, HeadSHA: head, BaseBranch: "main"}
	if err := h.HandlePullRequest(context.Background(), pr); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pl.calls, " "); got != "prod@"+c3[:4]+"#7" {
		t.Errorf("plans run %q, want prod at the pinned commit for #7", got)
	}
	plan := workflowstest.Of[*events.ReleasePlanned](p)[0]
	if len(plan.Provision) != 2 || plan.Provision[0].Output != out {
		t.Fatalf("provision %+v", plan.Provision)
	}
	if len(plan.Problems) != 1 || plan.Problems[0] != "provisioning step dns: plan exited with code 1" {
		t.Errorf("problems %q, want the failed plan", plan.Problems)
	}
	md := release.Markdown(plan)
	for _, want := range []string{"**Infrastructure**", "<summary>infra: plan ok</summary>", "````\n  # terraform_data.bucket will be created\n", "Plan: 1 to add, 0 to change, 0 to destroy.\n````",
		"<summary>dns: plan exited with code 1</summary>", "- provisioning step dns: plan exited with code 1"} {
		if !strings.Contains(md, want) {
			t.Errorf("comment lacks %q:\n%s", want, md)
		}
	}
	var text strings.Builder
	if err := release.WriteText(&text, plan); err != nil || !strings.Contains(text.String(), "Provisioning infra (plan ok):\n    # terraform_data.bucket will be created") {
		t.Errorf("text plan (%v):\n%s", err, text.String())
	}
}
