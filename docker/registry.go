package docker

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	dockerregistry "github.com/docker/docker/api/types/registry"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/registry"
)

// Registry is how the daemon pulls Slipway's images.
type Registry struct {
	// Push is the registry host image references name (builders push
	// there, events carry those references); Pull is the host the daemon
	// pulls the same repositories from instead, where deploy hosts see the
	// registry under another name. Empty Pull, or an image of another
	// registry: pulled as named.
	Push, Pull string
	// Credentials are sent with every pull (the Engine API's
	// X-Registry-Auth) for the host pulled from; nil sends none.
	Credentials *registry.Credentials
}

// pullRef is ref with Push replaced by Pull.
func (r Registry) pullRef(ref string) (string, error) {
	if r.Pull == "" || r.Pull == r.Push {
		return ref, nil
	}
	rest, ok := strings.CutPrefix(ref, r.Push+"/")
	if !ok {
		return ref, nil
	}
	moved := r.Pull + "/" + rest
	if _, err := reference.ParseNormalizedNamed(moved); err != nil {
		return "", events.Permanent(fmt.Errorf("pull address %s for %s: %w", r.Pull, ref, err))
	}
	return moved, nil
}

// Auth is the X-Registry-Auth value for pulling from host ("" for none),
// and whether there were credentials: what this package sends with a pull,
// and the swarm target with a service (its nodes pull). The value holds
// the secret: it goes in a header, never in a log or an error.
func (r Registry) Auth(host string) (string, bool, error) {
	cred, ok, err := r.Credentials.Lookup(host)
	if err != nil {
		return "", false, events.Permanent(err)
	}
	if !ok {
		return "", false, nil
	}
	v, err := dockerregistry.EncodeAuthConfig(dockerregistry.AuthConfig{
		Username: cred.Username, Password: cred.Password, IdentityToken: cred.IdentityToken, ServerAddress: host,
	})
	if err != nil {
		return "", false, fmt.Errorf("encode credentials for %s: %w", host, err)
	}
	return v, true, nil
}

// refusal fragments are how dockerd reports a registry that did not accept
// the credentials it sent, or the lack of any.
var refusal = []string{
	"401 unauthorized", "403 forbidden", "no basic auth credentials", "authentication required",
	"unauthorized:", "denied: requested access", "insufficient_scope",
}

// registryFault is the policy-carrying error of a pull from host refused by
// the registry, or nil for any other failure.
func registryFault(host string, sent bool, err error) error {
	msg := strings.ToLower(err.Error())
	for _, f := range refusal {
		if strings.Contains(msg, f) {
			return events.Permanent(&registry.RefusedError{Host: host, Sent: sent, Err: err})
		}
	}
	if strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate signed by unknown authority") {
		return events.Permanent(&registry.UntrustedError{Host: host, By: "dockerd", Err: err})
	}
	return nil
}
