// Package preview gives every open pull request an environment of its own,
// "<template>-<number>" (pr-42), from the previews template a repository
// declares in slipway.yaml: opening or updating the pull request builds its
// head commit and deploys it there, with the template's values; closing or
// merging it removes every container of the preview and its record.
//
// A missed webhook does not leave a preview behind: Reconcile, run
// periodically, removes the preview of a pull request that is no longer open
// (asked through PullRequests: the git host's API, or whether the head
// branch still exists) and of one not updated for longer than the
// template's ttl, and removes again any container a deploy that raced the
// close brought back.
//
// Pull requests from forks are not built unless Config.AllowForks: their
// Dockerfiles are code from outside the repository.
package preview
