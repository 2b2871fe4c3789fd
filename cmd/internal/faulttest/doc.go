// Package faulttest runs Slipway as real processes so that tests can break
// them: an external nats-server (or a 3-node JetStream cluster), cmd/ingest,
// any number of cmd/builder and cmd/deployer, against the real buildkitd,
// registry and dockerd of scripts/setup.sh. A test kills any process with
// SIGKILL, restarts the shared daemons (holding internal/daemonlock
// exclusively, and restoring them with scripts/setup.sh when it ends), and
// then checks Slipway's invariants from durable state, never from log text:
// the stream, the claims of bucket slipway_claims and Docker's labels.
//
//   - builds solved ÷ unique (commit, service) = 1, from the build-succeeded
//     events; builds started ÷ unique (commit, service) = 1, from the
//     attempts each build's claim records, counting a build cut short by a
//     kill or a daemon restart apart;
//   - deploys applied ÷ (environment, commit) = 1, from the deploy-succeeded
//     events and the deploy claims, and no container of another commit left
//     in the environment;
//   - no acknowledged webhook lost: every push ingest answered 2xx is in the
//     stream and was built;
//   - the environment ends on the right commit.
//
// A fault lands mid-step when the step is seen running, not after a sleep:
// WaitBuilding waits until a build's claim is held and buildkitd runs its
// solve, WaitDeploying until a deploy's claim is held and a candidate
// container of its commit is there; both name the process holding the step.
//
// Binaries are built once per test process into a temporary directory that
// Main removes; nats-server comes from tests/scripts/nats-server.sh (a cache
// directory outside the repository). A missing component skips a test,
// except with CI=true, where it fails it.
package faulttest
