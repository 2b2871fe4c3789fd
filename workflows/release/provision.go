package release

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Provisioner plans the provisioning steps of a commit for an environment
// on its target (provision.Provisioner).
type Provisioner interface {
	// Plan runs the plan of every step slipway.yaml at sha declares for
	// env, for pull request number, and returns each step's result; a
	// failed plan is a result.
	Plan(ctx context.Context, repo events.Repo, env, target, sha string, number int) ([]events.ProvisionPlan, error)
}

// maxProvisionComment bounds the plan output all steps put together into a
// pull request comment (hosts cap comments at about 64 KiB).
const maxProvisionComment = 32 << 10

// planProvision adds the plans of the provisioning steps to p, and a
// problem for each failed one.
func (h *Handler) planProvision(ctx context.Context, p *events.ReleasePlanned, target string) error {
	if h.Provision == nil {
		return nil
	}
	plans, err := h.Provision.Plan(ctx, p.Repo, p.Env, target, p.To, p.Number)
	if err != nil {
		return fmt.Errorf("plan the provisioning of %s: %w", p.Env, err)
	}
	p.Provision = plans
	for _, pl := range plans {
		if pl.Reason != "" {
			p.Problems = append(p.Problems, fmt.Sprintf("provisioning step %s: plan failed: %s", pl.Step, pl.Reason))
		} else if pl.ExitCode != 0 {
			p.Problems = append(p.Problems, fmt.Sprintf("provisioning step %s: plan exited with code %d", pl.Step, pl.ExitCode))
		}
	}
	return nil
}

// writeProvisionText writes the plans of the provisioning steps for a
// terminal.
func writeProvisionText(w io.Writer, p *events.ReleasePlanned) {
	for _, pl := range p.Provision {
		fmt.Fprintf(w, "\nProvisioning %s (plan %s):\n", pl.Step, planStatus(pl))
		for _, line := range strings.Split(strings.TrimRight(pl.Output, "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
}

// writeProvisionMarkdown writes the plans of the provisioning steps as
// collapsible code blocks, each output cut from its start to its share of
// maxProvisionComment.
func writeProvisionMarkdown(b *strings.Builder, p *events.ReleasePlanned) {
	if len(p.Provision) == 0 {
		return
	}
	share := maxProvisionComment / len(p.Provision)
	b.WriteString("\n**Infrastructure**\n")
	for _, pl := range p.Provision {
		out := strings.TrimRight(pl.Output, "\n")
		if len(out) > share {
			out = "…" + out[len(out)-share:]
		}
		fence := strings.Repeat("`", max(3, longestRun(out, '`')+1))
		fmt.Fprintf(b, "\n<details open><summary>%s: plan %s</summary>\n\n%s\n%s\n%s\n\n</details>\n", pl.Step, planStatus(pl), fence, out, fence)
	}
}

func planStatus(pl events.ProvisionPlan) string {
	switch {
	case pl.Reason != "":
		return "failed: " + pl.Reason
	case pl.ExitCode != 0:
		return fmt.Sprintf("exited with code %d", pl.ExitCode)
	}
	return "ok"
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			n = 0
			continue
		}
		n++
		best = max(best, n)
	}
	return best
}
