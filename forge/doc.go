// Package forge is the boundary between git hosts and Slipway: one Forge per
// host family (forge/github, forge/gitea) turns a webhook delivery into a
// normalised event, and a Registry finds the forge for a route.
//
// The contract of every Forge:
//
//   - Repo reads the repository full name from the body without verifying it,
//     so that the caller can choose that repository's secrets; it never
//     decides anything else from unverified bytes.
//   - Verify checks the delivery's HMAC against any of the secrets (rotation)
//     in constant time and returns an error wrapping ErrMissingSignature or
//     ErrBadSignature. It never logs or returns a secret.
//   - Parse is called only after Verify succeeded. It returns a Delivery whose
//     Event is valid (a lower-case hex commit id, a branch, a clone URL without
//     credentials), an *events.IgnoredError for a delivery understood and not
//     acted on (ping, tags, branch deletions, pull requests, other event
//     kinds), or an error wrapping ErrMalformed. It never panics on any input.
//
// Forges perform no I/O: they read bytes and headers, nothing else. Stamping
// the time a delivery was received and publishing it belong to the caller
// (package ingest).
package forge
