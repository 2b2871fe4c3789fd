#!/usr/bin/env bash
# setup.sh brings a Debian machine to Slipway's local build chain:
#
#   dockerd    running, Docker's default socket
#   buildkitd  running, OCI worker (runc), unix:///run/buildkit/buildkitd.sock,
#              builds on BuildKit's CNI bridge (buildkit0), which
#              scripts/build-firewall.sh keeps away from this host
#   registry   Debian's docker-registry (distribution) on 127.0.0.1:5000, no auth
#   mirror     localhost:5000/mirror/busybox:{<debian-version>,stable}, built
#              from Debian's busybox-static, not pulled from any hub
#   golangci-lint  $SLIPWAY_HOME/bin/golangci-lint, built from tools/golangci-lint
#              (`setup.sh golangci-lint` builds only it, as any user)
#   tofu       $SLIPWAY_HOME/bin/tofu, OpenTofu built from tools/tofu (static), and
#              localhost:5000/mirror/tofu:<version>: the mirrored busybox with it at
#              /bin/tofu, the image the provisioning tests run (`setup.sh tofu`
#              builds only them)
#   host proxy `setup.sh host-proxy-image` only: localhost:5000/slipway/slipway:<commit>,
#              Slipway's static binary at /slipway, the image remote hosts run
#              as their proxy (sshhost's proxy_image=)
#   kubernetes $SLIPWAY_HOME/bin/{kube-apiserver,kube-controller-manager}, built
#              by scripts/build-kubernetes.sh, and Debian's etcd-server (not
#              started here: the Kubernetes target's tests start their own)
#   promtool   $SLIPWAY_HOME/bin/promtool, built from the github.com/prometheus/prometheus
#              module pinned in tools/promtool (`setup.sh promtool` builds only it)
#
# Every step checks before it acts, so a rerun on a ready machine changes
# nothing and takes about a second. Progress goes to stderr; the environment
# to use goes to stdout as export lines, so `eval "$(scripts/setup.sh)"` works.
#
# Environment:
#   SLIPWAY_HOME    state: binaries, BuildKit root, registry storage (/var/lib/slipway)
#   SLIPWAY_LOG_DIR daemon logs (/var/log/slipway)
#   SLIPWAY_RUN_DIR pid files of the daemons started here (/run/slipway)
#   BUILDKIT_HOST   unix:// address for buildkitd (unix:///run/buildkit/buildkitd.sock)
#   CI              when "true", a failure also prints the tail of the failing daemon's log
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLIPWAY_HOME=${SLIPWAY_HOME:-/var/lib/slipway}
SLIPWAY_LOG_DIR=${SLIPWAY_LOG_DIR:-/var/log/slipway}
BUILDKIT_HOST=${BUILDKIT_HOST:-unix:///run/buildkit/buildkitd.sock}
BIN=$SLIPWAY_HOME/bin
RUN_DIR=${SLIPWAY_RUN_DIR:-/run/slipway}
REGISTRY_URL=http://127.0.0.1:5000
SLIPWAY_REGISTRY=localhost:5000
MIRROR_REPO=mirror/busybox
PACKAGES=(docker.io runc git docker-registry busybox-static curl containernetworking-plugins iptables openssh-server iproute2 etcd-server chromium)
export PATH=$BIN:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

STEP=init
STEP_LOG=
START=$SECONDS

log() { printf 'setup: %s\n' "$*" >&2; }

# show_log prints the tail of the current step's daemon log when running in CI,
# where nobody can read the file afterwards.
show_log() {
	if [[ ${CI:-} == true && -n $STEP_LOG && -f $STEP_LOG ]]; then
		printf -- '--- last 40 lines of %s ---\n' "$STEP_LOG" >&2
		tail -n 40 "$STEP_LOG" >&2 || true
		printf -- '--- end of %s ---\n' "$STEP_LOG" >&2
	fi
}

die() {
	printf 'setup: FAILED in step "%s": %s\n' "$STEP" "$*" >&2
	show_log
	exit 1
}

on_err() {
	local rc=$? line=$1 cmd=$2
	trap - ERR
	printf 'setup: FAILED in step "%s": line %s: %s exited %d\n' "$STEP" "$line" "'$cmd'" "$rc" >&2
	show_log
	exit "$rc"
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

step() {
	STEP=$1
	STEP_LOG=${2:-}
}

# wait_for polls a command every half second until it succeeds, the deadline
# in seconds passes, or the daemon process with the given pid ends.
wait_for() {
	local seconds=$1 what=$2 pid=$3
	shift 3
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		proc_running "$pid" || die "$what (pid $pid) exited during startup${STEP_LOG:+; see $STEP_LOG}"
		((SECONDS < deadline)) || die "$what not ready after ${seconds}s${STEP_LOG:+; see $STEP_LOG}"
		sleep 0.5
	done
}

# proc_running reports whether a process exists and is not a zombie.
proc_running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# pid_alive reports whether the pid recorded in a pid file is a live process
# running the given executable.
pid_alive() {
	local pidfile=$1 exe=$2 pid
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]]
}

