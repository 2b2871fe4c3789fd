#!/usr/bin/env bash
# build-firewall.sh keeps BuildKit's build containers away from this machine.
#
# buildkitd (deployments/buildkitd.toml, networkMode "bridge") gives each RUN
# step that has network a namespace of its own on the bridge BRIDGE
# (buildkit0). These rules drop what those namespaces send to this machine
# itself (INPUT: NATS, the webhook receiver, the registry, the proxy, any
# port on any address of the host) and to Docker's networks (FORWARD: the
# containers Slipway deploys, published ports included). Traffic to the
# internet, NATed by the bridge, is unaffected.
#
# Usage: build-firewall.sh [BRIDGE]. Every rule is checked before it is
# inserted, so a rerun changes nothing. IPv4 and, when ip6tables is there,
# IPv6.
set -Eeuo pipefail

BRIDGE=${1:-buildkit0}

# ensure inserts a rule at the top of a chain unless it is there already.
ensure() {
	local cmd=$1 chain=$2
	shift 2
	"$cmd" -w -C "$chain" "$@" 2>/dev/null || "$cmd" -w -I "$chain" 1 "$@"
}

for cmd in iptables ip6tables; do
	command -v "$cmd" >/dev/null || continue
	ensure "$cmd" INPUT -i "$BRIDGE" -m comment --comment "slipway: builds never reach this host" -j DROP
	for out in 'docker+' 'br-+'; do
		ensure "$cmd" FORWARD -i "$BRIDGE" -o "$out" -m comment --comment "slipway: builds never reach deployed containers" -j DROP
	done
done
