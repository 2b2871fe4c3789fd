// Package generic is the forge for any other git host, or a CI job: a small
// documented JSON format, signed with HMAC-SHA256. Its route is
// /webhooks/generic.
//
// # Request
//
//	POST /webhooks/generic
//	Content-Type: application/json
//	X-Slipway-Signature: sha256=<hex HMAC-SHA256 of the raw body under the repository's secret>
//
// For example, with openssl:
//
//	sig=$(openssl dgst -sha256 -hmac "$SECRET" -hex < body.json | sed 's/^.* //')
//	curl -H "Content-Type: application/json" -H "X-Slipway-Signature: sha256=$sig" \
//	     --data-binary @body.json http://slipway:7700/webhooks/generic
//
// # Body (version 1)
//
// Every body is a JSON object with:
//
//	version      1 (optional; another version is refused)
//	id           the delivery id, unique per event and unchanged when the same
//	             event is sent again: a resend within 7 days publishes nothing
//	event        "push", "pull_request" or "ping"; any other is answered 202
//	             and ignored
//	repository   {"full_name": "owner/name", "clone_url": "https://...",
//	             "default_branch": "main"}; full_name selects the secret
//
// A push (a branch or a tag, created, updated or deleted) adds:
//
//	ref          "refs/heads/<branch>" or "refs/tags/<tag>"
//	before       the previous commit, 40 or 64 lower-case hex digits; all
//	             zeros or absent for a new ref
//	after        the new commit; all zeros for a deleted ref
//	created, deleted, forced
//	             optional booleans (a zero before or after also says it)
//	pusher       optional
//	commits      optional, oldest first: [{"id", "message", "author"}]
//
// A pull request adds "pull_request":
//
//	action       "opened", "updated" (new commits), "merged", "closed"
//	             (without merging) or "reopened"
//	number       a positive integer
//	head_sha     the head commit (7 to 64 lower-case hex digits)
//	head_branch, base_branch
//	source_repository
//	             optional, as repository, when the head branch lives in a fork
//	title, author, merge_sha
//	             optional
//
// A ping is answered 200 and publishes nothing. The answers and their
// status codes are those of every route (see package ingest).
//
// The package performs no I/O.
package generic
