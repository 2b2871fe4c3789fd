package docker

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/slipway-dev/slipway/events"
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
	// LabelReplica is the index of the container among its service's
	// replicas, from 0; a container without it is replica 0.
	LabelReplica = "slipway.replica"
	// LabelReplicas is how many replicas the service has in the release the
	// container belongs to.
	LabelReplicas = "slipway.replicas"
	// LabelSpec is the service as the release declares it (JSON of
	// events.ServiceSpec without its build and task fields), so a release
	// can be deployed again from what runs (Running) and a proxy beside
	// the containers knows their host names.
	LabelSpec = "slipway.spec"
)

// namePattern is what an environment or a service name may look like: one
// DNS label, so that "<service>.<env>.<repo>.<domain>" is a host name and
// neither holds the "." that separates the parts of a container name.
var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkName rejects an environment or service name that cannot be routed.
func checkName(kind, name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%s name %q is not a lower-case DNS label", kind, name)
	}
	return nil
}

// LiveName is the name of replica 0 of service in env of repo, the one
// Resolve returns: "slipway.<repo>.<env>.<service>", the repository encoded
// by events.RepoToken ("acme_2fshop"). Environment and service names hold
// no ".", nor does the encoded repository, so two names of different
// repositories, environments or services never meet, however their parts
// split ("a"+"b-c" and "a-b"+"c" stay apart).
func LiveName(repo, env, service string) string {
	return "slipway." + events.RepoToken(repo) + "." + env + "." + service
}

// envPrefix is how the names of every container of env of repo begin:
// "slipway.<repo>.<env>.".
func envPrefix(repo, env string) string {
	return "slipway." + events.RepoToken(repo) + "." + env + "."
}

// belongs reports whether a container called name with labels l is one of
// env of repo: labelled for repo, and named under env's prefix (envPrefix)
// or, with a name of no environment of repo (a legacy name, Adopt),
// labelled for env. A container is named under the environment it belongs
// to: one moved into env (Deployment.From) keeps the slipway.env label of
// the environment it started in, and belongs to env only.
func belongs(name string, l map[string]string, repo, env string) bool {
	name = strings.TrimPrefix(name, "/")
	if l[LabelRepo] != repo {
		return false
	}
	if strings.HasPrefix(name, envPrefix(repo, env)) {
		return true
	}
	return l[LabelEnv] == env && !strings.HasPrefix(name, "slipway."+events.RepoToken(repo)+".")
}

// EnvOf returns the environment a container called name with labels l
// belongs to (belongs): the one its name is in, which for a container
// moved into it (Deployment.From) is not its slipway.env label.
func EnvOf(name string, l map[string]string) string {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(name, "/"), "slipway."+events.RepoToken(l[LabelRepo])+".")
	if !ok {
		return l[LabelEnv]
	}
	env, _, _ := strings.Cut(rest, ".")
	return env
}

// ReplicaName is the live name of replica i of service in env of repo:
// LiveName for replica 0, LiveName + ".r<i>" for the others.
func ReplicaName(repo, env, service string, i int) string {
	if i == 0 {
		return LiveName(repo, env, service)
	}
	return LiveName(repo, env, service) + ".r" + strconv.Itoa(i)
}

// LegacyReplicaName is the live name earlier versions gave replica i of
// service in env, without the repository: "slipway-<env>-<service>", and
// "-r<i>" after it for i > 0. Adopt renames such containers.
func LegacyReplicaName(env, service string, i int) string {
	n := "slipway-" + env + "-" + service
	if i > 0 {
		n += "-r" + strconv.Itoa(i)
	}
	return n
}

// replicas returns how many containers run s: at least one.
func replicas(s events.ServiceSpec) int {
	return max(s.Replicas, 1)
}

// replicaOf returns the replica index a container's labels name; a
// container without the label is replica 0.
func replicaOf(l map[string]string) int {
	i, err := strconv.Atoi(l[LabelReplica])
	if err != nil || i < 0 {
		return 0
	}
	return i
}

// CandidateName is the name a new container of commit carries until it is
// promoted: its live name and ".<sha12>".
func CandidateName(repo, env, service string, replica int, commit string) string {
	return ReplicaName(repo, env, service, replica) + "." + short(commit)
}

// RetiredName is the name a replaced container carries until it is
// removed: its live name and ".retired-<id12>".
func RetiredName(repo, env, service string, replica int, id string) string {
	return ReplicaName(repo, env, service, replica) + ".retired-" + short(id)
}

// short returns the first 12 characters of a commit or container id.
func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// labels returns the labels of replica i of img in d.
func labels(d deploy.Deployment, img events.Image, replica int) map[string]string {
	l := map[string]string{
		LabelEnv:      d.Env,
		LabelService:  img.Service.Name,
		LabelCommit:   d.Commit,
		LabelRepo:     d.Repo,
		LabelDigest:   img.Digest,
		LabelImage:    img.Ref,
		LabelPort:     strconv.Itoa(img.Service.Port),
		LabelReplica:  strconv.Itoa(replica),
		LabelReplicas: strconv.Itoa(replicas(img.Service)),
		LabelSpec:     specLabel(img.Service),
	}
	if v := secretsLabel(d, img.Service); v != "" {
		l[LabelSecrets] = v
	}
	return l
}

// isLive reports whether a container called name with labels l is the live
// container of its service and replica. Docker prefixes names with a slash.
func isLive(name string, l map[string]string) bool {
	return strings.TrimPrefix(name, "/") == ReplicaName(l[LabelRepo], l[LabelEnv], l[LabelService], replicaOf(l))
}

// nameOf returns the name of c without Docker's slash, or "".
func nameOf(c container.Summary) string {
	if len(c.Names) == 0 {
		return ""
	}
	return strings.TrimPrefix(c.Names[0], "/")
}

// liveOf reports whether c is a live container.
func liveOf(c container.Summary) bool {
	return len(c.Names) > 0 && isLive(c.Names[0], c.Labels)
}
