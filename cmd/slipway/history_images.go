package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
)

// historyImages prints every deploy of env with what it ran: the audit
// record of each (time, result, kind, actor, commit, target, trigger, duration) and
// the digest of every service.
func historyImages(ctx context.Context, c *pipeline.Conn, repo, env string, last int, out io.Writer) error {
	deploys, err := lastDeploys(ctx, c, repo, env, last)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, d := range deploys {
		fmt.Fprintf(w, "#%d\t%s\t%s\t%s by %s\t%s → %s\t%s\ton %s\ttrigger %s\n", d.Seq, d.Time.Local().Format(time.DateTime), d.Outcome,
			d.Kind, d.Actor, short(d.Previous), short(d.Commit), d.Duration.Round(time.Millisecond), events.TargetName(d.Target), d.Trigger)
		for _, img := range d.Images {
			fmt.Fprintf(w, "\t\t%s\t%s\t%s\t\t\n", img.Service.Name, img.Digest, img.Ref)
		}
		if d.Reason != "" {
			fmt.Fprintf(w, "\t\treason\t%s\t\t\t\n", firstLineOf(d.Reason))
		}
	}
	if len(deploys) == 0 {
		fmt.Fprintf(w, "(no deploys to %s of %s yet)\n", env, repo)
	}
	return w.Flush()
}

func firstLineOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
