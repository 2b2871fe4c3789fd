// Package bitbucket is the forge for Bitbucket Cloud (bitbucket.org)
// webhooks. Bitbucket Server and Data Center have their own forge,
// forge/bitbucketserver.
//
// Bitbucket Cloud signs a delivery when the webhook has a secret:
// X-Hub-Signature is "sha256=<hex HMAC-SHA256 of the raw body>" (the header
// name GitHub uses for SHA-1, with SHA-256 here). The event kind comes from
// X-Event-Key, the delivery id from X-Request-UUID, which identifies the
// request across Bitbucket's retries (X-Attempt-Number counts them;
// X-Hook-UUID names the webhook, not the delivery, and is not used). The
// repository is repository.full_name ("workspace/slug"); its clone URL is the
// https one of links.clone, or links.html with ".git".
//
// Normalisation:
//
//   - repo:push: one event per entry of push.changes, as every forge
//     (forge.Push): created, closed (deleted) and forced come from the
//     change; commits are listed newest first by Bitbucket and at most 5
//     (truncated) and are reordered oldest first. A change of another kind
//     of ref is skipped;
//   - pullrequest:created, pullrequest:updated, pullrequest:fulfilled
//     (merged) and pullrequest:rejected (declined): *events.PullRequestChanged.
//     Bitbucket fires pullrequest:updated for new commits and for edits of
//     the title or description alike and says nothing about which; an
//     update is taken as new commits, and the dedup key (which names the
//     head commit) makes an edit without new commits a duplicate of nothing
//     new to build. Bitbucket names pull request commits by their first 12
//     hex digits only: HeadSHA and MergeSHA are abbreviated;
//   - every other kind is ignored with its name. Bitbucket Cloud has no
//     ping. Payloads do not name the repository's main branch unless
//     repository.mainbranch is present; the receiver's default applies.
//
// The package performs no I/O.
package bitbucket
