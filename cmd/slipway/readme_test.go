package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
)

// readmeCommand is one command line of a shell block of the README, as
// printed (continued lines joined by bash itself).
type readmeCommand struct {
	line int // where it starts, 1-based
	text string
}

// readmeCommands returns the command lines of the blocks fenced ```sh
// (or bash, shell) whose info string does not say no-run, in order. A
// command spans lines until bash finds it complete (a trailing backslash,
// an open quote); lines holding only a comment are left out.
func readmeCommands(md string) ([]readmeCommand, error) {
	var (
		out     []readmeCommand
		inBlock bool
		run     bool
		acc     []string
		start   int
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fence, info, ok := strings.Cut(line, "```"); ok && strings.TrimSpace(fence) == "" && !strings.Contains(info, "`") {
			if inBlock {
				if len(acc) > 0 {
					return nil, fmt.Errorf("README.md:%d: command not complete at the end of its block", start)
				}
				inBlock = false
				continue
			}
			inBlock = true
			fields := strings.Fields(info)
			run = len(fields) > 0 && (fields[0] == "sh" || fields[0] == "bash" || fields[0] == "shell") && !strings.Contains(info, "no-run")
			continue
		}
		if !inBlock || !run {
			continue
		}
		if len(acc) == 0 {
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			start = n
		}
		acc = append(acc, line)
		text := strings.Join(acc, "\n")
		if complete, err := bashComplete(text); err != nil {
			return nil, fmt.Errorf("README.md:%d: %w", start, err)
		} else if complete {
			out = append(out, readmeCommand{line: start, text: text})
			acc = nil
		}
	}
	if inBlock {
		return nil, errors.New("README.md: a code block is not closed")
	}
	return out, sc.Err()
}

// bashComplete reports whether bash parses text as complete; it is not
// when it ends inside a quote or after a backslash.
func bashComplete(text string) (bool, error) {
	out, err := exec.Command("bash", "-n", "-c", text).CombinedOutput()
	switch {
	case err == nil && !strings.HasSuffix(text, "\\"):
		return true, nil
	case err == nil, bytes.Contains(out, []byte("unexpected end of file")), bytes.Contains(out, []byte("unexpected EOF")):
		return false, nil
	}
	return false, fmt.Errorf("bash cannot parse %q: %s", text, out)
}

