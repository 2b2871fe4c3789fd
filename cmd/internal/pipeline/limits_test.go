package pipeline

import (
	"flag"
	"io"
	"reflect"
	"testing"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/events"
)

func TestLimitsFlags(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		want         docker.Limits
		wantParseErr bool
		wantInvalid  bool
	}{
		{name: "defaults", want: docker.DefaultLimits()},
		{
			name: "every flag",
			args: []string{"-container-memory", "256m", "-container-memory-max", "2GiB", "-container-pids", "128",
				"-container-pids-max", "1024", "-container-cpus", "0.5", "-container-cpus-max", "4", "-container-caps", "net_bind_service, setuid"},
			want: docker.Limits{
				Defaults:     events.Resources{Memory: 256 << 20, Pids: 128, CPUs: 0.5},
				Max:          events.Resources{Memory: 2 << 30, Pids: 1024, CPUs: 4},
				Capabilities: []string{"NET_BIND_SERVICE", "SETUID"},
			},
		},
		{name: "no capabilities", args: []string{"-container-caps", "none"},
			want: docker.Limits{Defaults: docker.DefaultLimits().Defaults, Max: docker.DefaultLimits().Max, Capabilities: []string{}}},
		{name: "memory without a number", args: []string{"-container-memory", "lots"}, wantParseErr: true},
		{name: "memory below 6MiB", args: []string{"-container-memory", "1m"}, wantParseErr: true},
		{name: "default above maximum", args: []string{"-container-memory", "16g"}, wantInvalid: true},
		{name: "pids above maximum", args: []string{"-container-pids-max", "10"}, wantInvalid: true},
		{name: "unknown capability", args: []string{"-container-caps", "ROOT"}, wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cfg.BindDeployer(fs)
			err := fs.Parse(tt.args)
			if (err != nil) != tt.wantParseErr {
				t.Fatalf("Parse() = %v, want error %v", err, tt.wantParseErr)
			}
			if err != nil {
				return
			}
			if err := cfg.Validate(); (err != nil) != tt.wantInvalid {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantInvalid)
			}
			if !tt.wantInvalid && !reflect.DeepEqual(cfg.Limits, tt.want) {
				t.Errorf("limits %+v, want %+v", cfg.Limits, tt.want)
			}
		})
	}
}
