package faulttest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// Report counts what happened to the commits of a test, from the stream and
// the processes' logs.
type Report struct {
	// Started counts build attempts ("build started" log lines) per
	// commit/service across every builder, killed ones too; Solved the
	// attempts that pushed an image ("build succeeded").
	Started, Solved map[string]int
	// Built counts commit-built events per commit.
	Built map[string]int
	// Applied counts "deploy succeeded" log lines per commit, across every
	// deployer: deploys applied to the environment.
	Applied map[string]int
	// Superseded counts deploy requests skipped because a newer one
	// overtook them.
	Superseded int
	// Acked is how many distinct commits ingest acknowledged; Stored how
	// many of those have their push in the stream.
	Acked, Stored int
	// Running is the commit Docker's labels say the environment runs.
	Running string
}

// Report gathers the counts.
func (s *Slipway) Report() Report {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := Report{Started: map[string]int{}, Solved: map[string]int{}, Built: map[string]int{}, Applied: map[string]int{}}
	for _, b := range s.Builders {
		for _, l := range b.Lines() {
			k := short(fmt.Sprint(l["sha"])) + "/" + fmt.Sprint(l["service"])
			switch l["message"] {
			case "build started":
				r.Started[k]++
			case "build succeeded":
				r.Solved[k]++
			}
		}
	}
	for _, d := range s.Deployers {
		for _, l := range d.Lines() {
			if l["message"] == "deploy succeeded" && l["env"] == s.Env && l["sha"] != nil { // the workflow's line, not docker's
				r.Applied[short(fmt.Sprint(l["sha"]))]++
			}
		}
	}
	for _, e := range s.events(ctx, events.SubjectCommitBuilt) {
		r.Built[short(e.(*events.CommitBuilt).Commit)]++
	}
	r.Superseded = len(s.events(ctx, events.EnvSubject(events.SubjectDeploySuperseded, sample.RepoName, s.Env)))
	pushed := map[string]bool{}
	for _, e := range s.events(ctx, events.SubjectPushReceived) {
		pushed[e.(*events.PushReceived).After] = true
	}
	acked := map[string]bool{}
	for _, sha := range s.Acked() {
		acked[sha] = true
	}
	for sha := range acked {
		r.Acked++
		if pushed[sha] {
			r.Stored++
		}
	}
	if t, err := docker.New(docker.DefaultOptions()); err == nil {
		defer t.Close()
		if rel, err := t.Current(ctx, sample.RepoName, s.Env); err == nil {
			r.Running = rel.Commit()
		}
	}
	return r
}

func (s *Slipway) events(ctx context.Context, subject string) []events.Event {
	s.tb.Helper()
	envs, err := natsjs.Events(ctx, s.JS, subject)
	if err != nil {
		s.tb.Fatal(err)
	}
	var out []events.Event
	for _, env := range envs {
		if e, err := env.Decode(); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// Want says what a test expects beyond the invariants.
type Want struct {
	// Final is the commit the environment must end on.
	Final string
	// Rerun lists the builds ("<sha12>/<service>") a fault cut short, so
	// that they legitimately started twice.
	Rerun []string
	// Retried allows any number of failed attempts (a daemon was down);
	// each build must still succeed exactly once.
	Retried bool
}

// Check asserts the invariants for every acknowledged commit and logs the
// report: each (commit, service) built once (twice for Rerun), each commit
// built once, each commit applied to the environment at most once and the
// final one exactly once, no acknowledged webhook lost, the environment on
// Final as Docker's labels and the proxy tell.
func (s *Slipway) Check(want Want) Report {
	s.tb.Helper()
	r := s.Report()
	s.tb.Logf("report: %s", r)
	rerun := map[string]bool{}
	for _, k := range want.Rerun {
		rerun[k] = true
	}
	if r.Stored != r.Acked {
		s.tb.Errorf("acknowledged webhooks lost: %d of %d acknowledged commits have no push event", r.Acked-r.Stored, r.Acked)
	}
	for _, sha := range unique(s.Acked()) {
		for _, svc := range []string{"web", "api"} {
			k := short(sha) + "/" + svc
			if n := r.Solved[k]; n != 1 {
				s.tb.Errorf("build %s succeeded %d times, want 1", k, n)
			}
			if n := r.Started[k]; n != 1 && !(rerun[k] && n <= 2) && !want.Retried {
				s.tb.Errorf("build %s started %d times, want 1", k, n)
			}
		}
		if n := r.Built[short(sha)]; n != 1 {
			s.tb.Errorf("commit %s built %d times, want 1", short(sha), n)
		}
		if n := r.Applied[short(sha)]; n > 1 {
			s.tb.Errorf("commit %s applied %d times to %s, want at most 1", short(sha), n, s.Env)
		}
	}
	if n := r.Applied[short(want.Final)]; n != 1 {
		s.tb.Errorf("final commit %s applied %d times, want 1", short(want.Final), n)
	}
	if r.Running != want.Final {
		s.tb.Errorf("environment runs %q, want %s", r.Running, want.Final)
	}
	for _, svc := range []string{"web", "api"} {
		if got, err := s.Serving(svc); got != svc+" "+want.Final {
			s.tb.Errorf("%s answers %q (%v), want %q", svc, got, err, svc+" "+want.Final)
		}
	}
	return r
}

// String prints the report's ratios.
func (r Report) String() string {
	started, solved := 0, 0
	for _, n := range r.Started {
		started += n
	}
	for _, n := range r.Solved {
		solved += n
	}
	applied := 0
	for _, n := range r.Applied {
		applied += n
	}
	keys := make([]string, 0, len(r.Started))
	for k, n := range r.Started {
		if n != 1 {
			keys = append(keys, fmt.Sprintf("%s×%d", k, n))
		}
	}
	sort.Strings(keys)
	return fmt.Sprintf("builds solved %d ÷ unique (commit, service) %d = %.2f (attempts %d = %.2f%s); deploys applied %d ÷ (environment, commit) %d = %.2f, %d superseded; acknowledged webhooks %d, stored %d; running %s",
		solved, len(r.Started), ratio(solved, len(r.Started)), started, ratio(started, len(r.Started)), extra(keys),
		applied, len(r.Applied), ratio(applied, len(r.Applied)),
		r.Superseded, r.Acked, r.Stored, short(r.Running))
}

func extra(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return " (" + strings.Join(keys, ", ") + ")"
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
