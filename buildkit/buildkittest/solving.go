package buildkittest

import (
	"context"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
)

// WaitSolving waits until buildkitd at addr runs a solve that exports image
// (its build history lists the solve as active) and fails the test when
// none starts within timeout. A fault test uses it to strike while a build
// is in BuildKit's hands, instead of guessing with a sleep.
func WaitSolving(tb testing.TB, addr, image string, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for ctx.Err() == nil {
		ok, err := solving(ctx, addr, image)
		if ok {
			return
		}
		tb.Logf("watch buildkitd's builds: %v", err)
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond): // buildkitd restarting: ask again
		}
	}
	tb.Fatalf("no solve of %s started on %s within %s", image, addr, timeout)
}

// solving follows buildkitd's active builds until one exports image; it
// returns the error that ended the watch otherwise.
func solving(ctx context.Context, addr, image string) (bool, error) {
	c, err := client.New(ctx, addr)
	if err != nil {
		return false, err
	}
	defer func() { _ = c.Close() }() // nothing left to report on a watch that ended
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{ActiveOnly: true})
	if err != nil {
		return false, err
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return false, err
		}
		if ev.Type == controlapi.BuildHistoryEventType_STARTED && exports(ev.Record, image) {
			return true, nil
		}
	}
}

// exports reports whether the build record pushes or stores image.
func exports(rec *controlapi.BuildHistoryRecord, image string) bool {
	if rec == nil {
		return false
	}
	for _, e := range rec.Exporters {
		if e.Type == client.ExporterImage && e.Attrs["name"] == image {
			return true
		}
	}
	return false
}
