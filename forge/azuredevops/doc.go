// Package azuredevops is the forge for Azure DevOps (and Azure DevOps
// Server) service hooks of Azure Repos.
//
// Azure DevOps signs nothing: a service hook subscription authenticates
// itself with HTTP Basic auth. Each of the repository's secrets is compared
// in constant time with the password, or, when the secret contains a colon,
// with "user:password" whole. A delivery without Authorization is unsigned;
// another scheme is a bad signature. Basic auth proves the sender knows the
// secret; it does not protect the body, so the receiver must be reached over
// TLS.
//
// There is no event header: the kind is the body's eventType and the
// delivery id the body's id, which Azure keeps when it retries a
// notification. The repository is "<project>/<repository>" (the
// organisation is not part of it); its clone URL is remoteUrl, without the
// user name Azure puts in it.
//
// Normalisation:
//
//   - git.push: one event per entry of resource.refUpdates, as every forge
//     (forge.Push); the commit list (newest first in Azure's payloads,
//     reordered oldest first) is attached when the push updated one ref.
//     There is no force-push marker;
//   - git.pullrequest.created: opened; git.pullrequest.updated: merged when
//     the status is completed, closed when abandoned, otherwise updated
//     (Azure does not say whether commits were pushed or the title edited:
//     subscribe with the "Source branch updated" filter to receive only new
//     commits; the dedup key names the head commit); git.pullrequest.merged:
//     merged once the pull request is completed, ignored for a merge attempt
//     that did not complete it. The head commit is lastMergeSourceCommit, the
//     source repository forkSource's when the pull request comes from a fork;
//   - every other event type is ignored with its name.
//
// The package performs no I/O.
package azuredevops
