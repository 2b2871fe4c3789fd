package sshhost

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// specOptions are the key=value settings a targets file line of remote
// hosts takes, e.g.
// "target prod-hosts docker ssh://deploy@app1,ssh://deploy@app2 key=/etc/slipway/id_ed25519 known_hosts=/etc/slipway/known_hosts batch=1".
var specOptions = []string{"key", "known_hosts", "batch", "pull_registry", "proxy_image", "proxy_addr"}

// ParseSpec returns the Options of a targets file line's hosts and
// settings: key and known_hosts are required, batch (1), pull_registry,
// proxy_image and proxy_addr (":80") are not. Registry and Docker are the
// caller's.
func ParseSpec(hosts []string, settings map[string]string) (Options, error) {
	for k := range settings {
		if !slices.Contains(specOptions, k) {
			return Options{}, fmt.Errorf("docker over ssh: unknown option %s (options: %s)", k, strings.Join(specOptions, ", "))
		}
	}
	opts := Options{
		Hosts:        hosts,
		Auth:         Auth{Key: settings["key"], KnownHosts: settings["known_hosts"]},
		PullRegistry: settings["pull_registry"], ProxyImage: settings["proxy_image"], ProxyAddr: settings["proxy_addr"],
	}
	if opts.Auth.Key == "" || opts.Auth.KnownHosts == "" {
		return Options{}, fmt.Errorf("docker over ssh: key= and known_hosts= are required (got %s)", strings.Join(slices.Sorted(maps.Keys(settings)), ", "))
	}
	if b, ok := settings["batch"]; ok {
		n, err := strconv.Atoi(b)
		if err != nil || n < 1 {
			return Options{}, fmt.Errorf("docker over ssh: batch=%q: want a number of hosts from 1", b)
		}
		opts.Batch = n
	}
	return opts, nil
}
