// Package forge is the boundary between git hosts and Slipway: one Forge per
// host family (forge/github, forge/gitea for Gitea, Forgejo and Gogs,
// forge/gitlab, forge/bitbucket, forge/bitbucketserver, forge/azuredevops and
// forge/generic for a documented signed JSON format) turns a webhook delivery
// into normalised events, and a Registry finds the forge for a route.
//
// The contract of every Forge:
//
//   - Repo reads the repository full name from the body. Receivers call it
//     on verified deliveries only (ingest verifies against every configured
//     secret first, then checks the repository named owns the secret that
//     matched); it decides nothing else.
//   - Verify checks the delivery's HMAC, token or password against any of the
//     secrets (rotation) in constant time and returns an error wrapping
//     ErrMissingSignature or ErrBadSignature. It never logs or returns a
//     secret.
//   - Parse is pure: it reads the request and nothing else. Receivers call it
//     once Verify succeeded. It
//     returns a Delivery of at least one valid event (lower-case hex commit
//     ids, a branch or tag, a clone URL without credentials; see
//     forgetest.CheckEvent), every event naming the repository Repo returns;
//     an *events.IgnoredError for a delivery understood and not acted on (a
//     ping, a create event the push carries, a pull request action other than
//     opened, updated with new commits, merged, closed or reopened, other
//     event kinds); or an error wrapping ErrMalformed. It never panics on any
//     input.
//
// Every forge decodes JSON through Decode, which refuses a payload nesting
// arrays or objects deeper than MaxDepth (ErrMalformed) before decoding, so
// no payload can overflow the decoder's stack.
//
// Forges perform no I/O: they read bytes and headers, nothing else. Stamping
// the time a delivery was received and publishing it belong to the caller
// (package ingest).
package forge
