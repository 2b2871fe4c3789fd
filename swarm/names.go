package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/slipway-dev/slipway/events"
	"github.com/slipway-dev/slipway/workflows/deploy"
)

// LabelRole is the label saying what a Slipway service is: RoleLive
// serves the environment, RoleCandidate is a deploy's new service until it
// passed the gate. The other labels are docker's (docker.LabelRepo, ...).
const (
	LabelRole     = "slipway.role"
	RoleLive      = "live"
	RoleCandidate = "candidate"
	// LabelStarted is the commit a service's tasks were started at (their
	// SLIPWAY_COMMIT and ServiceName's commit): a service a deploy kept
	// because it did not change serves later commits (docker.LabelCommit)
	// from the tasks it started with.
	LabelStarted = "slipway.started"
)

// maxName is the longest service name Swarm takes.
const maxName = 63

// ServiceName is the Swarm service running service of env of repo at
// commit and digest: "slipway_<env>_<service>_<repo8>_<commit10>-<digest8>",
// repo8 the start of the SHA-256 of the repository. Swarm names are one
// DNS label of at most 63 characters without "." (so not docker.LiveName);
// environment and service names hold no "_", so two names of different
// environments or services never meet. A name that would be longer is
// "slipway_" and the start of the SHA-256 of all of them.
func ServiceName(repo, env, service, commit, digest string) string {
	dig := strings.TrimPrefix(digest, "sha256:")
	n := "slipway_" + env + "_" + service + "_" + hash(repo)[:8] + "_" + short(commit, 10) + "-" + short(dig, 8)
	if len(n) <= maxName {
		return n
	}
	return "slipway_" + hash(repo + "\x00" + env + "\x00" + service + "\x00" + commit + "\x00" + digest)[:32]
}

// hash returns the hex SHA-256 of s.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// short returns the first n characters of s.
func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// namePattern is what an environment or a service name may look like: one
// lower-case DNS label (docker's rule), which holds no "_".
var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkNames refuses, for good, a deployment whose environment or service
// names could not name a service.
func checkNames(d deploy.Deployment) error {
	names := []string{d.Env}
	for _, img := range d.Images {
		names = append(names, img.Service.Name)
	}
	for _, n := range names {
		if !namePattern.MatchString(n) {
			return events.Permanent(fmt.Errorf("name %q is not a lower-case DNS label", n))
		}
	}
	if d.Commit == "" || len(d.Images) == 0 {
		return events.Permanent(errors.New("a deployment needs a commit and at least one image"))
	}
	return nil
}
