package events

import "time"

// TypeReleaseRequested is the CloudEvents type of ReleaseRequested.
const TypeReleaseRequested = "dev.slipway.release.requested." + SchemaVersion

// SubjectReleaseRequested is the subject prefix of ReleaseRequested; the
// repository and the environment are the last tokens (EnvSubject).
const SubjectReleaseRequested = "slipway.release.requested"

// ReleaseRequested asks for the release of Commit to Env without a pin
// file: an operator's action through the HTTP API (POST
// /api/v1/repos/{owner}/{name}/envs/{env}/release). The release workflow
// answers it as it answers the merge of a release pull request pinning
// Commit, once the commit passes the gates `slipway release` applies
// before it writes a pin; nothing is pushed and no pin file changes.
type ReleaseRequested struct {
	Repo Repo   `json:"repo"`
	Env  string `json:"env"`
	// Commit is the full commit id (the API resolves a prefix).
	Commit string `json:"commit"`
	// Actor is who asked: the API token's name.
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
	// Nonce makes each request its own event: asking twice is two
	// requests, a redelivery is the same one.
	Nonce       string    `json:"nonce"`
	RequestedAt time.Time `json:"requested_at"`
}

func (e *ReleaseRequested) EventType() string { return TypeReleaseRequested }
func (e *ReleaseRequested) Subject() string {
	return EnvSubject(SubjectReleaseRequested, e.Repo.FullName, e.Env)
}
func (e *ReleaseRequested) CESubject() string { return e.Env + "@" + e.Commit }

// DedupKey names the environment, the commit and the request's nonce:
// "release.<repo>.<env>.<sha>.<nonce>". It is the key of the release
// workflow's claim on the request, and the trigger of the deploy request
// it leads to.
func (e *ReleaseRequested) DedupKey() string {
	return "release." + EnvKey(e.Repo.FullName, e.Env) + "." + e.Commit + "." + KeyPart(e.Nonce)
}
