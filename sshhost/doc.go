// Package sshhost runs Slipway environments on remote Docker hosts reached
// over SSH: Target implements target.Target over a list of hosts, each
// driven by a docker.Target whose every connection (the daemon's socket,
// the containers' published ports) goes through that host's SSH
// connection (Conn).
//
// Contract:
//
//   - A host's key must be in the known_hosts file: an unknown, changed or
//     revoked key, or a refused login, is events.Permanent naming the host;
//     an unreachable host is events.Retryable. The private key is a file;
//     no password is ever accepted in a URL.
//   - One SSH connection per host, shared by every call, opened on first
//     use, dropped when it ends or misses a keep-alive, and re-opened by
//     the next dial.
//   - Deploy changes Options.Batch hosts at a time (1 by default), in the
//     order of Options.Hosts, each batch behind its hosts' health gates. A
//     host already running the release (docker.Target.Running, one call to
//     its daemon) is not touched, so a no-op redeploy is one round trip per
//     host and a later deploy converges hosts a failed one left behind.
//   - When a batch fails, every host the rollout changed is deployed again
//     with the release it ran before (read back from its containers'
//     labels), or cleared when it ran none; hosts not reached keep theirs.
//     The error names each failed host; it is permanent when every failure
//     is (a health gate), retryable when a host could not be reached or a
//     rollback failed.
//   - Addresses are "<host>:<port>": a port a container publishes on that
//     host's loopback, reached by Dial through the host's connection.
//   - With Options.ProxyImage, every host a rollout changes runs the host
//     proxy container (docker.EnsureProxy, `slipway host-proxy`).
//   - Deployment tasks run on the first host.
package sshhost
