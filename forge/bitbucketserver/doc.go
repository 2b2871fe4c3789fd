// Package bitbucketserver is the forge for Bitbucket Server and Bitbucket
// Data Center webhooks.
//
// A webhook with a secret signs the raw body: X-Hub-Signature is
// "sha256=<hex HMAC-SHA256>". The event kind comes from X-Event-Key (or the
// body's eventKey, which is the same), the delivery id from X-Request-Id. The
// repository is "<project key>/<slug>" ("PRJ/my-repo"); its clone URL is the
// http link of repository.links.clone, which older servers leave out of
// their payloads: the forge then builds it from the server's base URL,
// configured WithBaseURL, as <base>/scm/<project>/<slug>.git. Without either
// the delivery is malformed.
//
// Normalisation:
//
//   - repo:refs_changed: one event per entry of changes, as every forge
//     (forge.Push): ADD creates, DELETE deletes (all-zero toHash). The
//     payload lists no commits and has no force-push marker;
//   - pr:opened, pr:from_ref_updated (new commits), pr:merged, pr:declined,
//     pr:deleted (closed without merging) and pr:reopened:
//     *events.PullRequestChanged, the head being fromRef.latestCommit and
//     SourceRepo fromRef's repository (a fork); other pr:* keys (modified,
//     reviewers, comments) are ignored;
//   - diagnostics:ping, the "Test connection" button: a ping (answered 200);
//     every other kind is ignored with its name.
//
// Payloads do not name the repository's default branch; the receiver's
// default applies. The package performs no I/O.
package bitbucketserver
