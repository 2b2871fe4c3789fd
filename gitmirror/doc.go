// Package gitmirror implements build.Source with the git command-line tool.
//
// A Mirror keeps one bare repository per source repository under its
// directory (<dir>/<events.RepoKey(full name)>.git) and fetches into it only
// when a requested commit is missing: first every branch, then the commit by
// its id (for commits no branch reaches, such as pull-request heads). Fetched
// commits are never garbage-collected, so a commit seen once stays readable
// after a force-push.
//
// Guarantees:
//   - Commits are named by their full 40-hex id only; anything else is a
//     permanent error, so a branch name can never be built by accident.
//   - Several goroutines (builders) may use one Mirror at once: fetches into
//     the same mirror are serialised, reads and checkouts run in parallel,
//     and repositories never wait for one another.
//   - Every git network operation (fetch, ls-remote) is bounded: by the
//     Mirror's timeout (DefaultTimeout, 2 minutes, or WithTimeout), by git's
//     low-speed limit over HTTP (not a byte for 30 s) and, unless the
//     operator set GIT_SSH_COMMAND, GIT_SSH or core.sshCommand, by SSH
//     connect and keep-alive timeouts. git runs in a process group of its
//     own, killed whole, so no transport helper outlives a fetch. A fetch
//     waits for another fetch of the same repository at most 15 s
//     (WithLockWait), so a repository whose host hangs holds one worker.
//   - Checkout writes the exact tree of the commit (export-subst and
//     export-ignore attributes are disabled), with file times set to the
//     commit time so the same commit yields the same build context.
//   - Credentials of private repositories (WithCredentials, read by
//     LoadCredentials from a file only its owner may read) reach git in the
//     environment of the one git process that needs them: an HTTPS token as
//     an http.extraHeader (GIT_CONFIG_KEY_n) for the clone URL's origin, a
//     deploy key as a GIT_SSH_COMMAND that uses that key alone and trusts
//     only the host keys pinned in its known_hosts. A token is never on a
//     command line, in a URL, in the mirror's files or in an error.
//   - Credentials in clone URLs are never written to disk (the URL is passed
//     to each fetch, not stored as a remote) and are stripped from every
//     error.
//
// Errors carry their policy: an unreachable remote, a fetch past its
// timeout (ErrTimeout) and a fetch that waited too long for another are
// events.Retryable; a host refusing the credentials or asking for some
// (ErrAuth), an SSH host key not pinned (ErrHostKey), a bad commit id, a
// commit the remote does not have and a missing file are events.Permanent (a missing file also wraps fs.ErrNotExist).
package gitmirror
