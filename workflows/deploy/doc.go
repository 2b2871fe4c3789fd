// Package deploy moves environments between commits. A commit built on the
// default branch is requested for staging; each deploy request is claimed so
// it is applied once, a request for the commit an environment already runs
// changes nothing, and a deploy that fails its health checks leaves the
// previous commit serving and is recorded as failed.
package deploy
