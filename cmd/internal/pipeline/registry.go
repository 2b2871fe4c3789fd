package pipeline

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"

	"github.com/slipway-dev/slipway/docker"
	"github.com/slipway-dev/slipway/registry"
)

// RegistryAuth is how Slipway reaches its registry: the pull address of
// deploy hosts, credentials and a custom CA.
type RegistryAuth struct {
	// Pull is the registry address the deploy target pulls from, when it
	// sees the registry under another name than builders (-registry).
	Pull string
	// ConfigFile is a Docker config.json (auths, credHelpers, credsStore).
	ConfigFile string
	// Hosts are per-registry credentials, host=user:password-file.
	Hosts RegistryHostAuths
	// CAFile is the PEM CA that signed the registry's certificate.
	CAFile string
}

// DefaultDockerConfig is $DOCKER_CONFIG/config.json (~/.docker/config.json
// without DOCKER_CONFIG) when that file exists, else "".
func DefaultDockerConfig() string {
	p := filepath.Join(dockerconfig.Dir(), dockerconfig.ConfigFileName)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// bindRegistry binds the registry's settings once (builder and deployer
// both use them).
func (c *Config) bindRegistry(fs *flag.FlagSet) {
	if fs.Lookup("registry") != nil {
		return
	}
	fs.StringVar(&c.Registry, "registry", c.Registry, "registry images are pushed to and deployed from")
	r := &c.RegistryAuth
	fs.StringVar(&r.Pull, "registry-pull", r.Pull, "address deploy hosts pull the same images from, when they see the registry under another name than -registry (default: -registry)")
	r.BindAccess(fs)
}

// BindAccess binds the credentials and CA flags (`slipway gc` uses them
// too).
func (r *RegistryAuth) BindAccess(fs *flag.FlagSet) {
	fs.StringVar(&r.ConfigFile, "registry-config", r.ConfigFile, "Docker config.json whose auths, credHelpers and credsStore (docker-credential-* helpers) hold registry credentials (default: $DOCKER_CONFIG/config.json if present)")
	fs.Var(&r.Hosts, "registry-auth", "host=user:password-file (or host=user:env:VAR): credentials of a registry, tried before -registry-config (repeat); the password is read from the file or variable, never given on the command line")
	fs.StringVar(&r.CAFile, "registry-ca", r.CAFile, "PEM CA that signed the registry's certificate, trusted by Slipway's own clients (buildkitd and dockerd need it too: see README); with it a loopback registry is reached over HTTPS")
}

// registryAccess loads the configured credentials and CA.
func (c *Config) registryAccess() (registry.Access, error) {
	return c.RegistryAuth.Access()
}

// Access loads the configured credentials and CA; its errors name the file
// or host at fault, never a password.
func (r RegistryAuth) Access() (registry.Access, error) {
	creds := registry.NewCredentials()
	if r.ConfigFile != "" {
		if err := creds.LoadDockerConfig(r.ConfigFile); err != nil {
			return registry.Access{}, err
		}
	}
	for _, h := range r.Hosts {
		cred, err := h.load()
		if err != nil {
			return registry.Access{}, err
		}
		creds.Add(h.Host, cred)
	}
	a := registry.Access{Credentials: creds, CAFile: r.CAFile}
	return a, a.Validate()
}

// dockerRegistry is how the deploy target pulls.
func (c *Config) dockerRegistry() (docker.Registry, error) {
	a, err := c.registryAccess()
	if err != nil {
		return docker.Registry{}, err
	}
	return docker.Registry{Push: c.Registry, Pull: c.RegistryAuth.Pull, Credentials: a.Credentials}, nil
}

// RegistryHostAuth is one -registry-auth: the password is read from File,
// or from the environment variable Env.
type RegistryHostAuth struct {
	Host, User, File, Env string
}

// load reads the password. Its errors name the host and the source, never
// what the file holds.
func (h RegistryHostAuth) load() (registry.Credential, error) {
	var pw string
	if h.Env != "" {
		pw = os.Getenv(h.Env)
		if pw == "" {
			return registry.Credential{}, fmt.Errorf("-registry-auth %s: environment variable %s is empty or unset", h.Host, h.Env)
		}
	} else {
		b, err := os.ReadFile(h.File)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path may be a password given by mistake: do not repeat it
			}
			return registry.Credential{}, fmt.Errorf("-registry-auth %s: password file: %w (give a file path or env:VAR)", h.Host, err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return registry.Credential{}, fmt.Errorf("-registry-auth %s: password file is empty", h.Host)
		}
	}
	return registry.Credential{Username: h.User, Password: pw}, nil
}

// RegistryHostAuths is the repeatable -registry-auth flag.
type RegistryHostAuths []RegistryHostAuth

// String shows hosts and users only.
func (r *RegistryHostAuths) String() string {
	var out []string
	for _, h := range *r {
		out = append(out, h.Host+"="+h.User+":***")
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Set adds host=user:password-file or host=user:env:VAR; a value of
// SLIPWAY_REGISTRY_AUTH may hold several, comma-separated.
func (r *RegistryHostAuths) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		host, rest, ok1 := strings.Cut(item, "=")
		user, src, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || host == "" || user == "" || src == "" {
			return fmt.Errorf("-registry-auth for %q: want host=user:password-file or host=user:env:VAR", host)
		}
		h := RegistryHostAuth{Host: host, User: user, File: src}
		if name, ok := strings.CutPrefix(src, "env:"); ok {
			h.File, h.Env = "", name
		}
		*r = append(*r, h)
	}
	return nil
}
