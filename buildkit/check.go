package buildkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/checks"
)

var _ checks.Runner = (*Builder)(nil)

// checkStage is the stage a check's command runs in, appended to the
// service's Dockerfile.
const checkStage = "slipway-check"

// checkLogLines bounds the output a check run keeps.
const checkLogLines = 200

// RunCheck builds req's Dockerfile up to req.Target (its last stage when
// empty) and runs req.Run as one more RUN step on it, exporting nothing.
// The step has no network unless req.Network, like every build. A command
// exiting non-zero, or a stage failing before it, is a failed Result; only
// an unreachable buildkitd is an error.
func (b *Builder) RunCheck(ctx context.Context, req checks.Request) (checks.Result, error) {
	dockerfile, err := checkDockerfile(req)
	if err != nil {
		return checks.Result{Reason: err.Error()}, nil
	}
	dir, err := os.MkdirTemp("", "slipway-check-")
	if err != nil {
		return checks.Result{}, fmt.Errorf("run check: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), dockerfile, 0o600); err != nil {
		return checks.Result{}, fmt.Errorf("run check: %w", err)
	}
	opt, release, err := b.checkSolveOpt(req, dir)
	if err != nil {
		return checks.Result{Reason: err.Error()}, nil
	}
	defer release()
	return b.solveCheck(ctx, opt)
}

// checkSolveOpt is the solve of a check: the service's context, the
// rewritten Dockerfile in dir, the check stage as target, no export.
func (b *Builder) checkSolveOpt(req checks.Request, dir string) (client.SolveOpt, func(), error) {
	contextFS, _, release, err := openContext(req.Request)
	if err != nil {
		return client.SolveOpt{}, nil, err
	}
	dockerfileFS, err := fsutil.NewFS(dir)
	if err != nil {
		release()
		return client.SolveOpt{}, nil, fmt.Errorf("open check Dockerfile: %w", err)
	}
	attrs := frontendAttrs("Dockerfile", req.BuildArgs, req.Network)
	attrs["target"] = checkStage
	attrs["no-cache"] = checkStage // a check runs each time it is asked; its stages stay cached
	return client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		SourcePolicy:  b.policy,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": dockerfileFS},
		SharedKey:     req.ContextDir,
		Session:       []session.Attachable{b.authSession("")}, // private base images
	}, release, nil
}

// solveCheck runs the solve and turns its end into a Result.
func (b *Builder) solveCheck(ctx context.Context, opt client.SolveOpt) (checks.Result, error) {
	p := newProgress(logger(ctx, checkStage))
	var out outputTail
	ch := make(chan *client.SolveStatus)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		_, err := b.c.Solve(gctx, nil, opt, ch)
		return err
	})
	g.Go(func() error {
		for s := range ch {
			for _, v := range s.Vertexes {
				p.vertex(v)
			}
			for _, l := range s.Logs {
				p.output(l)
				out.add(l.Data)
			}
		}
		return nil
	})
	err := g.Wait()
	switch {
	case err == nil:
		return checks.Result{Passed: true, Log: out.lines()}, nil
	case ctx.Err() != nil:
		return checks.Result{Log: out.lines()}, fmt.Errorf("run check: %w", ctx.Err())
	}
	err = classify(err, checkStage, p.failed(err))
	if !events.IsPermanent(err) {
		return checks.Result{}, err
	}
	reason := err.Error()
	var se *StepError
	if errors.As(err, &se) {
		reason = se.Step + ": " + excerpt(strings.TrimPrefix(se.Err.Error(), "failed to solve: "), maxMessage)
	}
	return checks.Result{Reason: reason, Log: out.lines()}, nil
}

// outputTail keeps the last checkLogLines lines of a solve's output.
type outputTail struct {
	tail    []string
	partial string
}

func (t *outputTail) add(data []byte) {
	parts := strings.Split(t.partial+string(data), "\n")
	t.partial = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		t.tail = append(t.tail, strings.TrimRight(l, "\r"))
	}
	if len(t.tail) > checkLogLines {
		t.tail = t.tail[len(t.tail)-checkLogLines:]
	}
}

func (t *outputTail) lines() []string {
	if t.partial != "" {
		return append(t.tail, t.partial)
	}
	return t.tail
}

// fromLine matches a FROM instruction: its image and its optional stage name.
var fromLine = regexp.MustCompile(`(?i)^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$`)

// checkDockerfile returns the service's Dockerfile, read through the
// checkout, with the check stage appended: FROM the target stage (or the
// last one, named if it has no name), RUN the command.
func checkDockerfile(req checks.Request) ([]byte, error) {
	checkout := req.Checkout
	if checkout == "" {
		checkout = req.ContextDir
	}
	rel, err := filepath.Rel(checkout, req.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("check: Dockerfile %s outside the checkout", req.Dockerfile)
	}
	root, err := os.OpenRoot(checkout)
	if err != nil {
		return nil, fmt.Errorf("check: open checkout: %w", err)
	}
	defer root.Close()
	data, err := root.ReadFile(rel)
	if err != nil {
		return nil, fmt.Errorf("check: read Dockerfile: %w", err)
	}
	return appendCheckStage(string(data), req.Target, req.Run)
}

// appendCheckStage appends the check stage to the Dockerfile text df.
func appendCheckStage(df, target, run string) ([]byte, error) {
	lines := strings.Split(df, "\n")
	last := -1
	for i, l := range lines {
		if fromLine.MatchString(l) {
			last = i
		}
	}
	if last < 0 {
		return nil, errors.New("check: the Dockerfile has no FROM line")
	}
	base := target
	if base == "" {
		m := fromLine.FindStringSubmatch(lines[last])
		if base = m[2]; base == "" {
			base = checkStage + "-base"
			lines[last] = strings.TrimRight(lines[last], " \t\r") + " AS " + base
		}
	}
	return []byte(strings.Join(lines, "\n") + "\nFROM " + base + " AS " + checkStage + "\nRUN " + run + "\n"), nil
}
