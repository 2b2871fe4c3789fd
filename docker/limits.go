package docker

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-units"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/manifest"
)

// Limits bound every container a Target starts, a service's and a
// deployment task's alike. The Defaults apply to a service whose
// slipway.yaml says nothing; a slipway.yaml may lower or raise them, up to
// the operator's maxima (a zero maximum of CPUs means none). A service
// asking for more is refused with events.Permanent before any container
// of its commit starts.
//
// Every container also runs with no-new-privileges (setuid binaries and
// file capabilities grant nothing) and with every Linux capability dropped
// but Capabilities. It runs as the service's user: when slipway.yaml names
// none, as the image's USER, which is what an image built for Docker or
// Kamal expects (entrypoints that write as root before dropping to their
// own user, as nginx or postgres do). An image running as root keeps a root
// without those capabilities, which cannot reach what the other containers
// or the host own; declaring `user:` in slipway.yaml runs it unprivileged.
type Limits struct {
	Defaults events.Resources
	Max      events.Resources
	// Capabilities are the capabilities a container keeps; every other is
	// dropped. Nil means DefaultCapabilities, empty keeps none.
	Capabilities []string
}

// DefaultCapabilities are what the servers of typical images need: bind
// a port below 1024, and start as root to drop to their own user (chown
// their directories, read what that user owns, switch uid and gid, signal
// their workers). Docker's defaults besides these (NET_RAW, MKNOD,
// SYS_CHROOT, AUDIT_WRITE, SETFCAP, SETPCAP, FSETID) are dropped.
var DefaultCapabilities = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"}

// DefaultLimits returns the limits New uses for every zero field: 512 MiB
// and 512 processes per container, unlimited CPU; a slipway.yaml may ask
// for up to 8 GiB, 8192 processes and any CPU.
func DefaultLimits() Limits {
	return Limits{
		Defaults:     events.Resources{Memory: 512 << 20, Pids: 512},
		Max:          events.Resources{Memory: 8 << 30, Pids: 8192},
		Capabilities: DefaultCapabilities,
	}
}

// withDefaults fills every zero field from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	fill := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&l.Defaults.Memory, d.Defaults.Memory)
	fill(&l.Defaults.Pids, d.Defaults.Pids)
	fill(&l.Max.Memory, max(d.Max.Memory, l.Defaults.Memory))
	fill(&l.Max.Pids, max(d.Max.Pids, l.Defaults.Pids))
	if l.Capabilities == nil {
		l.Capabilities = DefaultCapabilities
	}
	return l
}

// Validate reports the first limit that cannot work.
func (l Limits) Validate() error {
	switch {
	case l.Defaults.Memory < manifest.MinMemory || l.Max.Memory < l.Defaults.Memory:
		return fmt.Errorf("memory %s, maximum %s: want at least 6MiB, and a maximum no lower", size(l.Defaults.Memory), size(l.Max.Memory))
	case l.Defaults.Pids < 1 || l.Max.Pids < l.Defaults.Pids:
		return fmt.Errorf("pids %d, maximum %d: want at least 1, and a maximum no lower", l.Defaults.Pids, l.Max.Pids)
	case l.Defaults.CPUs < 0 || l.Max.CPUs < 0 || (l.Max.CPUs > 0 && l.Defaults.CPUs > l.Max.CPUs):
		return fmt.Errorf("cpus %g, maximum %g: want no negative and a maximum no lower", l.Defaults.CPUs, l.Max.CPUs)
	}
	for _, c := range l.Capabilities {
		if !slices.Contains(capabilities, strings.TrimPrefix(strings.ToUpper(c), "CAP_")) {
			return fmt.Errorf("unknown capability %q", c)
		}
	}
	return nil
}

// Resources returns what each replica of s may use: s's resources, the
// defaults for those it leaves zero, refused above the maximum.
func (l Limits) Resources(s events.ServiceSpec) (events.Resources, error) {
	return l.withDefaults().resources(s)
}

// resources returns what the containers of s get, or why s may not run.
func (l Limits) resources(s events.ServiceSpec) (events.Resources, error) {
	r := s.Resources
	if r.Memory == 0 {
		r.Memory = l.Defaults.Memory
	}
	if r.Pids == 0 {
		r.Pids = l.Defaults.Pids
	}
	if r.CPUs == 0 {
		r.CPUs = l.Defaults.CPUs
	}
	var errs []error
	if r.Memory > l.Max.Memory {
		errs = append(errs, fmt.Errorf("memory %s is more than the maximum of %s", size(r.Memory), size(l.Max.Memory)))
	}
	if r.Pids > l.Max.Pids {
		errs = append(errs, fmt.Errorf("pids %d is more than the maximum of %d", r.Pids, l.Max.Pids))
	}
	if l.Max.CPUs > 0 && r.CPUs > l.Max.CPUs {
		errs = append(errs, fmt.Errorf("cpus %g is more than the maximum of %g", r.CPUs, l.Max.CPUs))
	}
	if r.Memory < manifest.MinMemory || r.Pids < 0 || r.CPUs < 0 {
		errs = append(errs, fmt.Errorf("resources %+v: negative or below 6MiB of memory", r))
	}
	return r, errors.Join(errs...)
}

// checkService rejects a service whose containers no retry could start:
// resources beyond the operator's maximum, a malformed user, and an
// environment the container runtime refuses (a NUL byte, a name with '=').
// The manifest refuses these too; this holds for events from elsewhere.
func (l Limits) checkService(s events.ServiceSpec) error {
	var errs []error
	if _, err := l.resources(s); err != nil {
		errs = append(errs, err)
	}
	if s.User != "" {
		if msg := manifest.CheckUser(s.User); msg != "" {
			errs = append(errs, fmt.Errorf("user %q: %s", s.User, msg))
		}
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
			errs = append(errs, fmt.Errorf("environment variable %q: a name must be non-empty without '=' or NUL, a value without NUL", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	return nil
}

// checkServices runs checkService on every image's service.
func (l Limits) checkServices(images []events.Image) error {
	var errs []error
	for _, img := range images {
		errs = append(errs, l.checkService(img.Service))
	}
	return errors.Join(errs...)
}

// confine applies the limits to the configuration of a container of s,
// which checkService accepted.
func (l Limits) confine(cfg *container.Config, host *container.HostConfig, s events.ServiceSpec) {
	r, _ := l.resources(s)
	cfg.User = s.User
	host.Memory = r.Memory
	host.MemorySwap = r.Memory // no swap beyond the limit
	host.PidsLimit = &r.Pids
	host.NanoCPUs = int64(r.CPUs * 1e9)
	host.SecurityOpt = append(host.SecurityOpt, "no-new-privileges:true")
	host.CapDrop = []string{"ALL"}
	host.CapAdd = slices.Clone(l.Capabilities)
}

// size formats a number of bytes as 512MiB.
func size(b int64) string { return units.BytesSize(float64(b)) }

// capabilities are the Linux capabilities, without their CAP_ prefix.
var capabilities = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
	"DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG",
	"SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
	"SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
}
