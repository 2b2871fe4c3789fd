// Package forgeapi talks to the REST APIs of git hosts on Slipway's behalf:
// it posts commit statuses (build and deploy results), comments on pull
// requests (release plans) and asks whether a pull request is still open.
// One Client per host kind: GitHub (and GitHub Enterprise), Gitea and
// Forgejo (and Gogs' Gitea-compatible API), GitLab, and Bitbucket Cloud.
//
// Every call is bounded by the context and the client's timeout; a host
// that answers with an error or not at all is an error, never a hang. The
// token travels only in the Authorization (or PRIVATE-TOKEN) header and is
// never part of an error or a log.
package forgeapi
