package pipeline

import (
	"flag"
	"fmt"
	"strings"

	"github.com/docker/go-units"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/manifest"
)

// bindLimits binds the limits of the deployed containers to fs: the
// defaults a service gets when its slipway.yaml says nothing, and the most
// it may ask for.
func bindLimits(fs *flag.FlagSet, l *docker.Limits) {
	fs.Var((*memoryFlag)(&l.Defaults.Memory), "container-memory", "memory limit of a deployed container (swap included) unless its slipway.yaml sets resources.memory")
	fs.Var((*memoryFlag)(&l.Max.Memory), "container-memory-max", "the most memory a slipway.yaml may give a container")
	fs.Int64Var(&l.Defaults.Pids, "container-pids", l.Defaults.Pids, "most processes and threads of a deployed container unless its slipway.yaml sets resources.pids")
	fs.Int64Var(&l.Max.Pids, "container-pids-max", l.Max.Pids, "the most processes a slipway.yaml may give a container")
	fs.Float64Var(&l.Defaults.CPUs, "container-cpus", l.Defaults.CPUs, "CPUs a deployed container may use unless its slipway.yaml sets resources.cpus; 0 is no limit")
	fs.Float64Var(&l.Max.CPUs, "container-cpus-max", l.Max.CPUs, "the most CPUs a slipway.yaml may give a container; 0 is no maximum")
	fs.Var((*capsFlag)(&l.Capabilities), "container-caps", "comma-separated Linux capabilities a deployed container keeps, every other dropped; none keeps none")
}

// memoryFlag is an amount of memory such as 512MiB.
type memoryFlag int64

func (m *memoryFlag) String() string {
	if m == nil || *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}

func (m *memoryFlag) Set(s string) error {
	b, err := manifest.ParseMemory(s)
	if err != nil {
		return err
	}
	*m = memoryFlag(b)
	return nil
}

// capsFlag is a comma-separated list of capabilities; "none" is the empty
// list.
type capsFlag []string

func (c *capsFlag) String() string {
	if c == nil || len(*c) == 0 {
		return "none"
	}
	return strings.Join(*c, ",")
}

func (c *capsFlag) Set(s string) error {
	list := []string{}
	if s = strings.TrimSpace(s); s != "none" {
		for _, name := range strings.Split(s, ",") {
			if name = strings.ToUpper(strings.TrimSpace(name)); name == "" {
				return fmt.Errorf("empty capability in %q", s)
			}
			list = append(list, name)
		}
	}
	*c = list
	return nil
}