// TestReadmeCommandsExtracted: the blocks fenced ```sh are run, ```sh
// no-run and other languages are not; a command runs on until bash finds
// it complete; comments are left out.
func TestReadmeCommandsExtracted(t *testing.T) {
	md := "# T\n\n```sh\nslipway a   # one\n# a comment\n\ncurl -H x \\\n  http://h/\nbody='{\n}'\n```\n\n```sh no-run\nslipway never\n```\n\n" +
		"```yaml\nkey: value\n```\n\n```\nplain\n```\n\n```bash\nslipway b\n```\n"
	got, err := readmeCommands(md)
	if err != nil {
		t.Fatal(err)
	}
	want := []readmeCommand{{4, "slipway a   # one"}, {7, "curl -H x \\\n  http://h/"}, {9, "body='{\n}'"}, {26, "slipway b"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("readmeCommands() = %v\nwant %v", got, want)
	}
	if _, err := readmeCommands("```sh\necho 'open\n```\n"); err == nil {
		t.Error("a command left open at the end of its block: no error")
	}
}

// upLine matches the command line that starts Slipway.
var upLine = regexp.MustCompile(`^\s*(\w+=\S*\s+)*(slipway|go run \./cmd/slipway) up(\s|$)`)

// TestReadmeCommands runs every command line of the README's shell blocks,
// exactly as printed and in order, against a real `slipway up` (embedded
// NATS, BuildKit, Docker): the line starting it runs in the background, and
// once it answers the test pushes two commits of the sample monorepo as
// acme/shop would be pushed by its git host. The test sets only the
// environment (HOME, GOBIN on PATH and Go's caches, WEBHOOK_SECRET,
// SLIPWAY_HOME, free ports).
func TestReadmeCommands(t *testing.T) {
	requireComponents(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := readmeCommands(string(md))
	if err != nil {
		t.Fatal(err)
	}
	ups := 0
	for _, c := range cmds {
		if upLine.MatchString(c.text) {
			ups++
		}
	}
	if ups != 1 || len(cmds) < 10 {
		t.Fatalf("README.md has %d command lines, %d starting slipway up; want one, among many", len(cmds), ups)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	r := newReadmeRun(t, root)
	defer r.stop()
	for _, c := range cmds {
		if upLine.MatchString(c.text) {
			r.up(ctx, c)
			r.pushSample(ctx)
			continue
		}
		r.run(ctx, c)
	}
}

// readmeRun is the shell session the README's commands run in.
type readmeRun struct {
	t        *testing.T
	root     string // the Slipway checkout: the working directory
	home     string
	env      []string
	secret   string
	proxy    string
	upCmd    *exec.Cmd
	upLog    *os.File
	upDone   chan error
	slipHome string
}

func newReadmeRun(t *testing.T, root string) *readmeRun {
	tmp := t.TempDir()
	r := &readmeRun{t: t, root: root, home: filepath.Join(tmp, "home"), secret: randomSecret(), proxy: freeAddr(t), slipHome: filepath.Join(tmp, "slipway")}
	bin := filepath.Join(tmp, "bin")
	for _, d := range []string{r.home, bin, r.slipHome} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SLIPWAY_") && name != "SLIPWAY_REGISTRY" || name == "HOME" || name == "GOBIN" || name == "PATH" {
			continue
		}
		r.env = append(r.env, kv)
	}
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	r.env = append(r.env,
		"HOME="+r.home, "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOPATH="+goEnv("GOPATH"), "GOCACHE="+goEnv("GOCACHE"), "GOMODCACHE="+goEnv("GOMODCACHE"),
		"WEBHOOK_SECRET="+r.secret, "SLIPWAY_HOME="+r.slipHome,
		"SLIPWAY_HTTP_ADDR=127.0.0.1:0", "SLIPWAY_PROXY_ADDR="+r.proxy, "SLIPWAY_NATS_PORT=-1",
	)
	if b := os.Getenv("BUILDKIT_HOST"); b != "" {
		r.env = append(r.env, "SLIPWAY_BUILDKIT_HOST="+b)
	}
	t.Cleanup(func() { removeRepoEnv(t, sample.RepoName, "staging") })
	return r
}

// command is c run by bash in the checkout, in the session's environment.
func (r *readmeRun) command(ctx context.Context, c readmeCommand) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "-c", c.text)
	cmd.Dir, cmd.Env = r.root, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// run runs c to its end; it must exit 0.
func (r *readmeRun) run(ctx context.Context, c readmeCommand) {
	r.t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 6*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := r.command(cctx, c).CombinedOutput()
	r.t.Logf("README.md:%d: $ %s\n%s(%s)", c.line, c.text, out, time.Since(start).Round(time.Millisecond))
	if err != nil {
		r.t.Errorf("README.md:%d: %q: %v\n%s", c.line, c.text, err, out)
	}
}

