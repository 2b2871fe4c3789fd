// Package gitea is the forge for Gitea webhooks, and for Forgejo and Gogs,
// which send the same payloads under their own header names.
//
// The event kind is read from X-Forgejo-Event, X-Gitea-Event or X-Gogs-Event
// (the first present), the delivery id from the matching *-Delivery header.
// The signature is the hex HMAC-SHA256 of the JSON payload in
// X-Forgejo-Signature, X-Gitea-Signature or X-Gogs-Signature, falling back to
// X-Hub-Signature-256 ("sha256=<hex>"). Gitea signs the JSON payload even when
// the hook posts it form-encoded, so that is what Verify checks. A hook
// without a secret sends empty signature headers: that is a missing signature.
//
// A push to a branch becomes an *events.PushReceived with Repo.Forge "gitea"
// whichever of the three hosts sent it. Gitea payloads have no force-push
// marker, so Forced is always false. Branch and tag creation and deletion
// events, tags, pull requests and every other event kind are ignored with a
// reason (see forge.Reason*). The package performs no I/O.
package gitea
