// Package forge is the boundary between git hosts and Slipway: one Forge per
// host family (forge/github, forge/gitea for Gitea, Forgejo and Gogs,
// forge/gitlab, forge/bitbucket, forge/bitbucketserver, forge/azuredevops and
// forge/generic for a documented signed JSON format) turns a webhook delivery
// into normalised events, and a Registry finds the forge for a route.
//
// The contract of every Forge:
//
//   - Repo reads the repository full name from the body without verifying it,
//     so that the caller can choose that repository's secrets; it never
//     decides anything else from unverified bytes.
//   - Verify checks the delivery's HMAC, token or password against any of the
//     secrets (rotation) in constant time and returns an error wrapping
//     ErrMissingSignature or ErrBadSignature. It never logs or returns a
//     secret.
//   - Parse is pure: it reads the request and nothing else, so a receiver may
//     call it before Verify to learn the repository (saving a second decoding
//     of the body), but acts on its result only after Verify succeeded. It
//     returns a Delivery of at least one valid event (lower-case hex commit
//     ids, a branch or tag, a clone URL without credentials; see
//     forgetest.CheckEvent), every event naming the repository Repo returns;
//     an *events.IgnoredError for a delivery understood and not acted on (a
//     ping, a create event the push carries, a pull request action other than
//     opened, updated with new commits, merged, closed or reopened, other
//     event kinds); or an error wrapping ErrMalformed. It never panics on any
//     input.
//
// Forges perform no I/O: they read bytes and headers, nothing else. Stamping
// the time a delivery was received and publishing it belong to the caller
// (package ingest).
package forge
