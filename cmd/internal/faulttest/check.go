package faulttest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/docker/dockertest"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Report counts what happened to the commits of a test, from durable state:
// the stream, the claims and Docker's labels. Keys of the build maps are
// "<sha12>/<service>", of the deploy maps "<sha12>".
type Report struct {
	// Started counts the leases taken on each build (its claim's attempts:
	// each lease is a checkout and a BuildKit solve), killed ones too;
	// Solved the builds that pushed an image (build-succeeded events not
	// answered from a completed claim's record).
	Started, Solved map[string]int
	// Built counts commit-built events per commit.
	Built map[string]int
	// Applied counts the deploy-succeeded events of the environment per
	// commit; Outcome is what each commit's deploy claim recorded,
	// DeployAttempts the leases taken on it.
	Applied        map[string]int
	Outcome        map[string]events.DeployOutcome
	DeployAttempts map[string]int
	// Superseded counts deploy requests skipped because a newer one
	// overtook them.
	Superseded int
	// Acked is how many distinct commits ingest acknowledged; Stored how
	// many of those have their push in the stream.
	Acked, Stored int
	// Running is the commit Docker's labels say the environment runs;
	// Containers counts the containers labelled with the environment, per
	// commit label.
	Running    string
	Containers map[string]int
}

// Report gathers the counts.
func (s *Slipway) Report() Report {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := Report{Started: map[string]int{}, Solved: map[string]int{}, Built: map[string]int{}, Applied: map[string]int{},
		Outcome: map[string]events.DeployOutcome{}, DeployAttempts: map[string]int{}, Containers: map[string]int{}}
	for _, e := range s.events(ctx, events.SubjectBuildRequested) {
		req := e.(*events.BuildRequested)
		if info, ok := s.Claim(buildClaimKey(req)); ok {
			r.Started[short(req.Commit)+"/"+req.Service.Name] = info.Attempt
		}
	}
	answered := map[string]bool{} // answered from a completed claim
	for _, e := range s.events(ctx, events.SubjectBuildSucceeded) {
		b := e.(*events.BuildSucceeded)
		if k := short(b.Commit) + "/" + b.Service; b.Cached {
			answered[k] = true
		} else {
			r.Solved[k]++
		}
	}
	// A build whose solve was recorded in its claim but whose announcement
	// was lost (NATS away) is announced again from the claim: it was solved
	// once, by the attempt that completed the claim.
	for k := range answered {
		if r.Solved[k] == 0 {
			r.Solved[k] = 1
		}
	}
	for _, e := range s.events(ctx, events.EnvSubject(events.SubjectDeployRequested, sample.RepoName, s.Env)) {
		req := e.(*events.DeployRequested)
		if info, ok := s.Claim(req.DedupKey()); ok {
			rec, _ := deploy.ParseDone(info.Result) // a claim still running records nothing yet
			r.Outcome[short(req.Commit)], r.DeployAttempts[short(req.Commit)] = rec.Outcome, info.Attempt
		}
	}
	for _, e := range s.events(ctx, events.EnvSubject(events.SubjectDeploySucceeded, sample.RepoName, s.Env)) {
		r.Applied[short(e.(*events.DeploySucceeded).Commit)]++
	}
	for _, e := range s.events(ctx, events.SubjectCommitBuilt) {
		r.Built[short(e.(*events.CommitBuilt).Commit)]++
	}
	r.Superseded = len(s.events(ctx, events.EnvSubject(events.SubjectDeploySuperseded, sample.RepoName, s.Env)))
	pushed := map[string]bool{}
	for _, e := range s.events(ctx, events.SubjectPushReceived) {
		pushed[e.(*events.PushReceived).After] = true
	}
	for _, sha := range unique(s.Acked()) {
		r.Acked++
		if pushed[sha] {
			r.Stored++
		}
	}
	if t, err := docker.New(docker.DefaultOptions()); err == nil {
		defer func() { _ = t.Close() }() // a read-only client
		if rel, err := t.Current(ctx, sample.RepoName, s.Env); err == nil {
			r.Running = rel.Commit()
		}
	}
	for _, c := range dockertest.Containers(s.tb, s.Env) {
		r.Containers[short(c[strings.LastIndex(c, "@")+1:])]++
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
// final one exactly once (its deploy claim recording it deployed), no
// acknowledged webhook lost, the environment on Final as Docker's labels
// and the proxy tell, and no container of another commit left.
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
			if n := r.Started[k]; n != 1 && (!rerun[k] || n > 2) && !want.Retried {
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
	// A retry of a deploy applied before its claim could complete (NATS
	// away) finds the commit running: its claim records unchanged.
	if o, n := r.Outcome[short(want.Final)], r.DeployAttempts[short(want.Final)]; o != events.OutcomeSucceeded && (o != events.OutcomeUnchanged || n <= 1) {
		s.tb.Errorf("the deploy claim of final commit %s records %q after %d leases, want %q (or %q after a retry)", short(want.Final), o, n, events.OutcomeSucceeded, events.OutcomeUnchanged)
	}
	for c, n := range r.Containers {
		if c != short(want.Final) {
			s.tb.Errorf("%d containers of commit %s left in %s, want only the final commit's", n, c, s.Env)
		}
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
	deploys := 0
	for _, n := range r.DeployAttempts {
		deploys += n
	}
	return fmt.Sprintf("builds solved %d ÷ unique (commit, service) %d = %.2f (attempts %d = %.2f%s); deploys applied %d ÷ (environment, commit) %d = %.2f (attempts %d), %d superseded; acknowledged webhooks %d, stored %d; running %s, containers %v",
		solved, len(r.Started), ratio(solved, len(r.Started)), started, ratio(started, len(r.Started)), extra(keys),
		applied, len(r.Applied), ratio(applied, len(r.Applied)), deploys,
		r.Superseded, r.Acked, r.Stored, short(r.Running), r.Containers)
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