# start_daemon runs a command detached from this shell (own session, stdin
# closed), appending to a log file and recording its pid.
start_daemon() {
	local name=$1 logfile=$2
	shift 2
	mkdir -p "$RUN_DIR" "$SLIPWAY_LOG_DIR"
	printf '\n=== %s: setup.sh starting %s\n' "$(date -Is)" "$*" >>"$logfile"
	setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
	echo $! >"$RUN_DIR/$name.pid"
	log "started $name (pid $!, log $logfile)"
}

install_packages() {
	step packages
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			missing+=("$p")
		fi
	done
	if ((${#missing[@]} == 0)); then
		log "packages: all present"
		return
	fi
	log "packages: installing ${missing[*]}"
	local apt=(apt-get -q -o DPkg::Lock::Timeout=600)
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 ||
		die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

docker_ready() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

start_dockerd() {
	step dockerd "$SLIPWAY_LOG_DIR/dockerd.log"
	if docker_ready; then
		log "dockerd: running (server $(docker info --format '{{.ServerVersion}}'))"
		return
	fi
	if pid_alive /var/run/docker.pid /usr/sbin/dockerd; then
		log "dockerd: process $(</var/run/docker.pid) exists, waiting for it"
		mkdir -p "$RUN_DIR"
		cp /var/run/docker.pid "$RUN_DIR/dockerd.pid"
	else
		start_daemon dockerd "$STEP_LOG" /usr/sbin/dockerd
	fi
	wait_for 60 dockerd "$(<"$RUN_DIR/dockerd.pid")" docker_ready
	log "dockerd: ready"
}

# pinned_buildkit prints the BuildKit version that tools/buildkit/go.mod pins.
pinned_buildkit() {
	local v
	v=$(sed -nE 's#^(require)?[[:space:]]*github\.com/moby/buildkit (v[^ ]+).*#\2#p' \
		"$ROOT/tools/buildkit/go.mod")
	[[ -n $v ]] || die "no github.com/moby/buildkit version in tools/buildkit/go.mod"
	echo "$v"
}

build_buildkit() {
	step buildkit-build
	local want have bins=(buildkitd buildctl) b stale=()
	want=$(pinned_buildkit)
	for b in "${bins[@]}"; do
		# "buildkitd github.com/moby/buildkit v0.34.2 <revision>"
		read -r _ _ have _ < <("$BIN/$b" --version 2>/dev/null || true) || true
		[[ ${have:-} == "$want" ]] || stale+=("$b")
	done
	if ((${#stale[@]} == 0)); then
		log "buildkit: $BIN/{buildkitd,buildctl} are $want"
		return
	fi
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	log "buildkit: building ${stale[*]} $want (takes about 2 minutes the first time)"
	mkdir -p "$BIN"
	local tmp t0=$SECONDS pkgs=()
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	for b in "${stale[@]}"; do pkgs+=("github.com/moby/buildkit/cmd/$b"); done
	if ! (cd "$ROOT/tools/buildkit" && GOWORK=off GOFLAGS=-mod=readonly go build -trimpath \
		-ldflags "-s -w -X github.com/moby/buildkit/version.Version=$want" \
		-o "$tmp/" "${pkgs[@]}" >&2); then
		rm -rf "$tmp"
		die "go build of BuildKit $want failed"
	fi
	for b in "${stale[@]}"; do mv -f "$tmp/$b" "$BIN/$b"; done
	rm -rf "$tmp"
	log "buildkit: built ${stale[*]} in $((SECONDS - t0))s"
}

pinned_golangci_lint() {
	local v
	v=$(sed -nE 's#^(require)?[[:space:]]*github\.com/golangci/golangci-lint/v2 (v[^ ]+).*#\2#p' \
		"$ROOT/tools/golangci-lint/go.mod")
	[[ -n $v ]] || die "no github.com/golangci/golangci-lint/v2 version in tools/golangci-lint/go.mod"
	echo "$v"
}

# build_golangci_lint builds the linter `go tool task lint` runs from the
# version pinned in tools/golangci-lint, when $BIN has none or another one.
build_golangci_lint() {
	step golangci-lint-build
	local want have
	want=$(pinned_golangci_lint)
	have=$("$BIN/golangci-lint" version --short 2>/dev/null || true)
	if [[ v$have == "$want" ]]; then
		log "golangci-lint: $BIN/golangci-lint is $want"
		return
	fi
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	log "golangci-lint: building $want (takes about a minute the first time)"
	mkdir -p "$BIN"
	local tmp t0=$SECONDS
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	if ! (cd "$ROOT/tools/golangci-lint" && GOWORK=off GOFLAGS=-mod=readonly go build -trimpath \
		-ldflags "-s -w -X main.version=${want#v} -X main.date=tools/golangci-lint" \
		-o "$tmp/golangci-lint" github.com/golangci/golangci-lint/v2/cmd/golangci-lint >&2); then
		rm -rf "$tmp"
		die "go build of golangci-lint $want failed"
	fi
	mv -f "$tmp/golangci-lint" "$BIN/golangci-lint"
	rm -rf "$tmp"
	log "golangci-lint: built $want in $((SECONDS - t0))s"
}

pinned_promtool() {
	local v
	v=$(sed -nE 's#^(require)?[[:space:]]*github\.com/prometheus/prometheus (v[^ ]+).*#\2#p' "$ROOT/tools/promtool/go.mod")
	[[ -n $v ]] || die "no github.com/prometheus/prometheus version in tools/promtool/go.mod"
	echo "$v"
}

# build_promtool builds the promtool the metrics tests run (`promtool check
# metrics`) from the prometheus module pinned in tools/promtool, when $BIN
# has none or another version.
build_promtool() {
	step promtool-build
	local want have
	want=$(pinned_promtool)
	have=$("$BIN/promtool" --version 2>/dev/null | sed -nE 's/^promtool, version ([^ ]+).*/\1/p' || true)
	if [[ $have == "$want" ]]; then
		log "promtool: $BIN/promtool is $want"
		return
	fi
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	log "promtool: building $want (takes a few minutes the first time)"
	mkdir -p "$BIN"
	local tmp t0=$SECONDS
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	if ! (cd "$ROOT/tools/promtool" && GOWORK=off GOFLAGS=-mod=readonly go build -trimpath \
		-ldflags "-s -w -X github.com/prometheus/common/version.Version=$want" \
		-o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool >&2); then
		rm -rf "$tmp"
		die "go build of promtool $want failed"
	fi
	mv -f "$tmp/promtool" "$BIN/promtool"
	rm -rf "$tmp"
	log "promtool: built $want in $((SECONDS - t0))s"
}

pinned_tofu() {
	local v
	v=$(sed -nE 's#^(require)?[[:space:]]*github\.com/opentofu/opentofu (v[^ ]+).*#\2#p' \
		"$ROOT/tools/tofu/go.mod")
	[[ -n $v ]] || die "no github.com/opentofu/opentofu version in tools/tofu/go.mod"
	echo "$v"
}

# build_tofu builds the tofu command (static) from the version pinned in
# tools/tofu when $BIN has none or another one, then the image
# $SLIPWAY_REGISTRY/mirror/tofu:<version> from the mirrored busybox, when
# the registry has no such tag.
build_tofu() {
	step tofu
	local want have image work
	want=$(pinned_tofu)
	have=$("$BIN/tofu" version 2>/dev/null | sed -n '1s/^OpenTofu //p' || true)
	if [[ $have != "$want" ]]; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		log "tofu: building OpenTofu $want (takes a few minutes the first time)"
		mkdir -p "$BIN"
		local tmp t0=$SECONDS
		tmp=$(mktemp -d "$BIN/.build.XXXXXX")
		if ! (cd "$ROOT/tools/tofu" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath \
			-ldflags '-s -w -X github.com/opentofu/opentofu/version.dev=no' \
			-o "$tmp/tofu" github.com/opentofu/opentofu/cmd/tofu >&2); then
			rm -rf "$tmp"
			die "go build of OpenTofu $want failed"
		fi
		mv -f "$tmp/tofu" "$BIN/tofu"
		rm -rf "$tmp"
		log "tofu: built $want in $((SECONDS - t0))s"
	fi
	image=$SLIPWAY_REGISTRY/mirror/tofu:${want#v}
	if manifest_exists mirror/tofu "${want#v}"; then
		log "tofu: $BIN/tofu and $image present"
		return
	fi
	work=$(mktemp -d)
	cp "$BIN/tofu" "$work/tofu"
	printf 'FROM %s\nCOPY tofu /bin/tofu\nLABEL org.opencontainers.image.title=tofu org.opencontainers.image.version=%s\n' \
		"$SLIPWAY_REGISTRY/$MIRROR_REPO:stable" "${want#v}" >"$work/Dockerfile"
	docker build -q -t "$image" "$work" >/dev/null || { rm -rf "$work"; die "docker build of $image failed"; }
	rm -rf "$work"
	docker push -q "$image" >&2
	manifest_exists mirror/tofu "${want#v}" || die "pushed $image but the registry does not serve its manifest"
	log "tofu: pushed $image"
}

# firewall_builds drops what build steps send to this machine (see
# scripts/build-firewall.sh); it runs before buildkitd starts, so no build
# ever runs without it.
firewall_builds() {
	step firewall
	"$ROOT/scripts/build-firewall.sh" buildkit0
	log "firewall: builds on buildkit0 cannot reach this host or Docker's networks"
}

buildkit_ready() { buildctl --addr "$BUILDKIT_HOST" debug workers >/dev/null 2>&1; }

start_buildkitd() {
	step buildkitd "$SLIPWAY_LOG_DIR/buildkitd.log"
	if buildkit_ready; then
		log "buildkitd: running at $BUILDKIT_HOST"
		return
	fi
	[[ $BUILDKIT_HOST == unix://* ]] || die "BUILDKIT_HOST=$BUILDKIT_HOST: only unix:// addresses are started here"
	if pid_alive "$RUN_DIR/buildkitd.pid" "$BIN/buildkitd"; then
		log "buildkitd: process $(<"$RUN_DIR/buildkitd.pid") exists, waiting for it"
	else
		mkdir -p "$(dirname "${BUILDKIT_HOST#unix://}")" "$SLIPWAY_HOME/buildkit"
		start_daemon buildkitd "$STEP_LOG" "$BIN/buildkitd" \
			--config "$ROOT/deployments/buildkitd.toml" \
			--root "$SLIPWAY_HOME/buildkit" \
			--addr "$BUILDKIT_HOST" \
			--oci-worker=true --containerd-worker=false
	fi
	wait_for 60 buildkitd "$(<"$RUN_DIR/buildkitd.pid")" buildkit_ready
	log "buildkitd: ready at $BUILDKIT_HOST"
}

registry_ready() { curl -fsS -o /dev/null --max-time 2 "$REGISTRY_URL/v2/" 2>/dev/null; }

# stop_debian_registry stops the docker-registry service that Debian's package
# runs with /etc/docker/registry/config.yml (htpasswd auth, port 5000): it
# would hold our port. A host whose init system honours policy-rc.d may
# never have started it.
stop_debian_registry() {
	if [[ -d /run/systemd/system ]] &&
		{ systemctl is-active --quiet docker-registry || systemctl is-enabled --quiet docker-registry; } 2>/dev/null; then
		log "registry: stopping and disabling Debian's docker-registry service"
		systemctl disable --now docker-registry >&2
	elif pid_alive /var/run/docker-registry.pid /usr/bin/docker-registry; then
		log "registry: stopping Debian's docker-registry service"
		/etc/init.d/docker-registry stop >&2 || kill "$(</var/run/docker-registry.pid)"
	fi
}

# foreign_port_holders prints the pids, other than our registry's, that listen
# on port 5000.
foreign_port_holders() {
	local pid ours=
	[[ -s $RUN_DIR/registry.pid ]] && ours=$(<"$RUN_DIR/registry.pid")
	for pid in $(ss -Hltnp 'sport = :5000' 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true); do
		[[ $pid == "$ours" ]] || echo "$pid"
	done
}

port_5000_free() { [[ -z $(foreign_port_holders) ]]; }

start_registry() {
	step registry "$SLIPWAY_LOG_DIR/registry.log"
	if registry_ready; then
		log "registry: answering at $REGISTRY_URL"
		return
	fi
	stop_debian_registry
	if pid_alive "$RUN_DIR/registry.pid" /usr/bin/docker-registry; then
		log "registry: process $(<"$RUN_DIR/registry.pid") exists, waiting for it"
	else
		local pid deadline=$((SECONDS + 10))
		until port_5000_free; do
			if ((SECONDS >= deadline)); then
				pid=$(foreign_port_holders | head -n 1)
				die "port 5000 is held by pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)); stop it and rerun"
			fi
			sleep 0.5
		done
		mkdir -p "$SLIPWAY_HOME/registry"
		start_daemon registry "$STEP_LOG" \
			env REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$SLIPWAY_HOME/registry" \
			/usr/bin/docker-registry serve "$ROOT/deployments/registry.yml"
	fi
	wait_for 30 registry "$(<"$RUN_DIR/registry.pid")" registry_ready
	log "registry: ready at $REGISTRY_URL"
}

manifest_exists() {
	curl -fsS -o /dev/null --max-time 5 \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$REGISTRY_URL/v2/$1/manifests/$2" 2>/dev/null
}

# busybox_tag turns the Debian version of busybox-static into a valid image
# tag: 1:1.35.0-4+deb12u1+b1 becomes 1.35.0-4_deb12u1_b1.
busybox_tag() {
	dpkg-query -W -f='${Version}' busybox-static | sed -E 's/^[0-9]+://; s/[^A-Za-z0-9_.-]/_/g'
}

# build_busybox_rootfs lays out a minimal root file system around Debian's
# static busybox: the binary, its applet symlinks and the files a container
# user expects.
build_busybox_rootfs() {
	local rootfs=$1 d
	for d in bin sbin usr/bin usr/sbin etc root tmp var/tmp www home; do mkdir -p "$rootfs/$d"; done
	chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
	chmod 0700 "$rootfs/root"
	cp /bin/busybox "$rootfs/bin/busybox"
	# Inside the chroot /proc is absent, so busybox links to argv[0]: /bin/busybox.
	chroot "$rootfs" /bin/busybox --install -s
	cat >"$rootfs/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		www-data:x:33:33:www-data:/www:/bin/false
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$rootfs/etc/group" <<-'EOF'
		root:x:0:
		www-data:x:33:
		nogroup:x:65534:
	EOF
	echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
}

mirror_busybox() {
	step mirror
	local tag image stable
	tag=$(busybox_tag)
	image=$SLIPWAY_REGISTRY/$MIRROR_REPO:$tag
	stable=$SLIPWAY_REGISTRY/$MIRROR_REPO:stable
	if manifest_exists "$MIRROR_REPO" "$tag" && manifest_exists "$MIRROR_REPO" stable; then
		log "mirror: $image and :stable present"
		return
	fi
	log "mirror: building $image from busybox-static"
	local work
	work=$(mktemp -d)
	build_busybox_rootfs "$work/rootfs"
	tar --numeric-owner --owner=0 --group=0 -C "$work/rootfs" -cf "$work/rootfs.tar" .
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["sh"]' \
		--change "LABEL org.opencontainers.image.title=busybox org.opencontainers.image.version=$tag org.opencontainers.image.source=debian:busybox-static" \
		--message "busybox-static $tag from Debian" \
		"$work/rootfs.tar" "$image" >/dev/null
	rm -rf "$work"
	docker tag "$image" "$stable"
	docker push -q "$image" >&2
	docker push -q "$stable" >&2
	manifest_exists "$MIRROR_REPO" stable || die "pushed $stable but the registry does not serve its manifest"
	log "mirror: pushed $image and $stable"
}

# host_proxy_image builds Slipway's binary (static) from this checkout's
# HEAD and pushes it as the image remote Docker hosts run `slipway
# host-proxy` from; a commit already pushed is not built again.
host_proxy_image() {
	step host-proxy
	local tag image work
	tag=$(git -C "$ROOT" rev-parse --short=12 HEAD)
	image=$SLIPWAY_REGISTRY/slipway/slipway:$tag
	if manifest_exists slipway/slipway "$tag"; then
		log "host proxy: $image present"
		echo "$image"
		return
	fi
	work=$(mktemp -d)
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$work/rootfs/slipway" ./cmd/slipway) || die "build slipway"
	tar --numeric-owner --owner=0 --group=0 -C "$work/rootfs" -cf "$work/rootfs.tar" .
	docker import --change 'ENTRYPOINT ["/slipway"]' --change "LABEL org.opencontainers.image.revision=$tag" \
		"$work/rootfs.tar" "$image" >/dev/null
	rm -rf "$work"
	docker push -q "$image" >&2
	log "host proxy: pushed $image"
	echo "$image"
}

print_env() {
	cat <<-EOF
		export BUILDKIT_HOST=$BUILDKIT_HOST
		export SLIPWAY_REGISTRY=$SLIPWAY_REGISTRY
		export PATH=$BIN:\$PATH
		# DOCKER_HOST: unset (Docker's default, unix:///var/run/docker.sock)
	EOF
}

main() {
	# `setup.sh golangci-lint` builds only the linter, as any user.
	if [[ ${1:-} == golangci-lint ]]; then
		build_golangci_lint
		return
	fi
	# `setup.sh tofu` builds only tofu and its image.
	if [[ ${1:-} == tofu ]]; then
		build_tofu
		return
	fi
	if [[ ${1:-} == host-proxy-image ]]; then
		host_proxy_image
		return
	fi
	if [[ ${1:-} == promtool ]]; then
		build_promtool
		return
	fi
	[[ $(id -u) == 0 ]] || { STEP=init; die "run as root (starts daemons and installs packages)"; }
	install_packages
	start_dockerd
	build_buildkit
	build_golangci_lint
	step kubernetes-build
	SLIPWAY_HOME=$SLIPWAY_HOME "$ROOT/scripts/build-kubernetes.sh"
	build_promtool
	firewall_builds
	start_buildkitd
	start_registry
	mirror_busybox
	build_tofu
	step finished
	log "ready in $((SECONDS - START))s; environment:"
	print_env
}

main "$@"
