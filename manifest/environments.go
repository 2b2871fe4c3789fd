package manifest

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/slipway-dev/slipway/events"
)

// What moves an environment from one commit to another.
const (
	// FollowsBranch: every commit built on the branch is deployed.
	FollowsBranch = "branch"
	// FollowsPin: the commit named in a pin file on the default branch is
	// deployed when a push changes the file (a merged release pull request).
	FollowsPin = "pin"
	// FollowsPullRequests: the entry is the template of one preview
	// environment per open pull request, named "<name>-<number>".
	FollowsPullRequests = "pull_requests"
)

// Default environments of a manifest that declares none.
const (
	DefaultStaging     = "staging"
	DefaultProduction  = "production"
	DefaultPreview     = "pr"
	DefaultPinPath     = "deploy/production.yaml"
	DefaultPreviewTTL  = 7 * 24 * time.Hour
	DefaultKeepCommits = 10
	// DefaultRetain is how many releases before the current one keep
	// their containers on the target (retain:).
	DefaultRetain = 3
)

// MaxEnvNameLen is the longest environment name; a preview's name adds
// "-<number>" to it and must stay a DNS label.
const MaxEnvNameLen = 40

// Environment is one environment declared in slipway.yaml. Environments
// differ only in what they declare here: every environment runs the same
// image digests of a commit.
type Environment struct {
	Name    string
	Follows string
	// Branch is the branch a FollowsBranch environment follows; empty means
	// the repository's default branch.
	Branch string
	// Pin is the path of the pin file of a FollowsPin environment.
	Pin string
	// TTL removes a preview not updated for that long; 0 keeps it until its
	// pull request closes.
	TTL time.Duration
	// ReleasePreviews previews a release pull request too (one whose head
	// commit changes only pin files); by default a release gets none.
	ReleasePreviews bool
	// Keep is how many of the last commits deployed here keep their images
	// safe from clean-up.
	Keep int
	// Retain is how many releases before the current one keep their
	// containers, stopped, and so their images on the target, for a
	// rollback without a pull (retain:, 1 to 50; 1 for previews unless
	// declared).
	Retain int
	// Services are the per-service values of this environment, by name.
	Services map[string]Override
	// Target names the operator's target the environment runs on; empty
	// is the deployer's own Docker daemon (events.LocalTarget). The
	// operator decides which targets exist and who may use them.
	Target string
	// Rollout is how the environment moves to a new commit (rollout:): a
	// canary in steps, blue-green, a watch window; nil is a plain deploy.
	Rollout *events.Rollout
}

// Override is what an environment changes of one service.
type Override struct {
	// Env is merged over the service's env; these values win.
	Env map[string]string
	// Secrets are added to the service's secrets.
	Secrets []string
	// Replicas is the number of containers; 0 leaves the service's own.
	Replicas int
	// Hosts are extra host names the proxy routes to the service.
	Hosts []string
}

// DefaultEnvironments are the environments of a manifest without an
// environments section: staging follows the default branch, production the
// pin file deploy/production.yaml, and every pull request gets a preview
// "pr-<number>" removed after a week without updates.
func DefaultEnvironments() []Environment {
	return []Environment{
		{Name: DefaultStaging, Follows: FollowsBranch, Keep: DefaultKeepCommits, Retain: DefaultRetain},
		{Name: DefaultProduction, Follows: FollowsPin, Pin: DefaultPinPath, Keep: DefaultKeepCommits, Retain: DefaultRetain},
		{Name: DefaultPreview, Follows: FollowsPullRequests, TTL: DefaultPreviewTTL, Keep: 1, Retain: 1},
	}
}

// Environments returns the declared environments in declaration order, or
// DefaultEnvironments when the manifest declares none. The slice and its
// maps are copies.
func (m *Manifest) Environments() []Environment {
	if len(m.environments) == 0 {
		return DefaultEnvironments()
	}
	out := make([]Environment, len(m.environments))
	for i, e := range m.environments {
		out[i] = e.copy()
	}
	return out
}

// DeclaresEnvironments reports whether the manifest has an environments
// section.
func (m *Manifest) DeclaresEnvironments() bool { return len(m.environments) > 0 }

// Environment returns the environment called name, matching a preview
// "<template>-<number>" to its template.
func (m *Manifest) Environment(name string) (Environment, bool) {
	for _, e := range m.Environments() {
		if e.Name == name {
			return e, true
		}
		if _, ok := e.PreviewNumber(name); ok {
			return e, true
		}
	}
	return Environment{}, false
}

// PreviewName is the name of the preview of pull request number.
func (e Environment) PreviewName(number int) string {
	return e.Name + "-" + strconv.Itoa(number)
}

// PreviewNumber returns the pull request number of the preview called name,
// when e is a preview template and name one of its previews.
func (e Environment) PreviewNumber(name string) (int, bool) {
	if e.Follows != FollowsPullRequests || len(name) <= len(e.Name)+1 || name[:len(e.Name)+1] != e.Name+"-" {
		return 0, false
	}
	n, err := strconv.Atoi(name[len(e.Name)+1:])
	if err != nil || n <= 0 || strconv.Itoa(n) != name[len(e.Name)+1:] {
		return 0, false
	}
	return n, true
}

// FollowsBranchOf reports whether e deploys the commits built on branch of a
// repository whose default branch is defaultBranch.
func (e Environment) FollowsBranchOf(branch, defaultBranch string) bool {
	if e.Follows != FollowsBranch || branch == "" {
		return false
	}
	if e.Branch == "" {
		return branch == defaultBranch
	}
	return branch == e.Branch
}

// Apply returns images with this environment's values: the service's env
// with the environment's merged over it, its secrets added to the
// service's, its replicas and hosts. Digests and
// references are unchanged.
func (e Environment) Apply(images []events.Image) []events.Image {
	out := make([]events.Image, len(images))
	for i, img := range images {
		out[i] = img
		o, ok := e.Services[img.Service.Name]
		if !ok {
			continue
		}
		s := &out[i].Service
		if len(o.Env) > 0 {
			env := maps.Clone(s.Env)
			if env == nil {
				env = map[string]string{}
			}
			maps.Copy(env, o.Env)
			s.Env = env
		}
		if len(o.Secrets) > 0 {
			s.Secrets = mergeSecrets(s.Secrets, o.Secrets)
		}
		if o.Replicas > 0 {
			s.Replicas = o.Replicas
		}
		if len(o.Hosts) > 0 {
			s.Hosts = slices.Clone(o.Hosts)
		}
	}
	return out
}

func (e Environment) copy() Environment {
	if e.Services == nil {
		return e
	}
	svcs := make(map[string]Override, len(e.Services))
	for name, o := range e.Services {
		svcs[name] = Override{Env: maps.Clone(o.Env), Secrets: slices.Clone(o.Secrets), Replicas: o.Replicas, Hosts: slices.Clone(o.Hosts)}
	}
	e.Services = svcs
	return e
}
