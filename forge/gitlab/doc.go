// Package gitlab is the forge for GitLab (gitlab.com and self-managed)
// webhooks, project, group and system hooks alike.
//
// Authentication: GitLab sends the hook's secret token as is in
// X-Gitlab-Token; it is compared in constant time with each of the
// repository's secrets. A hook with a signing token (GitLab's Standard
// Webhooks signature, behind the webhook_signing_token feature flag) also
// sends webhook-id, webhook-timestamp and webhook-signature ("v1,<base64
// HMAC-SHA256 of id.timestamp.body>", several separated by spaces); when
// webhook-signature is present it must match one of the secrets (a secret
// "whsec_<base64>" is used base64-decoded, as Standard Webhooks specifies)
// and the timestamp must be within 5 minutes of the receiver's clock. When
// both headers are present both must verify. Without either the delivery is
// unsigned.
//
// The event kind comes from X-Gitlab-Event ("Push Hook", "Tag Push Hook",
// "Merge Request Hook"; a "System Hook" is dispatched on its object_kind).
// The delivery id is Idempotency-Key, which GitLab keeps on retries and
// manual resends, or else X-Gitlab-Event-UUID, or else webhook-id. The
// repository is project.path_with_namespace, which may name subgroups
// ("group/sub/project").
//
// Normalisation:
//
//   - Push Hook and Tag Push Hook: as every forge (forge.Push). GitLab has no
//     force-push marker (Forced is always false); a new branch has an
//     all-zero before, a deleted branch or tag an all-zero after; payloads
//     list at most 20 commits and CommitCount is total_commits_count. A tag
//     event's Commit is checkout_sha, the commit an annotated tag points to;
//   - Merge Request Hook open, reopen, close and merge, and update when it
//     carries oldrev (new commits): *events.PullRequestChanged with the head
//     commit last_commit.id and the source project as SourceRepo. An update
//     without oldrev changed no code and is ignored
//     (forge.ReasonNoNewCommits), as are approvals;
//   - every other kind is ignored with its name. GitLab has no ping: its
//     "Test" button sends a sample of the chosen event.
//
// The package performs no I/O; it reads the clock to check Standard Webhooks
// timestamps.
package gitlab
