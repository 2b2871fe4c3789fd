package release

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/slipway-dev/slipway/events"
)

// WriteText writes a release plan for a terminal.
func WriteText(w io.Writer, p *events.ReleasePlanned) error {
	from := short(p.From)
	if from == "" {
		from = "(nothing)"
	}
	pr := ""
	if p.Number > 0 {
		pr = fmt.Sprintf(" (pull request #%d, head %s)", p.Number, short(p.HeadSHA))
	}
	fmt.Fprintf(w, "Release plan for %s%s, planned %s\n", p.Env, pr, p.PlannedAt.Local().Format("2006-01-02 15:04:05"))
	fmt.Fprintf(w, "  %s → %s%s\n\n", from, short(p.To), direction(p))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SERVICE\tCHANGE\tNOW\tAFTER")
	for _, s := range p.Services {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Service, s.Change, shortDigest(s.From), shortDigest(s.To))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s:\n", commitsTitle(p))
	for _, c := range p.Commits {
		fmt.Fprintf(w, "  %s %s (%s)\n", short(c.ID), firstLine(c.Message), c.Author)
	}
	if more := p.CommitCount - len(p.Commits); more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
	writeProvisionText(w, p)
	if len(p.Problems) == 0 {
		_, err := fmt.Fprintln(w, "\nReady: merging deploys the images already built; nothing is rebuilt.")
		return err
	}
	fmt.Fprintln(w, "\nProblems:")
	for _, pb := range p.Problems {
		fmt.Fprintf(w, "  - %s\n", pb)
	}
	return nil
}

// Markdown renders a release plan as a pull request comment.
func Markdown(p *events.ReleasePlanned) string {
	var b strings.Builder
	from := "`" + short(p.From) + "`"
	if p.From == "" {
		from = "nothing"
	}
	fmt.Fprintf(&b, "### Slipway release plan: %s\n\n%s → `%s`%s\n\n", p.Env, from, short(p.To), direction(p))
	b.WriteString("| service | change | now | after |\n|---|---|---|---|\n")
	for _, s := range p.Services {
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` |\n", s.Service, s.Change, shortDigest(s.From), shortDigest(s.To))
	}
	fmt.Fprintf(&b, "\n**%s**\n\n", commitsTitle(p))
	for _, c := range p.Commits {
		fmt.Fprintf(&b, "- `%s` %s (%s)\n", short(c.ID), firstLine(c.Message), c.Author)
	}
	if more := p.CommitCount - len(p.Commits); more > 0 {
		fmt.Fprintf(&b, "- … and %d more\n", more)
	}
	writeProvisionMarkdown(&b, p)
	if len(p.Problems) == 0 {
		b.WriteString("\n:white_check_mark: Ready: merging deploys the images already built; nothing is rebuilt.\n")
		return b.String()
	}
	b.WriteString("\n:x: **Problems**\n\n")
	for _, pb := range p.Problems {
		fmt.Fprintf(&b, "- %s\n", pb)
	}
	return b.String()
}

func direction(p *events.ReleasePlanned) string {
	if p.Backwards {
		return " (back to an earlier commit)"
	}
	return ""
}

func commitsTitle(p *events.ReleasePlanned) string {
	if p.Backwards {
		return fmt.Sprintf("Commits taken out (%d)", p.CommitCount)
	}
	return fmt.Sprintf("Commits released (%d)", p.CommitCount)
}

func shortDigest(d string) string {
	if d == "" {
		return "-"
	}
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
