// Package github is the forge for GitHub (github.com, Enterprise Cloud and
// Enterprise Server) webhooks.
//
// It accepts deliveries signed with X-Hub-Signature-256 ("sha256=<hex>", an
// HMAC-SHA256 of the raw body). The legacy SHA-1 X-Hub-Signature is accepted
// only from a forge built WithSHA1 and only when no SHA-256 signature was
// sent; otherwise it alone counts as a missing signature. The event kind
// comes from X-GitHub-Event and the delivery id from X-GitHub-Delivery, which
// GitHub keeps when a delivery is redelivered. Bodies may be JSON or
// form-encoded (payload=...). Gitea, Forgejo and Gogs also send X-GitHub-*
// headers: a delivery carrying their own event headers is refused as
// malformed so that it is sent to /webhooks/gitea instead.
//
// Normalisation:
//
//   - push to a branch: *events.PushReceived (Forced and Created from the
//     payload, commits oldest first); a deleted branch (all-zero after):
//     *events.BranchDeleted; a tag pushed or deleted: *events.TagPushed or
//     *events.TagDeleted (Commit is the head commit of an annotated tag);
//   - pull_request opened, synchronize (new commits), closed (merged or
//     not, from pull_request.merged) and reopened: *events.PullRequestChanged
//     with the head repository as SourceRepo (a fork); other actions are
//     ignored;
//   - ping: ignored as a ping (answered 200); create and delete events are
//     ignored because the push event carries the same change; every other
//     kind is ignored with its name.
//
// The package performs no I/O.
package github
