package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway-dev/slipway/swarm"
	"github.com/slipway-dev/slipway/workflows/target"
)

// TestSwarmKind: a targets file's swarm line makes a swarm.Target (without
// connecting), and a bad one fails with where it was declared.
func TestSwarmKind(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantErr string
	}{
		{name: "manager over ssh", line: "target swarm swarm ssh://deploy@manager.example.com key=/etc/slipway/id known_hosts=/etc/slipway/known_hosts"},
		{name: "two managers", line: "target swarm swarm ssh://a@m1,ssh://a@m2 key=/k known_hosts=/kh", wantErr: "want one manager"},
		{name: "no key", line: "target swarm swarm ssh://deploy@manager known_hosts=/kh", wantErr: "key= and known_hosts= are required"},
		{name: "unknown option", line: "target swarm swarm ssh://deploy@manager key=/k known_hosts=/kh batch=2", wantErr: "unknown option batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := target.Parse(strings.NewReader(tt.line), "targets.conf")
			if err != nil {
				t.Fatal(err)
			}
			tg, err := makeTarget(context.Background(), &Config{Registry: "localhost:5000"}, cfg.Targets[0])
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "targets.conf:1: target swarm") {
					t.Fatalf("makeTarget() error = %v, want %q at targets.conf:1", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			if _, ok := tg.(*swarm.Target); !ok {
				t.Errorf("makeTarget() = %T, want *swarm.Target", tg)
			}
		})
	}
}
