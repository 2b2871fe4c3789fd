// Package faulttest runs Slipway as real processes so that tests can break
// them: an external nats-server (or a 3-node JetStream cluster), cmd/ingest,
// any number of cmd/builder and cmd/deployer, against the real buildkitd,
// registry and dockerd of scripts/setup.sh. A test kills any process with
// SIGKILL, restarts the shared daemons (holding internal/daemonlock
// exclusively, and restoring them with scripts/setup.sh when it ends), and
// then checks Slipway's invariants from the stream, the processes' logs and
// Docker's labels:
//
//   - builds started ÷ unique (commit, service) = 1, counting a build cut
//     short by a kill or a daemon restart apart;
//   - deploys applied ÷ (environment, commit) = 1;
//   - no acknowledged webhook lost: every push ingest answered 2xx is in the
//     stream and was built;
//   - the environment ends on the right commit.
//
// Binaries are built once per test process into a temporary directory that
// Main removes; nats-server comes from tests/scripts/nats-server.sh (a cache
// directory outside the repository). A missing component skips a test,
// except with CI=true, where it fails it.
package faulttest
