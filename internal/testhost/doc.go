// Package testhost gives tests remote Docker hosts on this machine: each
// host is a network namespace the test creates, with a veth pair to the root
// namespace, its own sshd and its own dockerd, reachable from the test only
// over SSH. The hosts pull images through a TCP forwarder to the shared
// registry (127.0.0.1:5000), which listens on one address of a link of
// the root namespace that every host routes to.
//
// Contract:
//
//   - Addresses: host i (from 1) is 10.231.i.2 on its eth0, the root end of
//     its veth 10.231.i.1; the registry forwarder is 10.231.255.1:5000
//     (MustForward adds others on that address, each dockerd's insecure
//     registry); the Docker bridge inside host i is 10.231.(100+i).0/24. A
//     host routes to the root end of its veth and to the forwarders only:
//     it has no default route, so nothing beyond reaches it or is reached
//     from it.
//   - Each dockerd runs inside its namespace with its own data root, exec
//     root, pidfile, socket, managed containerd and cgroup parent; its
//     iptables rules live in the namespace's own tables, so the root
//     namespace's Docker networking is never touched.
//   - Everything is named with the prefix "swt-" (namespaces, links) and
//     lives under /run/swt and /var/lib/slipway/testhost. One harness runs at
//     a time on a machine (a flock); before it starts it removes whatever a
//     killed run left behind, and when the test ends, passed or failed, it
//     stops every process of its namespaces and removes the namespaces,
//     links, mounts, cgroups and directories. The daemons share the root
//     mount namespace (only the network namespace is theirs: dockerd needs
//     the cgroup file systems under /sys), so their mounts are detached by
//     path.
//   - Without ip, sshd or dockerd the test is skipped, or fails with
//     CI=true.
package testhost
