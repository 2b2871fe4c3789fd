#!/usr/bin/env bash
# build-network.sh checks that a build step with network cannot connect to
# any port of the machine it runs on. It starts a buildkitd of its own with
# deployments/buildkitd.toml and the rules of scripts/build-firewall.sh,
# inside a network namespace it creates (so the build bridge, its gateway and
# the listener standing for NATS/ingest/the registry are all in that
# namespace, and nothing reaches the real host or leaves the machine), runs
# a RUN step that connects to the listener, and fails if it got through.
#
#   MODE=bridge   (default) the shipped configuration: the step targets the
#                 bridge's gateway, which is this machine
#   MODE=host     the old configuration (networkMode = "host"): the step
#                 targets 127.0.0.1; expected to FAIL
#   FIREWALL=0    bridge without build-firewall.sh; expected to FAIL
#
# Needs root, ip, iptables, busybox, /usr/lib/cni (containernetworking-plugins)
# and $SLIPWAY_HOME/bin/{buildkitd,buildctl} from scripts/setup.sh.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${SLIPWAY_HOME:-/var/lib/slipway}/bin
MODE=${MODE:-bridge}
FIREWALL=${FIREWALL:-1}
NS=slipway-bnet-$$
BRIDGE=slwbnet0
SUBNET=10.213.7.0/24
GATEWAY=10.213.7.1
PORT=7777
WORK=$(mktemp -d /tmp/slipway-bnet.XXXXXX)
BK_PID= NC_PID=

log() { printf 'build-network: %s\n' "$*" >&2; }

cleanup() {
	[[ -n $NC_PID ]] && kill "$NC_PID" 2>/dev/null || true
	if [[ -n $BK_PID ]]; then
		kill "$BK_PID" 2>/dev/null || true
		local deadline=$((SECONDS + 30))
		while kill -0 "$BK_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

# nsenter switches the network namespace only: ip netns exec would also
# remount /sys, hiding the cgroup file system from runc.
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

ip netns add "$NS"
in_ns ip link set lo up

# The shipped configuration, on this namespace's bridge and subnet.
sed -E "s|^( *networkMode = ).*|\1\"$MODE\"|" "$ROOT/deployments/buildkitd.toml" >"$WORK/buildkitd.toml"
sed -i -E "s|^( *cniBinaryPath = .*)|\1\n  bridgeName = \"$BRIDGE\"\n  bridgeSubnet = \"$SUBNET\"|" "$WORK/buildkitd.toml"
grep -q "bridgeName = \"$BRIDGE\"" "$WORK/buildkitd.toml" || { log "deployments/buildkitd.toml sets no cniBinaryPath"; exit 1; }

SOCK=unix://$WORK/buildkitd.sock
# The shell records its own pid, then becomes buildkitd: nsenter may fork,
# so $! would not be buildkitd's.
in_ns sh -c 'echo $$ >"$0/buildkitd.pid"; exec "$@"' "$WORK" \
	"$BIN/buildkitd" --config "$WORK/buildkitd.toml" --root "$WORK/root" --addr "$SOCK" \
	--oci-worker=true --containerd-worker=false >"$WORK/buildkitd.log" 2>&1 &
until [[ -s $WORK/buildkitd.pid ]]; do sleep 0.1; done
BK_PID=$(<"$WORK/buildkitd.pid")
deadline=$((SECONDS + 60))
until "$BIN/buildctl" --addr "$SOCK" debug workers >/dev/null 2>&1; do
	if ! kill -0 "$BK_PID" 2>/dev/null || ((SECONDS > deadline)); then
		log "buildkitd did not start:"
		tail -n 20 "$WORK/buildkitd.log" >&2
		exit 1
	fi
	sleep 0.5
done
if [[ $FIREWALL == 1 ]]; then
	in_ns "$ROOT/scripts/build-firewall.sh" "$BRIDGE"
fi

target=$GATEWAY
[[ $MODE == host ]] && target=127.0.0.1

# The listener accepts on every address of the namespace and records what
# it receives.
in_ns sh -c 'echo $$ >"$0/nc.pid"; exec busybox nc -l -p "$1"' "$WORK" "$PORT" >"$WORK/received" 2>/dev/null &
until [[ -s $WORK/nc.pid ]]; do sleep 0.1; done
NC_PID=$(<"$WORK/nc.pid")
until in_ns ss -Hltn "sport = :$PORT" | grep -q .; do sleep 0.1; done

mkdir "$WORK/ctx"
cp "$(command -v busybox)" "$WORK/ctx/busybox"
cat >"$WORK/ctx/Dockerfile" <<-DOCKERFILE
	FROM scratch
	COPY busybox /bin/busybox
	RUN ["/bin/busybox", "sh", "-c", "if echo hello-$$ | /bin/busybox timeout 5 /bin/busybox nc -w 2 $target $PORT; then echo CONNECT=reached; else echo CONNECT=unreachable; fi"]
DOCKERFILE
log "mode $MODE, firewall $FIREWALL: a RUN step connects to $target:$PORT"
"$BIN/buildctl" --addr "$SOCK" build --progress plain --no-cache \
	--frontend dockerfile.v0 --local context="$WORK/ctx" --local dockerfile="$WORK/ctx" >"$WORK/build.log" 2>&1 ||
	{ tail -n 20 "$WORK/build.log" >&2; log "FAIL: the build failed"; exit 1; }
result=$(grep -o 'CONNECT=[a-z]*' "$WORK/build.log" | tail -n 1)
if grep -q "hello-$$" "$WORK/received" || [[ $result != CONNECT=unreachable ]]; then
	log "FAIL: the build step reached $target:$PORT on its host ($result)"
	exit 1
fi
log "ok: the build step could not reach $target:$PORT ($result)"
