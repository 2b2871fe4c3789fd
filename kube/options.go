package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
)

// Options configures a Target: the operator's targets file line
// `target <name> kubernetes kubeconfig=<path> namespace=<ns>` and the
// deployer's registry settings.
type Options struct {
	// Kubeconfig is the path of the kubeconfig to use; empty uses the
	// pod's service account (Slipway running in the cluster). Config, when
	// set, is used instead (tests).
	Kubeconfig string
	Config     *rest.Config
	// Namespace is where environments run; a preview runs in a namespace
	// of its own named after it.
	Namespace string
	// Previews reports whether env of repo is a pull request preview.
	Previews func(repo, env string) bool
	// Registry is where the cluster pulls images from.
	Registry Registry
	// IngressClass is the Ingress class of the Ingresses of declared
	// hosts; empty leaves the cluster's default.
	IngressClass string
	// RolloutTimeout bounds how long a rollout may take to become
	// available (also the Deployments' progressDeadlineSeconds).
	RolloutTimeout time.Duration
	// Poll is the pause between two reads of a rollout's status.
	Poll time.Duration
	// Dial connects to a pod's address (ResolveAll): by default directly,
	// as from inside the cluster's network; a deployer outside it dials
	// through its own route (a VPN, a port-forward).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// LogLines is how many lines of a failed pod's or task's log are kept.
	LogLines int
}

// Registry is where the cluster pulls Slipway's images from.
type Registry struct {
	// Push is the registry host image references name; Pull the host the
	// cluster's nodes reach the same repositories at (empty: Push).
	Push, Pull string
	// Auth are the credentials for Pull, given to the pods as an image
	// pull secret; nil for none.
	Auth *Auth
}

// Auth are registry credentials.
type Auth struct {
	Username, Password string
}

// String never shows the password.
func (a *Auth) String() string {
	if a == nil {
		return "<none>"
	}
	return a.Username + ":<redacted>"
}

// DefaultOptions returns the options New uses for zero fields.
func DefaultOptions() Options {
	return Options{RolloutTimeout: 5 * time.Minute, Poll: 250 * time.Millisecond, LogLines: 20}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.RolloutTimeout == 0 {
		o.RolloutTimeout = d.RolloutTimeout
	}
	if o.Poll == 0 {
		o.Poll = d.Poll
	}
	if o.LogLines == 0 {
		o.LogLines = d.LogLines
	}
	return o
}

// Validate reports the first option that cannot work.
func (o Options) Validate() error {
	switch {
	case len(validation.IsDNS1123Label(o.Namespace)) > 0:
		return fmt.Errorf("kubernetes target: namespace %q is not a DNS label", o.Namespace)
	case o.RolloutTimeout < time.Second:
		return fmt.Errorf("kubernetes target: rollout timeout %s: at least 1s", o.RolloutTimeout)
	case o.Poll <= 0 || o.Poll > o.RolloutTimeout:
		return fmt.Errorf("kubernetes target: poll %s: must be positive and below the rollout timeout", o.Poll)
	case o.Registry.Auth != nil && o.Registry.Auth.Username == "":
		return errors.New("kubernetes target: registry credentials without a user name")
	}
	return nil
}
