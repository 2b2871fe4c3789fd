package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/workflows/hosts"
)

func demoCommand() *ffcli.Command {
	cfg := pipeline.DefaultConfig()
	fs := flag.NewFlagSet("slipway demo", flag.ContinueOnError)
	bindAll(&cfg, fs)
	keep := fs.Bool("keep", false, "keep Slipway running after the demo, until interrupted")
	return &ffcli.Command{
		Name:       "demo",
		ShortUsage: "slipway demo [flags]",
		ShortHelp:  "push two commits of a sample monorepo and watch them reach staging",
		FlagSet:    fs,
		Options:    pipeline.Options(),
		Exec: func(ctx context.Context, _ []string) error {
			return demo(ctx, cfg, *keep, os.Stdout)
		},
	}
}

func demo(ctx context.Context, cfg pipeline.Config, keep bool, out io.Writer) error {
	dir := filepath.Join(filepath.Dir(cfg.DataDir), "demo")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	cfg.DataDir = filepath.Join(dir, "nats")
	cfg.NATSPort = -1
	secret := randomSecret()
	cfg.RepoSecrets = pipeline.RepoSecrets{sample.RepoName: {[]byte(secret)}}
	logFile, err := os.Create(filepath.Join(os.TempDir(), "slipway-demo.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	log, err := pipeline.NewLogger(logFile, "debug", "json")
	if err != nil {
		return err
	}
	ctx = log.WithContext(ctx)
	fmt.Fprintf(out, "==> starting Slipway (embedded NATS, logs in %s)\n", logFile.Name())
	up := &pipeline.Up{Config: cfg}
	if err := up.Open(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- up.Run(ctx) }()
	err = runDemo(ctx, up, dir, secret, out)
	if err == nil && keep {
		fmt.Fprintln(out, "==> Slipway keeps running; interrupt to stop")
		<-ctx.Done()
	}
	cancel()
	return errors.Join(err, ignoreCanceled(<-errc), up.Close())
}

func runDemo(ctx context.Context, up *pipeline.Up, dir, secret string, out io.Writer) (err error) {
	s, err := sample.New(ctx, dir, secret)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	fmt.Fprintf(out, "==> sample monorepo %s served at %s\n", sample.RepoName, s.Server.URL(sample.RepoName))
	steps := []struct{ msg, file, content string }{
		{"Add web and api services", "", ""},
		{"Say hello differently", "services/web/index.txt", "second commit\n"},
	}
	for _, st := range steps {
		if st.file != "" {
			if err := s.WriteFile(st.file, st.content); err != nil {
				return err
			}
		}
		if err := pushAndWait(ctx, up, s, st.msg, out); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "==> slipway status")
	if err := status(ctx, up.Conn(), &up.Config, out); err != nil {
		return err
	}
	fmt.Fprintln(out, "==> slipway history staging")
	return history(ctx, up.Conn(), sample.RepoName, up.Config.StagingEnv, 0, out)
}

// pushAndWait commits, sends the signed webhook and waits until staging
// serves the commit.
func pushAndWait(ctx context.Context, up *pipeline.Up, s *sample.Sample, msg string, out io.Writer) error {
	start := time.Now()
	p, err := s.Commit(ctx, msg)
	if err != nil {
		return err
	}
	code, body, err := p.Send(ctx, up.IngestURL()+"/webhooks/github", s.Secret, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "==> pushed %s %q; webhook answered %d %s\n", p.After[:12], msg, code, strings.TrimSpace(string(body)))
	if code/100 != 2 {
		return fmt.Errorf("webhook refused: %d %s", code, body)
	}
	// A service the commit does not change keeps its container, which
	// answers with the commit it was started at.
	answers, err := waitEnvServing(ctx, &up.Config, sample.RepoName, up.Config.StagingEnv, p.After, []string{"web", "api"}, 5*time.Minute)
	if err != nil {
		return err
	}
	for _, svc := range []string{"web", "api"} {
		host := hosts.DefaultHost(svc, up.Config.StagingEnv, hosts.Candidates(sample.RepoName)[0], up.Config.ProxyDomain)
		fmt.Fprintf(out, "    http://%s:%s/ answers %q\n", host, port(up.Config.ProxyAddr), answers[svc])
	}
	fmt.Fprintf(out, "==> %s serving on staging %s after the push\n", p.After[:12], time.Since(start).Round(time.Millisecond))
	return waitRecorded(ctx, up.Conn(), up.Config.StagingEnv, p.After)
}

// waitRecorded waits until the deploy of sha to env has finished (the old
// containers are drained and removed) and is recorded.
func waitRecorded(ctx context.Context, c *pipeline.Conn, env, sha string) error {
	envs, err := c.Envs(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		st, ok, err := envs.Get(ctx, sample.RepoName, env)
		if err != nil {
			return err
		}
		if ok && st.Commit == sha {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deploy of %s to %s not recorded: %w", sha[:12], env, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitServing polls the proxy with the service's host name until the body
// equals want.
func waitServing(ctx context.Context, proxyAddr, host, want string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		if got, err := get(ctx, proxyAddr, host); err == nil {
			last = got
			if got == want {
				return got, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, addr, host string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
