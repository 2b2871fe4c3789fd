package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/slipway-dev/slipway/events"
)

// Labels every object Slipway applies carries. Their values are label-safe
// forms (labelValue) of the repository, environment, service and commit;
// the annotation AnnotationRepo holds the repository's full name.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "slipway"
	LabelRepo      = "slipway.dev/repo"
	LabelEnv       = "slipway.dev/env"
	LabelService   = "slipway.dev/service"
	LabelCommit    = "slipway.dev/commit"
	// LabelPreview marks a preview's own namespace.
	LabelPreview = "slipway.dev/preview"
	// LabelTask names the deployment task a Job runs.
	LabelTask = "slipway.dev/task"

	AnnotationRepo = "slipway.dev/repo"
	// AnnotationRelease holds, as JSON, what a Deployment was applied from
	// (release): the source of Current and of a rollback.
	AnnotationRelease = "slipway.dev/release"
)

// FieldManager is the field manager of every server-side apply.
const FieldManager = "slipway"

var labelValuePattern = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)

// labelValue is s when it is a valid label value, else a valid one made of
// its safe characters and a hash of s: distinct inputs keep distinct values.
func labelValue(s string) string {
	if len(s) <= 63 && labelValuePattern.MatchString(s) {
		return s
	}
	return hashed(s, 50)
}

// repoLabel is the label value of a repository: events.RepoToken (one
// encoding for every spelling of a name), made label-safe.
func repoLabel(repo string) string { return labelValue(events.RepoToken(repo)) }

// hashed is s reduced to [a-z0-9-], at most keep characters, then "-" and
// 12 hex digits of its SHA-256: a DNS label and a label value.
func hashed(s string, keep int) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0:
			b.WriteByte('-')
		}
		if b.Len() >= keep {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" || base[0] < 'a' {
		base = "x" + base // a DNS-1035 label starts with a letter
	}
	return base + "-" + digest(s)[:12]
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// objectName is the name of the Deployment, Service and Ingress of service
// of env of repo: "<service>-<env>-<hash>", a DNS-1035 label unique per
// repository, environment and service.
func objectName(repo, env, service string) string {
	return hashed(service+"-"+env+"\x00"+events.RepoToken(repo), 40)
}

// pullSecretName is the name of the image pull secret of env of repo.
func pullSecretName(repo, env string) string {
	return "slipway-pull-" + digest(events.RepoToken(repo) + "\x00" + env)[:12]
}

// taskName is the name of the Job of a deployment task.
func taskName(repo, env, service, task, commit string) string {
	return hashed("task-"+service+"-"+task+"\x00"+events.RepoToken(repo)+"\x00"+env+"\x00"+commit, 40)
}

// envSelector selects every object of env of repo.
func envSelector(repo, env string) string {
	return LabelManagedBy + "=" + ManagedBy + "," + LabelRepo + "=" + repoLabel(repo) + "," + LabelEnv + "=" + labelValue(env)
}

// envLabels are the labels of every object of env of repo.
func envLabels(repo, env string) map[string]string {
	return map[string]string{
		LabelManagedBy: ManagedBy,
		LabelRepo:      repoLabel(repo),
		LabelEnv:       labelValue(env),
	}
}

// selectorLabels select the pods of one service: they never change for a
// Deployment (its selector is immutable).
func selectorLabels(repo, env, service string) map[string]string {
	l := envLabels(repo, env)
	l[LabelService] = labelValue(service)
	return l
}

// objectLabels are a service's labels with the commit.
func objectLabels(repo, env, service, commit string) map[string]string {
	l := selectorLabels(repo, env, service)
	l[LabelCommit] = labelValue(commit)
	return l
}
