#!/usr/bin/env bash
# build-kubernetes.sh builds the two Kubernetes control-plane binaries the
# Kubernetes target's tests run against (kube/kubetest), into $SLIPWAY_HOME/bin:
#
#   kube-apiserver           k8s.io/kubernetes/cmd/kube-apiserver
#   kube-controller-manager  k8s.io/kubernetes/cmd/kube-controller-manager
#
# at KUBERNETES_VERSION (v1.37.2). etcd is Debian's etcd-server (setup.sh's
# PACKAGES). No kubelet, scheduler or kubectl: the tests play the node.
#
# The k8s.io/kubernetes module archive carries a go.mod whose k8s.io/*
# requirements are v0.0.0 replaced by ./staging/src/k8s.io/*, which the archive
# lacks. The build therefore runs in a copy of the module whose go.mod drops
# those replace lines and requires the published staging modules at the
# matching v0.X.Y (v1.37.2 -> v0.37.2) instead.
#
# A file $SLIPWAY_HOME/bin/.kubernetes-version records what was built; when it
# names KUBERNETES_VERSION and both binaries exist, the script does nothing
# (about a second). The first build takes about 8 minutes on 2 cores.
set -Eeuo pipefail

SLIPWAY_HOME=${SLIPWAY_HOME:-/var/lib/slipway}
BIN=$SLIPWAY_HOME/bin
KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.37.2}
STAMP=$BIN/.kubernetes-version
BINARIES=(kube-apiserver kube-controller-manager)
export PATH=/usr/local/go/bin:$PATH

log() { printf 'setup: kubernetes: %s\n' "$*" >&2; }
die() {
	printf 'setup: kubernetes: FAILED: %s\n' "$*" >&2
	exit 1
}

# stamp is what the version file holds after a successful build: the version
# and the binaries, so adding a binary to BINARIES rebuilds.
stamp() { printf '%s %s\n' "$KUBERNETES_VERSION" "${BINARIES[*]}"; }

up_to_date() {
	local b
	[[ -f $STAMP && $(<"$STAMP") == "$(stamp)" ]] || return 1
	for b in "${BINARIES[@]}"; do [[ -x $BIN/$b ]] || return 1; done
}

main() {
	if up_to_date; then
		log "${BINARIES[*]} in $BIN are $KUBERNETES_VERSION"
		return
	fi
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	[[ $KUBERNETES_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "KUBERNETES_VERSION=$KUBERNETES_VERSION is not v1.MINOR.PATCH"
	local minor=${BASH_REMATCH[1]} staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
	log "building ${BINARIES[*]} $KUBERNETES_VERSION (about 8 minutes on 2 cores the first time)"
	local t0=$SECONDS dir
	dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
		sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
	[[ -n $dir && -f $dir/go.mod ]] || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION gave no module directory"
	mkdir -p "$BIN"
	WORK=$(mktemp -d "$BIN/.build-kubernetes.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	cp -r "$dir" "$WORK/src"
	chmod -R u+w "$WORK/src"
	(
		cd "$WORK/src"
		local edits=() m
		# Every replace in this go.mod points into ./staging.
		for m in $(go mod edit -json | sed -nE '/"Replace"/,$ s/.*"Path": "(k8s\.io\/[^"]+)".*/\1/p' | sort -u); do
			edits+=("-dropreplace=$m")
		done
		for m in $(go mod edit -json | sed -nE '/"Require"/,/"Replace"/ { /"Path"/ { s/.*"Path": "([^"]+)".*/\1/; h }; /"Version": "v0\.0\.0"/ { g; p } }'); do
			[[ $m == k8s.io/* ]] || die "requirement $m v0.0.0 is not a k8s.io staging module"
			edits+=("-require=$m@$staging")
		done
		((${#edits[@]} > 0)) || die "found no staging replace or v0.0.0 requirement in go.mod"
		go mod edit "${edits[@]}"
		if grep -q '=> ./staging' go.mod; then die "go.mod still replaces into ./staging"; fi
		local pkgs=() b v=k8s.io/component-base/version
		for b in "${BINARIES[@]}"; do pkgs+=("./cmd/$b"); done
		GOWORK=off GOFLAGS=-mod=mod go build -trimpath \
			-ldflags "-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=archive" \
			-o "$WORK/out/" "${pkgs[@]}" >&2
	) || die "go build of ${BINARIES[*]} $KUBERNETES_VERSION failed"
	local b
	for b in "${BINARIES[@]}"; do mv -f "$WORK/out/$b" "$BIN/$b"; done
	stamp >"$STAMP"
	log "built ${BINARIES[*]} $KUBERNETES_VERSION in $((SECONDS - t0))s"
}

main "$@"
