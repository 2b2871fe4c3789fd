// Package build turns pushes into images. A push to the default branch is
// planned into one BuildRequested per service of the commit's slipway.yaml;
// each BuildRequested is one BuildKit solve, claimed in the claims store so
// that it runs once per (repository, commit, service) however often it is
// delivered; the worker that completes the last service publishes the
// commit-built event, once.
//
// A bad slipway.yaml or Dockerfile ends in a build-failed event with the
// reason and a permanent error, never a retry loop.
package build
