// Package hostproxy is the proxy Slipway runs on each remote Docker host,
// as a container on the host's network: it routes the host names of the
// environments on that host to their live containers there, so a load
// balancer in front of the hosts needs nothing else.
//
// Contract:
//
//   - Routes come from the host's daemon alone: the host names a live
//     container's slipway.spec label declares (docker.SpecOf), read again
//     every Refresh. It needs no NATS and no deployer.
//   - A host name two environments' containers declare routes to neither
//     (the deployer's host claims prevent it; the proxy does not guess).
//   - Requests reach the containers' ports published on the host's
//     loopback (docker.Target.ResolveAll); everything else is proxy.Proxy's
//     contract.
package hostproxy
