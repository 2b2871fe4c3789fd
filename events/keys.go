package events

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Subject prefixes. Every Slipway subject starts with SubjectRoot so one stream
// ("SLIPWAY") holds the whole audit log.
const (
	SubjectRoot            = "slipway"
	SubjectPushReceived    = "slipway.push.received"
	SubjectBuildRequested  = "slipway.build.requested"
	SubjectBuildSucceeded  = "slipway.build.succeeded"
	SubjectBuildFailed     = "slipway.build.failed"
	SubjectCommitBuilt     = "slipway.commit.built"
	SubjectCommitFailed    = "slipway.commit.failed"
	SubjectDeployRequested = "slipway.deploy.requested"
	SubjectDeploySucceeded = "slipway.deploy.succeeded"
	SubjectDeployFailed    = "slipway.deploy.failed"
)

// KeyPart encodes s for use inside a dedup key, a KV key or a subject token:
// letters, digits and '-' stay, every other byte becomes "_" and two hex digits.
// "acme/shop" becomes "acme_2fshop". The encoding is injective.
func KeyPart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// RepoKey encodes a repository's full name for use inside a key: KeyPart of
// its lower-cased form. Git hosts match names case-insensitively (a
// delivery of "Acme/Shop" verifies with the secret of "acme/shop"), so
// every key naming a repository uses RepoKey, and two spellings of one
// repository share their dedup keys, claims and mirror.
func RepoKey(fullName string) string { return KeyPart(strings.ToLower(fullName)) }

// BuildKey is the dedup key of building one service of one commit.
func BuildKey(repo, sha, service string) string {
	return "build." + RepoKey(repo) + "." + sha + "." + KeyPart(service)
}

// ForcedKey is key of a step forced again by `slipway build -force`: key
// itself when force (the request's nonce) is empty, else key and
// ".force-<nonce>".
func ForcedKey(key, force string) string {
	if force == "" {
		return key
	}
	return key + ".force-" + KeyPart(force)
}

// CommitKey is the dedup key of a commit of a repository, used for the
// commit-built event of a branch.
func CommitKey(repo, branch, sha string) string {
	return "built." + RepoKey(repo) + "." + KeyPart(branch) + "." + sha
}

// DeployKey is the dedup key of deploying sha to env of repo. nonce is empty
// for the automatic deploy of a pipeline and unique for a deliberate one
// (rollback).
func DeployKey(repo, env, sha, nonce string) string {
	k := "deploy." + EnvKey(repo, env) + "." + sha
	if nonce != "" {
		k += "." + KeyPart(nonce)
	}
	return k
}

func (e *PushReceived) EventType() string { return TypePushReceived }
func (e *PushReceived) Subject() string   { return SubjectPushReceived }
func (e *PushReceived) CESubject() string { return e.Repo.FullName + "@" + e.After }

// DedupKey includes the ref: the same commit pushed to two branches is two
// pushes (and one build, through the build keys). It includes where the ref
// was before ("0" for a new branch): moving a branch back to a commit it
// held a moment ago (a force-push) is a new push, while a redelivery of the
// same move keeps its key.
func (e *PushReceived) DedupKey() string {
	before := e.Before
	if before == "" || strings.Trim(before, "0") == "" {
		before = "0"
	}
	return "push." + RepoKey(e.Repo.FullName) + "." + KeyPart(e.Ref) + "." + e.After + "." + before
}

func (e *BuildRequested) EventType() string { return TypeBuildRequested }
func (e *BuildRequested) Subject() string   { return SubjectBuildRequested }
func (e *BuildRequested) CESubject() string {
	return e.Repo.FullName + "@" + e.Commit + "/" + e.Service.Name
}
func (e *BuildRequested) DedupKey() string {
	return ForcedKey(BuildKey(e.Repo.FullName, e.Commit, e.Service.Name), e.Force) + ".requested"
}

func (e *BuildSucceeded) EventType() string { return TypeBuildSucceeded }
func (e *BuildSucceeded) Subject() string   { return SubjectBuildSucceeded }
func (e *BuildSucceeded) CESubject() string {
	return e.Repo.FullName + "@" + e.Commit + "/" + e.Service
}
func (e *BuildSucceeded) DedupKey() string {
	return ForcedKey(BuildKey(e.Repo.FullName, e.Commit, e.Service), e.Force) + ".succeeded"
}

func (e *BuildFailed) EventType() string { return TypeBuildFailed }
func (e *BuildFailed) Subject() string {
	if e.Service == "" {
		return SubjectCommitFailed
	}
	return SubjectBuildFailed
}
func (e *BuildFailed) CESubject() string {
	if e.Service == "" {
		return e.Repo.FullName + "@" + e.Commit
	}
	return e.Repo.FullName + "@" + e.Commit + "/" + e.Service
}
func (e *BuildFailed) DedupKey() string {
	if e.Service == "" {
		return CommitKey(e.Repo.FullName, e.Branch, e.Commit) + ".failed"
	}
	return BuildKey(e.Repo.FullName, e.Commit, e.Service) + ".failed"
}

func (e *CommitBuilt) EventType() string { return TypeCommitBuilt }
func (e *CommitBuilt) Subject() string   { return SubjectCommitBuilt }
func (e *CommitBuilt) CESubject() string { return e.Repo.FullName + "@" + e.Commit }
func (e *CommitBuilt) DedupKey() string {
	if e.Push != "" {
		return CommitKey(e.Repo.FullName, e.Branch, e.Commit) + "." + MoveNonce(e.Push)
	}
	return ForcedKey(CommitKey(e.Repo.FullName, e.Branch, e.Commit), e.Force)
}

// MoveNonce names a move of a branch (a push, by its dedup key) in other
// keys: "moved-" and 16 hex digits of its SHA-256.
func MoveNonce(pushKey string) string {
	sum := sha256.Sum256([]byte(pushKey))
	return "moved-" + hex.EncodeToString(sum[:8])
}

func (e *DeployRequested) EventType() string { return TypeDeployRequested }
func (e *DeployRequested) Subject() string {
	return EnvSubject(SubjectDeployRequested, e.Repo.FullName, e.Env)
}
func (e *DeployRequested) CESubject() string { return e.Env + "@" + e.Commit }
func (e *DeployRequested) DedupKey() string {
	return DeployKey(e.Repo.FullName, e.Env, e.Commit, e.Nonce)
}

func (e *DeploySucceeded) EventType() string { return TypeDeploySucceeded }
func (e *DeploySucceeded) Subject() string {
	return EnvSubject(SubjectDeploySucceeded, e.Repo.FullName, e.Env)
}
func (e *DeploySucceeded) CESubject() string { return e.Env + "@" + e.Commit }
func (e *DeploySucceeded) DedupKey() string  { return e.Request + ".succeeded" }

func (e *DeployFailed) EventType() string { return TypeDeployFailed }
func (e *DeployFailed) Subject() string {
	return EnvSubject(SubjectDeployFailed, e.Repo.FullName, e.Env)
}
func (e *DeployFailed) CESubject() string { return e.Env + "@" + e.Commit }
func (e *DeployFailed) DedupKey() string  { return e.Request + ".failed" }
