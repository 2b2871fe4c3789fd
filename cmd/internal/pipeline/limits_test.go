package pipeline

import (
	"flag"
	"io"
	"reflect"
	"testing"
	"time"

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

// TestGitFlags: -git-timeout and -push-workers bind once whether a binary
// binds the builder's settings, the deployer's or both (`slipway up`).
func TestGitFlags(t *testing.T) {
	binds := map[string][]func(*Config, *flag.FlagSet){
		"builder":  {(*Config).BindBuilder},
		"deployer": {(*Config).BindDeployer},
		"up":       {(*Config).BindBuilder, (*Config).BindDeployer},
	}
	for name, bind := range binds {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			if cfg.GitTimeout != 2*time.Minute {
				t.Errorf("default git timeout %s, want 2m", cfg.GitTimeout)
			}
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			for _, b := range bind {
				b(&cfg, fs)
			}
			if err := fs.Parse([]string{"-git-timeout", "30s"}); err != nil {
				t.Fatal(err)
			}
			if cfg.GitTimeout != 30*time.Second {
				t.Errorf("git timeout %s, want 30s", cfg.GitTimeout)
			}
			if err := fs.Parse([]string{"-git-timeout", "0s"}); err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil {
				t.Errorf("Validate() accepted a git timeout of 0")
			}
		})
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	cfg.BindBuilder(fs)
	if err := fs.Parse([]string{"-push-workers", "2"}); err != nil || cfg.PushWorkers != 2 {
		t.Errorf("push workers %d (%v), want 2", cfg.PushWorkers, err)
	}
	cfg.PushWorkers = 0
	if err := cfg.Validate(); err == nil {
		t.Errorf("Validate() accepted 0 push workers")
	}
}
