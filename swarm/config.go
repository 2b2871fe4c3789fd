package swarm

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/sshhost"
)

// specOptions are the key=value settings a targets file line of a swarm
// takes, e.g.
// "target swarm swarm ssh://deploy@manager key=/etc/slipway/id_ed25519 known_hosts=/etc/slipway/known_hosts".
var specOptions = []string{"key", "known_hosts", "pull_registry"}

// ParseSpec returns the Options of a targets file line's endpoints (one
// manager, ssh://) and settings: key and known_hosts are required,
// pull_registry is not. Registry and Docker are the caller's.
func ParseSpec(endpoints []string, settings map[string]string) (Options, error) {
	for k := range settings {
		if !slices.Contains(specOptions, k) {
			return Options{}, fmt.Errorf("swarm: unknown option %s (options: %s)", k, strings.Join(specOptions, ", "))
		}
	}
	if len(endpoints) != 1 || !strings.HasPrefix(endpoints[0], "ssh://") {
		return Options{}, fmt.Errorf("swarm: want one manager, ssh://user@host, got %d endpoints", len(endpoints))
	}
	if _, err := sshhost.ParseAddress(endpoints[0]); err != nil {
		return Options{}, fmt.Errorf("swarm: %w", err)
	}
	opts := Options{
		Manager:      endpoints[0],
		Auth:         sshhost.Auth{Key: settings["key"], KnownHosts: settings["known_hosts"]},
		PullRegistry: settings["pull_registry"],
	}
	if opts.Auth.Key == "" || opts.Auth.KnownHosts == "" {
		return Options{}, fmt.Errorf("swarm: key= and known_hosts= are required (got %s)", strings.Join(slices.Sorted(maps.Keys(settings)), ", "))
	}
	return opts, nil
}
