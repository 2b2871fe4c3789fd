package docker

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/slipway-dev/slipway/workflows/deploy"
)

// Labels every Slipway container carries, so the state of an environment can
// be read from Docker alone.
const (
	LabelEnv     = "slipway.env"
	LabelService = "slipway.service"
	LabelCommit  = "slipway.commit"
	LabelRepo    = "slipway.repo"
	LabelDigest  = "slipway.digest"
	LabelImage   = "slipway.image"
	// LabelPort is the container port the service listens on.
	LabelPort = "slipway.port"
)

// namePattern is what an environment or a service name may look like: one
// DNS label, so that "<service>.<env>.<domain>" is a host name and
// "slipway-<env>-<service>" a container name.
var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkName rejects an environment or service name that cannot be routed.
func checkName(kind, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%s name %q is not a lower-case DNS label", kind, name)
	}
	return nil
}

// LiveName is the name of the container that serves service in env: the one
// Resolve and the proxy route to.
func LiveName(env, service string) string {
	return "slipway-" + env + "-" + service
}

// candidateName is the name a new container carries until it is promoted.
func candidateName(env, service, commit string) string {
	return LiveName(env, service) + "-" + short(commit)
}

// retiredName is the name a replaced container carries until it is removed.
func retiredName(env, service, id string) string {
	return LiveName(env, service) + "-retired-" + short(id)
}

// short returns the first 12 characters of a commit or container id.
func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// labels returns the labels of a new container for img in d.
func labels(d deploy.Deployment, service, image, digest string, port int) map[string]string {
	return map[string]string{
		LabelEnv:     d.Env,
		LabelService: service,
		LabelCommit:  d.Commit,
		LabelRepo:    d.Repo,
		LabelDigest:  digest,
		LabelImage:   image,
		LabelPort:    strconv.Itoa(port),
	}
}

// isLive reports whether a container called name with labels l is the live
// container of its service. Docker prefixes names with a slash.
func isLive(name string, l map[string]string) bool {
	return strings.TrimPrefix(name, "/") == LiveName(l[LabelEnv], l[LabelService])
}
