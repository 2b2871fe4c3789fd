package buildkit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/opencontainers/go-digest"
	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
)

func TestClassify(t *testing.T) {
	step := func() *StepError { return &StepError{Step: "[2/2] RUN make", Output: []string{"a", "b", "c", "d"}} }
	tests := []struct {
		name string
		err  error
		step *StepError
		want string // "retryable", "permanent" or "other"
	}{
		{"grpc unavailable", status.Error(codes.Unavailable, "connection error"), nil, "retryable"},
		{"wrapped grpc unavailable", fmt.Errorf("failed to dial gRPC: %w", status.Error(codes.Unavailable, "x")), nil, "retryable"},
		{"push refused", errors.New(`failed to push: dial tcp 127.0.0.1:5000: connect: connection refused`), step(), "retryable"},
		{"push timeout", errors.New(`failed to push: i/o timeout`), step(), "retryable"},
		{"disk full", errors.New(`write /var/lib/buildkit/x: no space left on device`), step(), "retryable"},
		{"registry 503", errors.New(`unexpected status: 503 Service Unavailable`), nil, "retryable"},
		{"corrupted blob upload", errors.New(`failed to push r/i:t: errors: unknown: provided digest did not match uploaded content unknown: blob unknown to registry`), step(), "retryable"},
		{"failed RUN", errors.New(`process "/bin/sh -c make" did not complete successfully: exit code: 2`), step(), "permanent"},
		{"any failed step", errors.New(`something new`), step(), "permanent"},
		{"parse error", errors.New(`failed to solve: dockerfile parse error on line 1: unknown instruction: FORM`), nil, "permanent"},
		{"grpc invalid argument", status.Error(codes.InvalidArgument, "bad"), nil, "permanent"},
		{"unknown", errors.New(`buildkitd hiccup`), nil, "other"},
		{"push: digest did not match", errors.New(`importing cache manifest from r/c:buildcache: failed to push r/i:t: errors: unknown: provided digest did not match uploaded content unknown: blob unknown to registry`), step(), "retryable"},
		{"push: registry 500", errors.New(`failed to push r/i:t: failed commit on ref "layer-sha256:ab": unexpected status from PUT request to http://r/v2/i/blobs/uploads/x: 500 Internal Server Error`), step(), "retryable"},
		{"RUN printing a push failure", &gwpb.ExitError{ExitCode: 1, Err: errors.New("failed to push: exit code: 1")}, step(), "permanent"},
		{"snapshot left by a killed buildkitd", errors.New(`failed to read dockerfile: failed to prepare  as lbrex29g9ze17ksp77rariyem: failed to rename: rename /var/lib/slipway/buildkit/runc-overlayfs/snapshots/snapshots/new-749867030 /var/lib/slipway/buildkit/runc-overlayfs/snapshots/snapshots/16005: file exists`), step(), "retryable"},
		{"base image not found", errors.New(`failed to resolve source metadata for r/nope:v0: unexpected status: 404 Not Found`), nil, "permanent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(tt.err, "r/i:t", tt.step)
			var re *events.RetryableError
			got := "other"
			switch {
			case errors.As(err, &re):
				got = "retryable"
			case events.IsPermanent(err):
				got = "permanent"
			}
			if got != tt.want {
				t.Errorf("classify() = %v (%s), want %s", err, got, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("classify() = %v, does not wrap %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), "r/i:t") {
				t.Errorf("classify() = %v, does not name the image", err)
			}
		})
	}
}

// TestFailedStepIsTheCause: the step blamed is the one whose error the
// solve failed with, never the cache import a first build reports failed.
func TestFailedStepIsTheCause(t *testing.T) {
	p := newProgress(zerolog.Nop())
	now := time.Now()
	ch := make(chan *client.SolveStatus, 3)
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: digest.FromString("c"), Name: "importing cache manifest from r/c:buildcache", Started: &now, Completed: &now, Error: "r/c:buildcache: not found"}}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: digest.FromString("b"), Name: "[2/3] RUN true", Started: &now, Completed: &now, Error: "unrelated"}}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: digest.FromString("r"), Name: "[3/3] RUN make", Started: &now, Completed: &now, Error: "exit code: 2"}}}
	close(ch)
	p.drain(ch)
	if got := p.failed(errors.New(`process "make" did not complete successfully: exit code: 2`)); got == nil || got.Step != "[3/3] RUN make" {
		t.Errorf("failed() = %+v, want [3/3] RUN make", got)
	}
	if got := p.failed(errors.New("something else")); got == nil || got.Step != "[2/3] RUN true" {
		t.Errorf("failed() = %+v, want the first failing step but the cache import", got)
	}
}