// up starts c in the background and waits until Slipway answers webhooks.
func (r *readmeRun) up(ctx context.Context, c readmeCommand) {
	r.t.Helper()
	r.t.Logf("README.md:%d: $ %s &", c.line, c.text)
	log, err := os.Create(filepath.Join(r.slipHome, "up.log"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.upLog = log
	cmd := r.command(context.WithoutCancel(ctx), c)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.upCmd, r.upDone = cmd, make(chan error, 1)
	go func() { r.upDone <- cmd.Wait() }()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if st, ok, _ := pipeline.ReadState(filepath.Join(r.slipHome, "data")); ok && st.HTTPAddr != "" {
			return
		}
		select {
		case err := <-r.upDone:
			r.upDone <- err
			r.t.Fatalf("README.md:%d: %q ended: %v\n%s", c.line, c.text, err, r.upOutput())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("README.md:%d: slipway up wrote no state:\n%s", c.line, r.upOutput())
		}
	}
}

// pushSample pushes two commits of the sample monorepo as acme/shop, with
// their signed webhooks, clones it to ~/shop, and waits until staging
// serves the second commit and has recorded it.
func (r *readmeRun) pushSample(ctx context.Context) {
	t := r.t
	t.Helper()
	dataDir := filepath.Join(r.slipHome, "data")
	st, _, err := pipeline.ReadState(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sample.New(ctx, t.TempDir(), r.secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg := pipeline.DefaultConfig()
	cfg.DataDir, cfg.NATSURL = dataDir, st.NATSURL
	conn, err := pipeline.AttachOperator(&cfg, "readme-test")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i, msg := range []string{"Add web and api services", "Say hello differently"} {
		if i > 0 {
			if err := s.WriteFile("services/web/index.txt", "second commit\n"); err != nil {
				t.Fatal(err)
			}
		}
		p, err := s.Commit(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		r.sendWebhook(ctx, p, "http://"+st.HTTPAddr+"/webhooks/github")
		// A service whose image and values a container of staging already
		// has keeps that container (or revives a retained one, as after
		// `slipway demo` on the same machine): it answers with the commit
		// it was started at. Every other one answers with this commit.
		services := []string{"web", "api"}
		srv := cfg
		srv.ProxyAddr = r.proxy
		answers, err := waitEnvServing(ctx, &srv, sample.RepoName, "staging", p.After, services, 5*time.Minute)
		if err != nil {
			t.Fatalf("staging never served %s: %v\n%s", p.After[:12], err, r.upOutput())
		}
		for _, svc := range services {
			if want := svc + " " + startedAt(t, ctx, "staging", svc); answers[svc] != want {
				t.Fatalf("%s answers %q after %s, want %q", svc, answers[svc], p.After[:12], want)
			}
		}
		if i > 0 {
			// The second commit changes web only: api must not restart.
			if web, api := startedAt(t, ctx, "staging", "web"), startedAt(t, ctx, "staging", "api"); web == api {
				t.Fatalf("web and api both started at %s: api was restarted for a change to web only", web[:12])
			}
		}
		if err := waitRecorded(ctx, conn, "staging", p.After); err != nil {
			t.Fatal(err)
		}
		t.Logf("pushed %s %q: staging serves it", p.After[:12], msg)
	}
	if out, err := exec.CommandContext(ctx, "git", "clone", "-q", s.Server.URL(sample.RepoName), filepath.Join(r.home, "shop")).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
}

// sendWebhook sends p's webhook until the receiver accepts it: it may
// still be starting.
func (r *readmeRun) sendWebhook(ctx context.Context, p sample.Push, url string) {
	r.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		code, body, err := p.Send(ctx, url, r.secret, "")
		if err == nil && code/100 == 2 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("webhook: %d %s %v\n%s", code, body, err, r.upOutput())
		}
	}
}

// stop interrupts `slipway up` and waits for it, then kills what is left.
func (r *readmeRun) stop() {
	if r.upCmd == nil {
		return
	}
	_ = syscall.Kill(-r.upCmd.Process.Pid, syscall.SIGINT)
	select {
	case err := <-r.upDone:
		if err != nil {
			r.t.Logf("slipway up ended: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-r.upCmd.Process.Pid, syscall.SIGKILL)
		if err := <-r.upDone; err != nil {
			r.t.Logf("slipway up killed: %v", err)
		}
		r.t.Error("slipway up did not stop within 30s of SIGINT")
	}
	if r.t.Failed() {
		r.t.Logf("slipway up:\n%s", r.upOutput())
	}
	r.upLog.Close()
}

// upOutput is the end of what `slipway up` printed.
func (r *readmeRun) upOutput() string {
	b, _ := os.ReadFile(filepath.Join(r.slipHome, "up.log"))
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}
