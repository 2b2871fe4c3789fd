package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/slipway-dev/slipway/cmd/internal/pipeline"
	"github.com/slipway-dev/slipway/cmd/internal/sample"
	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestForgedPushIsNotBuilt publishes on the bus, with the admin's key as a
// compromised bus would, push events ingest would never have sent, about a
// real commit with a valid slipway.yaml: the builder consumes each and
// builds nothing (no build request, no build claim).
func TestForgedPushIsNotBuilt(t *testing.T) {
	requireComponents(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := startSlipway(t, ctx)
	s, err := sample.New(ctx, t.TempDir(), "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Commit(ctx, "Add web and api")
	if err != nil {
		t.Fatal(err)
	}
	bare := "file://" + filepath.Join(s.Server.Root, sample.RepoName+".git")
	tests := []struct {
		name string
		repo events.Repo
	}{
		{"file clone url", events.Repo{Forge: "github", FullName: sample.RepoName, CloneURL: bare, DefaultBranch: "main"}},
		{"unknown repository", events.Repo{Forge: "github", FullName: "other/tenant", CloneURL: p.CloneURL, DefaultBranch: "main"}},
	}
	js := e.up.Conn().JS
	var last uint64
	// Every consumer of pushes has handled them before the test stops
	// Slipway: watermill-nats v2.1.3 races closing a subscriber's channel
	// against a message it is still handing over.
	defer func() {
		if last > 0 {
			waitHandled(t, ctx, js, pipeline.ConsumerReleasePush, last)
		}
	}()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &events.PushReceived{Repo: tt.repo, Ref: "refs/heads/main", Branch: "main", Before: zeroSHA, After: p.After}
			env, err := events.NewEnvelope(ev, "/forged", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			env.ID += "." + tt.name
			ack, err := js.PublishMsg(ctx, natsjs.EncodeMsg(ev.Subject(), env))
			if err != nil {
				t.Fatal(err)
			}
			last = ack.Sequence
			waitHandled(t, ctx, js, pipeline.ConsumerPush, ack.Sequence)
			requested, err := natsjs.Events(ctx, js, events.SubjectBuildRequested)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range requested {
				if b, err := r.Decode(); err == nil && b.(*events.BuildRequested).Commit == p.After && b.(*events.BuildRequested).Repo.FullName == tt.repo.FullName {
					t.Errorf("build of %s requested: %s", b.(*events.BuildRequested).Service.Name, r.ID)
				}
			}
			kv, err := js.KeyValue(ctx, natsjs.BucketClaims)
			if err != nil {
				t.Fatal(err)
			}
			for _, svc := range []string{"web", "api"} {
				if _, err := kv.Get(ctx, events.BuildKey(tt.repo.FullName, p.After, svc)); !errors.Is(err, jetstream.ErrKeyNotFound) {
					t.Errorf("build claim of %s: %v, want none", svc, err)
				}
			}
		})
	}
}

const zeroSHA = "0000000000000000000000000000000000000000"

// waitHandled waits until consumer has acknowledged stream sequence seq.
func waitHandled(t *testing.T, ctx context.Context, js jetstream.JetStream, consumer string, seq uint64) {
	t.Helper()
	c, err := js.Consumer(ctx, natsjs.StreamName, consumer)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream >= seq && info.NumAckPending == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not handle stream sequence %d within 2 minutes", consumer, seq)
}
