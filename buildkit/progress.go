package buildkit

import (
	"context"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
	"github.com/rs/zerolog"

	"github.com/slipway-dev/slipway/workflows/build"
)

// Bounds on what is kept of a step's output for its error.
const (
	tailLines    = 10
	tailLineSize = 512
)

// progress consumes the status stream of one solve: it logs each step at
// debug level and remembers enough to explain a failure.
type progress struct {
	log      zerolog.Logger
	vertices map[digest.Digest]*vertex
	order    []digest.Digest
	// sink, when set, receives the steps and lines as they come.
	sink build.Log
}

// vertex is what progress knows of one step.
type vertex struct {
	name      string
	started   bool
	completed bool
	err       string
	tail      []string
	partial   string
}

// logger returns the context's logger with the image being built.
func logger(ctx context.Context, image string) zerolog.Logger {
	return zerolog.Ctx(ctx).With().Str("image", image).Logger()
}

func newProgress(log zerolog.Logger) *progress {
	return &progress{log: log, vertices: map[digest.Digest]*vertex{}}
}

// drain reads ch until it is closed; Solve blocks until its status is read.
func (p *progress) drain(ch <-chan *client.SolveStatus) {
	for s := range ch {
		for _, v := range s.Vertexes {
			p.vertex(v)
		}
		for _, l := range s.Logs {
			p.output(l)
		}
		for _, w := range s.Warnings {
			p.log.Debug().Str("step", p.get(w.Vertex).name).Bytes("warning", w.Short).Msg("build warning")
		}
	}
}

// get returns the vertex for d, creating it.
func (p *progress) get(d digest.Digest) *vertex {
	v, ok := p.vertices[d]
	if !ok {
		v = &vertex{}
		p.vertices[d] = v
		p.order = append(p.order, d)
	}
	return v
}

// vertex records a step update and logs its start and end.
func (p *progress) vertex(u *client.Vertex) {
	v := p.get(u.Digest)
	v.name = u.Name
	if u.Started != nil && !v.started {
		v.started = true
		p.log.Debug().Str("step", v.name).Msg("build step started")
		p.step(v.name, "started")
	}
	if u.Completed != nil && !v.completed {
		v.completed = true
		v.err = u.Error
		ev := p.log.Debug().Str("step", v.name).Bool("cached", u.Cached)
		if u.Started != nil {
			ev = ev.Dur("duration", u.Completed.Sub(*u.Started))
		}
		if u.Error != "" {
			ev = ev.Str("error", u.Error)
		}
		ev.Msg("build step done")
		p.step(v.name, stepStatus(u))
	}
}

// output logs a chunk of a step's output and keeps its last lines.
func (p *progress) output(l *client.VertexLog) {
	v := p.get(l.Vertex)
	text := v.partial + string(l.Data)
	lines := strings.Split(text, "\n")
	v.partial = lines[len(lines)-1]
	for _, line := range lines[:len(lines)-1] {
		line = strings.TrimRight(line, "\r")
		p.log.Debug().Str("step", v.name).Msg(line)
		if p.sink != nil {
			p.sink.Line(v.name, line)
		}
		v.keep(line)
	}
	if len(v.partial) > tailLineSize {
		v.keep(v.partial)
		v.partial = ""
	}
}

// keep appends line to the bounded tail of the step's output.
func (v *vertex) keep(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(line) > tailLineSize {
		line = line[:tailLineSize] + "…"
	}
	v.tail = append(v.tail, line)
	if len(v.tail) > tailLines {
		v.tail = v.tail[len(v.tail)-tailLines:]
	}
}

// cacheImport starts the name of the step that imports a registry cache:
// on a first build its tag does not exist yet, and the step "fails"
// without failing the build, so it never explains a failure.
const cacheImport = "importing cache manifest from "

// failed returns the step that caused the solve to fail with err: the one
// whose error err carries, else the first that failed; never a cache
// import. It returns nil when no step failed.
func (p *progress) failed(err error) *StepError {
	var first *vertex
	for _, d := range p.order {
		v := p.vertices[d]
		if v.err == "" || strings.HasPrefix(v.name, cacheImport) {
			continue
		}
		if err != nil && strings.Contains(err.Error(), v.err) {
			first = v
			break
		}
		if first == nil {
			first = v
		}
	}
	if first == nil {
		return nil
	}
	return first.stepError()
}

// stepError is the StepError of a failed step.
func (v *vertex) stepError() *StepError {
	{
		out := v.tail
		if strings.TrimSpace(v.partial) != "" {
			out = append(out[:len(out):len(out)], v.partial)
		}
		return &StepError{Step: v.name, Output: out}
	}
}
