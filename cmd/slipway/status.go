package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
	"github.com/slipway-dev/slipway/workflows/hosts"
	"github.com/slipway-dev/slipway/workflows/target"
)

func statusCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway status", flag.ContinueOnError)
	n := bindOperatorNATSTo(fs, &cfg)
	fs.StringVar(&cfg.ProxyAddr, "proxy-addr", cfg.ProxyAddr, "address of the deployer's proxy, for the URLs shown")
	fs.StringVar(&cfg.ProxyDomain, "proxy-domain", cfg.ProxyDomain, "domain of the proxy's host names")
	cfg.Targets.Bind(fs)
	return &ffcli.Command{
		Name:       "status",
		ShortUsage: "slipway status [flags] [owner/name]",
		ShortHelp:  "show each environment's commit, services and health, and the builds of the last commits, of every repository or of one",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, args []string) (err error) {
			if len(args) > 1 {
				return usagef("want at most one repository")
			}
			c, err := n.attach("slipway-status")
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, c.Close()) }()
			if len(args) == 1 {
				return statusOf(ctx, c, &cfg, args[0], os.Stdout)
			}
			return status(ctx, c, &cfg, os.Stdout)
		},
	}
}

// status prints every recorded environment of every repository with what
// its target actually runs, on which node, and whether each service passes
// its health check.
func status(ctx context.Context, c *pipeline.Conn, cfg *pipeline.Config, out io.Writer) error {
	return statusOf(ctx, c, cfg, "", out)
}

// statusOf is status of the environments of repo, or of every repository
// when repo is empty.
func statusOf(ctx context.Context, c *pipeline.Conn, cfg *pipeline.Config, repo string, out io.Writer) (err error) {
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	states, err := envs.List(ctx)
	if err != nil {
		return err
	}
	labels, err := repoLabels(ctx, c)
	if err != nil {
		return err
	}
	local, err := pipeline.NewTarget(cfg)
	if err != nil {
		return err
	}
	targets, err := pipeline.NewPlacement(ctx, cfg, local, nil)
	if err != nil {
		return errors.Join(err, local.Close())
	}
	defer func() { err = errors.Join(err, targets.Close()) }()
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REPO\tENV\tCOMMIT\tSERVICE\tDIGEST\tSTATE\tHEALTH\tURL\tTARGET\tNODES")
	shown := 0
	for _, st := range states {
		if repo != "" && st.Repo.FullName != repo {
			continue
		}
		name := events.TargetName(st.Target)
		tg, ok := targets.Get(name)
		if !ok {
			fmt.Fprintf(w, "%s\t%s\t%s\t-\t-\tunknown\t-\t-\t%s (not configured here: pass -targets-file)\t-\n", st.Repo.FullName, st.Env, short(st.Commit), name)
			shown++
			continue
		}
		actual, err := tg.Current(ctx, st.Repo.FullName, st.Env)
		if err != nil {
			return fmt.Errorf("target %s: %w", name, err)
		}
		printEnv(ctx, w, cfg, labels[st.Repo.FullName], st, actual, name, tg)
		shown++
	}
	if shown == 0 && repo != "" {
		fmt.Fprintf(w, "(nothing of %s deployed yet)\n", repo)
	} else if shown == 0 {
		fmt.Fprintln(w, "(nothing deployed yet)")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := printRecentBuilds(ctx, c, repo, 5, out); err != nil {
		return err
	}
	if err := printFreezes(ctx, c, repo, out); err != nil {
		return err
	}
	return printDeadLetters(ctx, c.JS, out)
}

// repoLabels returns the host label of each repository.
func repoLabels(ctx context.Context, c *pipeline.Conn) (map[string]string, error) {
	store, err := c.HostStore(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := store.Labels(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for l, r := range labels {
		out[r] = l
	}
	return out, nil
}

func printEnv(ctx context.Context, w io.Writer, cfg *pipeline.Config, label string, st deploy.State, actual deploy.Release, name string, tg target.Target) {
	running := map[string]deploy.ServiceState{}
	for _, s := range actual.Services {
		running[s.Name] = s
	}
	for _, img := range st.Images {
		svc := img.Service.Name
		s, ok := running[svc]
		state, health, nodes := "missing", "-", "-"
		if ok {
			state = serviceStatus(s)
			health = probe(ctx, tg, s.Addr, img.Service.HealthPath)
			nodes = nodesOf(s)
		}
		commit := short(st.Commit)
		if ok && s.Commit != st.Commit {
			commit += " (runs " + short(s.Commit) + ")"
		}
		url := "-"
		if label != "" {
			url = fmt.Sprintf("http://%s:%s/", hosts.DefaultHost(svc, st.Env, label, cfg.ProxyDomain), port(cfg.ProxyAddr))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Repo.FullName, st.Env, commit, svc, shortDigest(img.Digest), state, health, url, name, nodes)
	}
}

// probe answers "healthy" when the service's health path answers 2xx, asked
// through its target's Dial.
func probe(ctx context.Context, tg target.Target, addr, path string) string {
	if addr == "" {
		return "unknown"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: tg.Dial}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "unhealthy"
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Sprintf("unhealthy (%d)", resp.StatusCode)
	}
	return "healthy"
}

// nodesOf says where the replicas of s run, node by node in the order the
// target reports them: "local=r0,r1", "app1=r0 app2=r1"; a replica not
// running is marked "(stopped)", one at another commit "(<commit>)".
func nodesOf(s deploy.ServiceState) string {
	if len(s.Instances) == 0 {
		return "-"
	}
	var order []string
	byNode := map[string][]string{}
	for _, in := range s.Instances {
		r := "r" + strconv.Itoa(in.Replica)
		switch {
		case !in.Running:
			r += "(stopped)"
		case in.Commit != s.Commit:
			r += "(" + short(in.Commit) + ")"
		}
		if _, seen := byNode[in.Node]; !seen {
			order = append(order, in.Node)
		}
		byNode[in.Node] = append(byNode[in.Node], r)
	}
	parts := make([]string, len(order))
	for i, n := range order {
		parts[i] = n + "=" + strings.Join(byNode[n], ",")
	}
	return strings.Join(parts, " ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func port(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return "80"
}

// serviceStatus says whether a service runs, counting its replicas when it
// declares several: "running", "running 3/3", "degraded 1/3", "stopped".
func serviceStatus(s deploy.ServiceState) string {
	switch {
	case s.Running && s.Replicas > 1:
		return fmt.Sprintf("running %d/%d", s.Up, s.Replicas)
	case s.Running:
		return "running"
	case s.Up > 0:
		return fmt.Sprintf("degraded %d/%d", s.Up, max(s.Replicas, 1))
	default:
		return "stopped"
	}
}
