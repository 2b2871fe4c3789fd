// Package build turns commits into images. Planner is the one place builds
// are planned — a push to the default branch here, a push to another
// followed branch by the release workflow, a pull request head by the
// preview workflow: it admits the event, reads and validates the commit's
// slipway.yaml once per commit, and publishes one BuildRequested per
// service;
// each BuildRequested is one BuildKit solve, claimed in the claims store so
// that it runs once per (repository, commit, service) however often it is
// delivered; the worker that completes the last service publishes the
// commit-built event, once.
//
// A bad slipway.yaml or Dockerfile ends in a build-failed event with the
// reason and a permanent error, never a retry loop.
package build
