// Package actions holds the operator's deliberate actions — rollback,
// replay, dead-letter retry, lock, unlock, release — as one code path the CLI (cmd/slipway) and
// the HTTP API (package api) both call. Each records its actor with the
// deploy it requests; none writes to a store directly: a deploy is always
// a published request the deployer applies (a release, a release request
// the release workflow decides).
package actions
