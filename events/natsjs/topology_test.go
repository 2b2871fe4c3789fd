package natsjs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/events/natsjs"
)

// The durable consumers of the tests' topology, as the wiring declares
// them (cmd/internal/pipeline may not be imported from here).
const (
	consumerPush   = "builder-push"
	consumerDeploy = "deployer-deploy"
)

// testTopology is the default topology with a builder's and a deployer's
// consumer.
func testTopology() natsjs.Topology {
	t := natsjs.DefaultTopology()
	t.Consumers = []natsjs.Consumer{
		{Name: consumerPush, Role: natsjs.RoleBuilder, Subjects: []string{events.SubjectPushReceived}, MaxAckPending: 256},
		{Name: consumerDeploy, Role: natsjs.RoleDeployer, Subjects: []string{events.SubjectDeployRequested + ".>"}, MaxAckPending: 64},
	}
	return t
}

// TestProvisionAppliesTheDeclaration: each consumer is created as
// declared, its zero settings taken from the topology.
func TestProvisionAppliesTheDeclaration(t *testing.T) {
	topo := testTopology()
	topo.Consumers = append(topo.Consumers, natsjs.Consumer{
		Name: "notify", Role: natsjs.RoleDeployer, MaxAckPending: 1, DeliverNew: true, AckWait: 7 * time.Second, MaxDeliver: 3,
		Subjects: []string{events.SubjectBuildFailed, events.SubjectCommitFailed},
	})
	_, js := natsjs.MustJetStream(t, natsjs.MustServerWith(t, topo).ClientURL())
	ctx := context.Background()
	push, err := js.Consumer(ctx, natsjs.StreamName, consumerPush)
	if err != nil {
		t.Fatal(err)
	}
	if c := push.CachedInfo().Config; c.FilterSubject != events.SubjectPushReceived || c.AckWait != topo.AckWait ||
		c.MaxDeliver != topo.MaxDeliver || c.MaxAckPending != 256 || c.DeliverPolicy.String() != "all" {
		t.Errorf("push consumer = %+v", c)
	}
	notify, err := js.Consumer(ctx, natsjs.StreamName, "notify")
	if err != nil {
		t.Fatal(err)
	}
	if c := notify.CachedInfo().Config; len(c.FilterSubjects) != 2 || c.AckWait != 7*time.Second ||
		c.MaxDeliver != 3 || c.MaxAckPending != 1 || c.DeliverPolicy.String() != "new" {
		t.Errorf("notify consumer = %+v", c)
	}
}

// TestTopologyValidateConsumers: a declaration JetStream or the
// permissions would refuse is reported before anything is provisioned.
func TestTopologyValidateConsumers(t *testing.T) {
	ok := natsjs.Consumer{Name: "c", Role: natsjs.RoleBuilder, Subjects: []string{events.SubjectPushReceived}, MaxAckPending: 1}
	tests := []struct {
		name string
		edit func(*natsjs.Consumer)
		want string
	}{
		{"no name", func(c *natsjs.Consumer) { c.Name = "" }, "name must be"},
		{"dotted name", func(c *natsjs.Consumer) { c.Name = "a.b" }, "name must be"},
		{"no subject", func(c *natsjs.Consumer) { c.Subjects = nil }, "no filter subject"},
		{"no role", func(c *natsjs.Consumer) { c.Role = "" }, "must be a component's role"},
		{"admin", func(c *natsjs.Consumer) { c.Role = natsjs.RoleAdmin }, "must be a component's role"},
		{"no pending", func(c *natsjs.Consumer) { c.MaxAckPending = 0 }, "max ack pending"},
		{"short ack wait", func(c *natsjs.Consumer) { c.AckWait = time.Millisecond }, "ack wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			topo := natsjs.DefaultTopology()
			topo.Consumers = []natsjs.Consumer{c}
			if err := topo.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
	topo := natsjs.DefaultTopology()
	topo.Consumers = []natsjs.Consumer{ok, ok}
	if err := topo.Validate(); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("Validate() of a doubled consumer = %v", err)
	}
	topo.Consumers = []natsjs.Consumer{ok}
	if err := topo.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}
