// Package gitea is the forge for Gitea webhooks, and for Forgejo and Gogs,
// which send the same payloads under their own header names.
//
// Gitea also sends X-Gogs-* and X-GitHub-* copies of its headers, and Forgejo
// X-Gitea-* and X-Gogs-* ones. The event kind is read from X-Forgejo-Event,
// X-Gitea-Event or X-Gogs-Event (the first present, never X-GitHub-Event),
// the delivery id from the matching *-Delivery header. The signature is the
// hex HMAC-SHA256 of the JSON payload in X-Forgejo-Signature,
// X-Gitea-Signature or X-Gogs-Signature, falling back to X-Hub-Signature-256
// ("sha256=<hex>"); the SHA-1 X-Hub-Signature is never used. Gitea signs the
// JSON payload even when the hook posts it form-encoded, so that is what
// Verify checks. A hook without a secret sends empty signature headers: that
// is a missing signature.
//
// Normalisation, with Repo.Forge "gitea" whichever of the three hosts sent
// the delivery:
//
//   - push: as every forge (forge.Push); Gitea payloads have no force-push
//     marker, so Forced is always false; a new branch has an all-zero before;
//     Gitea reports tags pushed and deleted as pushes too;
//   - pull_request (and pull_request_*) opened, synchronized (new commits),
//     closed (merged or not, from pull_request.merged) and reopened:
//     *events.PullRequestChanged; other actions (edited, labels,
//     assignees, reviews) are ignored. Gogs names no head commit in its
//     pull request payloads: they are ignored (forge.ReasonNoHeadCommit);
//   - delete of a branch: *events.BranchDeleted without a before commit
//     (Gitea sends no push for it, and names no commit); delete of a tag:
//     *events.TagDeleted from Gogs, ignored from Gitea and Forgejo, whose
//     push event carries it; create events are ignored (the push carries
//     the new branch or tag; Gogs' names no commit);
//   - every other kind is ignored with its name. Gitea has no ping: its
//     "Test delivery" sends a push.
//
// The package performs no I/O.
package gitea
