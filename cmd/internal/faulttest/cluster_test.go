package faulttest_test

import (
	"context"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/cmd/internal/faulttest"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// TestClusterLosesANode runs Slipway on a 3-node JetStream cluster on
// loopback with every stream, consumer and bucket replicated three times:
// a commit goes from webhook to staging; then the node leading the stream is
// killed (-9) and the next commit still does, on the two nodes left.
func TestClusterLosesANode(t *testing.T) {
	opts := faulttest.DefaultOptions()
	opts.NATS = faulttest.StartNATSCluster(t, 3, faulttest.NATSOptions{})
	opts.Topology.Replicas = 3
	s := faulttest.Start(t, opts)
	replicated(t, s)
	p1 := s.Push("first")
	s.WaitServing(p1.After, 3*time.Minute)

	leader := streamLeader(t, s)
	for _, n := range s.NATS {
		if n.Name == leader {
			n.Kill()
			t.Logf("killed %s, the leader of stream %s", n.Name, natsjs.StreamName)
		}
	}
	touch(s, "web")
	p2 := s.Push("after losing a node")
	s.WaitServing(p2.After, 3*time.Minute)
	s.WaitIdle(2 * time.Minute)
	s.Check(faulttest.Want{Final: p2.After})
	t.Logf("stream %s now led by %s", natsjs.StreamName, streamLeader(t, s))
}

func streamLeader(t *testing.T, s *faulttest.Slipway) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.JS.Stream(ctx, natsjs.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.Cluster.Leader
}

// replicated checks that the stream and every bucket have three replicas.
func replicated(t *testing.T, s *faulttest.Slipway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{natsjs.StreamName, "KV_" + natsjs.BucketClaims, "KV_" + natsjs.BucketEnvs, "KV_" + natsjs.BucketLocks, natsjs.DeadLetterStream} {
		st, err := s.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Errorf("stream %s: %d replicas configured, %+v", name, info.Config.Replicas, info.Cluster)
		}
	}
}
