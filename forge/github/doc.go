// Package github is the forge for GitHub (github.com, Enterprise Cloud and
// Enterprise Server) webhooks.
//
// It accepts deliveries signed with X-Hub-Signature-256 ("sha256=<hex>", an
// HMAC-SHA256 of the raw body); the legacy SHA-1 X-Hub-Signature alone is
// treated as a missing signature. The event kind comes from X-GitHub-Event and
// the delivery id from X-GitHub-Delivery, which GitHub keeps when a delivery
// is redelivered. Bodies may be JSON or form-encoded (payload=...).
//
// A push to a branch becomes an *events.PushReceived. Pings, tags, branch
// deletions, create/delete events, pull requests and every other event kind
// are ignored with a reason (see forge.Reason*). The package performs no I/O.
package github