func TestStepErrorMessage(t *testing.T) {
	err := &StepError{
		Image:  "localhost:5000/acme/web:abc",
		Step:   "[2/2] RUN make",
		Output: []string{"one", "two", "three", "four"},
		Err:    errors.New("failed to solve: exit code: 2"),
	}
	want := "build localhost:5000/acme/web:abc: [2/2] RUN make: exit code: 2 (output: two | three | four)"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
}

func TestPlainHTTP(t *testing.T) {
	tests := []struct {
		ref     string
		want    bool
		wantErr bool
	}{
		{"localhost:5000/acme/web:abc", true, false},
		{"localhost/acme/web", true, false},
		{"127.0.0.1:5000/acme/web:abc", true, false},
		{"[::1]:5000/acme/web:abc", true, false},
		{"registry.example.com/acme/web:abc", false, false},
		{"10.0.0.1:5000/acme/web:abc", false, false},
		{"acme/web", false, false},
		{"Acme/Web", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		got, err := plainHTTP(registry.Access{}, tt.ref)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("plainHTTP(%q) = %v, %v; want %v, error %v", tt.ref, got, err, tt.want, tt.wantErr)
		}
		// A CA makes every registry HTTPS, loopback ones too.
		if got, _ := plainHTTP(registry.Access{CAFile: "ca.pem"}, tt.ref); got {
			t.Errorf("plainHTTP(%q) with a CA = true, want HTTPS", tt.ref)
		}
	}
}

func TestProgressKeepsFailingStepOutput(t *testing.T) {
	p := newProgress(zerolog.Nop())
	ok, bad := digest.FromString("ok"), digest.FromString("bad")
	now := time.Now()
	ch := make(chan *client.SolveStatus, 4)
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: ok, Name: "[1/2] FROM x", Started: &now, Completed: &now}}}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: bad, Name: "[2/2] RUN make", Started: &now}}}
	var logs []*client.VertexLog
	for i := range 15 {
		logs = append(logs, &client.VertexLog{Vertex: bad, Data: fmt.Appendf(nil, "line %d\nhalf ", i)})
	}
	logs = append(logs, &client.VertexLog{Vertex: bad, Data: []byte("done\r\n" + strings.Repeat("x", 600))})
	ch <- &client.SolveStatus{Logs: logs}
	ch <- &client.SolveStatus{Vertexes: []*client.Vertex{{Digest: bad, Name: "[2/2] RUN make", Started: &now, Completed: &now, Error: "exit code: 2"}}}
	close(ch)
	p.drain(ch)

	got := p.failed(errors.New("process did not complete successfully: exit code: 2"))
	if got == nil || got.Step != "[2/2] RUN make" {
		t.Fatalf("failed() = %+v, want step [2/2] RUN make", got)
	}
	if len(got.Output) != tailLines {
		t.Errorf("kept %d lines, want %d: %q", len(got.Output), tailLines, got.Output)
	}
	if last := got.Output[len(got.Output)-1]; !strings.HasPrefix(last, "xxx") || len(last) > tailLineSize+len("…") {
		t.Errorf("last line = %q, want a truncated partial line", last)
	}
	if prev := got.Output[len(got.Output)-2]; prev != "half done" {
		t.Errorf("line = %q, want chunks joined and \\r trimmed", prev)
	}
}
