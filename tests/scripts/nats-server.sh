#!/usr/bin/env bash
# nats-server.sh installs the external nats-server the fault tests and the
# benchmark run (a real process they can kill -9) into a cache directory,
# never into the repository, and prints its path.
#
#   tests/scripts/nats-server.sh            # -> ~/.cache/slipway/nats-server-v2.12.2/nats-server
#
# Environment:
#   NATS_SERVER_VERSION  module version to install (v2.12.2, the release line
#                        the 2025 Jepsen analysis examined)
#   SLIPWAY_CACHE_DIR    where to install (${XDG_CACHE_HOME:-~/.cache}/slipway)
set -Eeuo pipefail

version=${NATS_SERVER_VERSION:-v2.12.2}
cache=${SLIPWAY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/slipway}
dir=$cache/nats-server-$version
bin=$dir/nats-server

if [[ -x $bin ]] && "$bin" --version 2>/dev/null | grep -q "${version#v}"; then
	echo "$bin"
	exit 0
fi
export PATH=/usr/local/go/bin:$PATH
mkdir -p "$dir"
echo "nats-server.sh: installing github.com/nats-io/nats-server/v2@$version into $dir" >&2
# Outside any module, so the repository's go.mod and go.sum stay untouched.
(cd "$dir" && GOWORK=off GOFLAGS= GOBIN=$dir go install "github.com/nats-io/nats-server/v2@$version" >&2)
"$bin" --version >&2
echo "$bin"
