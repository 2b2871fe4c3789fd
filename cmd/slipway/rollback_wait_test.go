package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
	"github.com/slipway-dev/slipway/natsstore"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// syncBuffer is a strings.Builder safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRollbackWaitsForInFlightDeploy: a rollback asked while a deploy of
// the environment is in flight (requested, not yet done) waits for it and
// goes back from it, instead of failing with "0 earlier commit(s)".
func TestRollbackWaitsForInFlightDeploy(t *testing.T) {
	up := openUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := up.Conn()
	// The rollback reads the history from the read model: its projector
	// runs as a deployer's would.
	pctx, stop := context.WithCancel(ctx)
	projected := make(chan error, 1)
	go func() { projected <- pipeline.RunProjector(pctx, &up.Config, c) }()
	t.Cleanup(func() {
		stop()
		if err := <-projected; err != nil && pctx.Err() == nil {
			t.Errorf("projector: %v", err)
		}
	})
	pub := natsjs.NewPublisher(c.JS, "/test")
	repo := events.Repo{FullName: "acme/shop"}
	img := []events.Image{{Service: events.ServiceSpec{Name: "web", Port: 8080}, Ref: "r/web:x", Digest: "sha256:" + strings.Repeat("a", 64)}}
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	reqA := &events.DeployRequested{Env: "production", Repo: repo, Commit: a, Images: img, Kind: events.KindAuto}
	reqB := &events.DeployRequested{Env: "production", Repo: repo, Commit: b, Images: img, Kind: events.KindAuto}
	claims, err := c.Claims(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A deployed and done; B requested, its deploy running.
	for _, ev := range []events.Event{reqA, reqA.Result(events.OutcomeSucceeded, "", time.Now()).Event(), reqB} {
		if _, err := pub.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(req *events.DeployRequested) {
		l, err := claims.Claim(ctx, req.DedupKey(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		done, _ := json.Marshal(deploy.Done{Outcome: events.OutcomeSucceeded, Kind: req.Kind})
		if err := l.Complete(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	complete(reqA)

	var out syncBuffer
	errc := make(chan error, 1)
	go func() {
		_, err := rollback(ctx, c, "acme/shop", "production", 1, "", deliberate{Actor: "op", Wait: 30 * time.Second}, &out)
		errc <- err
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "waiting for the deploy of "+b[:12]); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-errc:
			t.Fatalf("rollback during B's deploy ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollback does not wait for B:\n%s", out.String())
		}
	}
	// B's deploy ends: the rollback goes back to A.
	if _, err := pub.Publish(ctx, reqB.Result(events.OutcomeSucceeded, a, time.Now()).Event()); err != nil {
		t.Fatal(err)
	}
	complete(reqB)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		latest, err := natsstore.NewDeployQueue(c.JS).Latest(ctx, "acme/shop", "production")
		if err != nil {
			t.Fatal(err)
		}
		if latest.Kind == events.KindRollback {
			if latest.Commit != a {
				t.Errorf("rollback requested %s, want A", latest.Commit[:12])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback requested:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "rolling production back from "+b[:12]+" to "+a[:12]) {
		t.Errorf("rollback says:\n%s", out.String())
	}
	cancel()
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("rollback, cancelled while it waits for its deploy: %v", err)
	}
}
