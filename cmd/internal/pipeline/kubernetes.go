package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/kube"
	"github.com/slipway-dev/slipway/workflows/target"
)

// kubernetesOptions are the settings a kubernetes target line takes.
var kubernetesOptions = []string{"kubeconfig", "namespace", "ingress-class", "rollout-timeout", "previews", "pull-registry"}

// kubernetesKind makes a target of kind kubernetes:
//
//	target cluster kubernetes kubeconfig=/etc/slipway/kubeconfig namespace=shop
//
// kubeconfig (left out: the pod's service account), namespace (required),
// ingress-class, rollout-timeout (default 5m), previews (the preview
// templates whose environments get a namespace each, "pr-*" by default;
// "none" for none) and pull-registry (where the cluster pulls -registry's
// images from).
func kubernetesKind(_ context.Context, cfg *Config, spec target.Spec) (target.Target, error) {
	if len(spec.Endpoints) > 0 {
		return nil, fmt.Errorf("kubernetes takes no endpoints, the kubeconfig names the cluster (got %d)", len(spec.Endpoints))
	}
	for k := range spec.Options {
		if !slices.Contains(kubernetesOptions, k) {
			return nil, fmt.Errorf("kubernetes: unknown option %s (options: %s)", k, strings.Join(kubernetesOptions, ", "))
		}
	}
	o := spec.Options
	if o["namespace"] == "" {
		return nil, fmt.Errorf("kubernetes: namespace= is required")
	}
	opts := kube.Options{
		Kubeconfig: o["kubeconfig"], Namespace: o["namespace"], IngressClass: o["ingress-class"],
		Registry: kube.Registry{Push: cfg.Registry, Pull: o["pull-registry"]},
	}
	if v := o["rollout-timeout"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: rollout-timeout=%s: %w", v, err)
		}
		opts.RolloutTimeout = d
	}
	if err := kubeRegistryAuth(cfg, &opts.Registry); err != nil {
		return nil, err
	}
	previews, err := previewTemplates(o["previews"])
	if err != nil {
		return nil, err
	}
	opts.Previews = previews
	return kube.New(opts)
}

// previewTemplates parses "pr-*,review-*" (empty: "pr-*"; "none": none)
// into the test of a preview's environment name, <template>-<number>.
func previewTemplates(v string) (func(repo, env string) bool, error) {
	if v == "none" {
		return nil, nil
	}
	if v == "" {
		v = "pr-*"
	}
	var prefixes []string
	for _, p := range strings.Split(v, ",") {
		prefix, ok := strings.CutSuffix(p, "-*")
		if !ok || prefix == "" {
			return nil, fmt.Errorf("kubernetes: previews=%s: want <template>-* (pr-*)", v)
		}
		prefixes = append(prefixes, prefix+"-")
	}
	return func(_, env string) bool {
		for _, p := range prefixes {
			if n, ok := strings.CutPrefix(env, p); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				return true
			}
		}
		return false
	}, nil
}

// kubeRegistryAuth gives the cluster the credentials the deployer has for
// the registry its nodes pull from (-registry-auth, -registry-config), as
// an image pull secret.
func kubeRegistryAuth(cfg *Config, r *kube.Registry) error {
	a, err := cfg.registryAccess()
	if err != nil {
		return err
	}
	host := r.Pull
	if host == "" {
		host = cfg.RegistryAuth.Pull
	}
	if host == "" {
		host = r.Push
	}
	cred, ok, err := a.Credentials.Lookup(host)
	if err != nil {
		return fmt.Errorf("kubernetes: registry credentials for %s: %w", host, err)
	}
	if ok && cred.Username != "" {
		r.Auth = &kube.Auth{Username: cred.Username, Password: cred.Password}
	}
	return nil
}
