#!/usr/bin/env bash
# The container suite: builds walletd's images with a real engine (Debian's
# podman, driven by docker-compose through podman's Docker-compatible API
# socket), brings up the regtest stack of every coin that has a compose file
# and a daemon in the binary, pays a request through each stack and sees
# new_payment on /ws through the published port (integration/stack), checks
# what the images promise (non-root, read-only root, healthchecks, ports on
# 127.0.0.1, the stamped version, no password on a command line, the store
# surviving a new container, bchd's regtest chain surviving a restart), then
# tears everything down and asserts that no container, volume or network is
# left.
#
# Run as root (CI is), from scripts/test.sh or alone:
#   bash scripts/tests.d/containers.sh
# Packages: scripts/deps.d/containers.apt. No registry is needed: the two
# base images the Dockerfiles name (debian:bookworm-slim, golang:1.26-bookworm)
# are made locally when podman's storage lacks them (mmdebstrap, and this
# machine's Go), then reused: they and the build layers are caches in
# podman's storage, outside the clone. See ../shared/containers.md for why
# each setting below is needed on this kind of machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
t0=$(date +%s)
step() { echo "== containers: $(($(date +%s) - t0))s: $*"; }
fail() {
	echo "containers: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "needs root (rootful podman, as on CI)"
for tool in podman docker-compose mmdebstrap go; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.d/containers.apt)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/walletd-containers.XXXXXX")
project="walletdci$$"
svc=""
env_file="$work/ci.env"
files=()
compose() { docker-compose -p "$project" --env-file "$env_file" "${files[@]}" --profile regtest "$@"; }

cleanup() {
	local rc=$?
	set +e
	if [ "$rc" -ne 0 ] && [ "${#files[@]}" -gt 0 ]; then
		compose ps
		compose logs --no-color --tail=40
	fi
	if [ "${#files[@]}" -gt 0 ]; then
		# docker-compose removes containers in parallel; podman refuses to
		# remove a container whose network namespace another one still
		# uses (network_mode: service:…), so a second pass finishes.
		compose down -v --remove-orphans >/dev/null 2>&1
		compose down -v --remove-orphans >/dev/null 2>&1
	fi
	podman ps -aq --filter "label=com.docker.compose.project=$project" | xargs -r podman rm -f -t 5 >/dev/null 2>&1
	podman volume ls -q --filter "label=com.docker.compose.project=$project" | xargs -r podman volume rm -f >/dev/null 2>&1
	podman network rm "${project}_default" >/dev/null 2>&1
	if [ -n "$svc" ]; then
		kill "$svc" 2>/dev/null
		wait "$svc" 2>/dev/null
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

# --- engine configuration (this run's own file: the machine's is untouched)
# No CAP_SYS_RESOURCE here, so podman's default rlimits (1048576) are
# refused and conmon caps nproc at 32768; and cgroup v1 sits beside a cgroup2
# mount holding hugetlb, a hybrid layout crun refuses and runc accepts.
export CONTAINERS_CONF="$work/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=30000:30000"]
[engine]
runtime = "runc"
EOF
# Docker image format: the OCI format drops HEALTHCHECK.
export BUILDAH_FORMAT=docker

# --- base images (caches: made once per machine) ---
mirror=${MIRROR:-$(grep -h -m1 -oP '^(URIs:\s*|deb\s+(\[[^]]*\]\s+)?)\K\S+' \
	/etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 || true)}
if ! podman image exists docker.io/library/debian:bookworm-slim; then
	step "making debian:bookworm-slim (mmdebstrap minbase from $mirror)"
	[ -n "$mirror" ] || fail "no Debian mirror found in apt's sources (set MIRROR)"
	mmdebstrap -q --variant=minbase --dpkgopt=force-unsafe-io \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
		--customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
		bookworm "$work/slim.tar" "$mirror"
	podman import -q --change 'CMD ["bash"]' "$work/slim.tar" docker.io/library/debian:bookworm-slim >/dev/null
	rm -f "$work/slim.tar"
fi
if ! podman image exists docker.io/library/golang:1.26-bookworm; then
	goroot=$(go env GOROOT)
	gover=$(go env GOVERSION)
	case "$gover" in go1.26*) ;; *) fail "the Dockerfiles build with Go 1.26; this machine has $gover" ;; esac
	step "making golang:1.26-bookworm (debian:bookworm-slim + this machine's $gover)"
	# The Dockerfiles build with CGO_ENABLED=0: no compiler needed. The
	# egress here re-signs TLS with its own CA, so the stand-in carries the
	# host's bundle to reach the module proxy (walletd's image copies the
	# build image's bundle: here, then, the host's).
	mkdir -p "$work/empty"
	podman build -q -t docker.io/library/golang:1.26-bookworm \
		-v "$goroot:/hostgo:ro" -v /etc/ssl/certs/ca-certificates.crt:/hostca.crt:ro \
		-f - "$work/empty" >/dev/null <<EOF
FROM docker.io/library/debian:bookworm-slim
RUN mkdir -p /usr/local/go /go/bin /go/src /etc/ssl/certs && cp -a /hostgo/. /usr/local/go/ \\
	&& cp /hostca.crt /etc/ssl/certs/ca-certificates.crt && chmod -R 1777 /go
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
	GOLANG_VERSION=${gover#go} GOTOOLCHAIN=local GOPATH=/go
WORKDIR /go
CMD ["bash"]
EOF
fi

# --- docker-compose through podman's API socket ---
sock="$work/podman.sock"
podman system service --time=0 "unix://$sock" >"$work/podman-service.log" 2>&1 &
svc=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || fail "podman's API socket did not appear"
export DOCKER_HOST="unix://$sock"

# free_port: a loopback port nothing listens on (a connection is refused).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
# The stamp names the last commit that changed what the image is built from
# (so a commit of docs or tests does not rebuild it), "-dirty" when that
# changed since.
inputs=(go.mod go.sum cmd coins daemons internal spec Dockerfile .dockerignore)
version="ci-$(git log -1 --format=%h -- "${inputs[@]}" 2>/dev/null || true)"
git diff --quiet HEAD -- "${inputs[@]}" 2>/dev/null || version+="-dirty"
btc_port=$(free_port)
ltc_port=$(free_port)
bch_port=$(free_port)
btcd_pass=$(secret)
litecoind_pass=$(secret)
bchd_pass=$(secret)
cat >"$env_file" <<EOF
WALLETD_VERSION=$version
WALLETD_IMAGE=localhost/walletd:ci
WALLETD_BTCD_IMAGE=localhost/walletd-btcd:ci
WALLETD_LITECOIND_IMAGE=localhost/walletd-litecoind:ci
WALLETD_BCHD_IMAGE=localhost/walletd-bchd:ci
BTC_NETWORK=regtest
BTC_LOGIN=merchant-$(secret)
BTC_PASSWORD=$(secret)
BTC_PUBLISH=127.0.0.1:$btc_port
BTCD_RPC_PASSWORD=$btcd_pass
BTC_REGTEST_BLOCK_INTERVAL=2
LTC_NETWORK=regtest
LTC_LOGIN=merchant-$(secret)
LTC_PASSWORD=$(secret)
LTC_PUBLISH=127.0.0.1:$ltc_port
LITECOIND_RPC_PASSWORD=$litecoind_pass
LTC_REGTEST_BLOCK_INTERVAL=2
# Past Litecoin's MWEB activation (432), which the miner pegs in for.
LTC_REGTEST_INITIAL_BLOCKS=440
LTC_BIRTHDAY=0
BCH_NETWORK=regtest
BCH_LOGIN=merchant-$(secret)
BCH_PASSWORD=$(secret)
BCH_PUBLISH=127.0.0.1:$bch_port
BCHD_RPC_PASSWORD=$bchd_pass
BCH_REGTEST_BLOCK_INTERVAL=2
EOF


# --- which coins: a compose file, and a daemon in the binary ---
step "building images (docker-compose build through podman's API)"
files=(-f docker-compose.btc.yml)
compose build --parallel >"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; fail "image build"; }
# One run of the image: its stamped version, then the usage listing its coins.
out=$(podman run --rm --read-only --no-healthcheck --entrypoint /bin/sh localhost/walletd:ci \
	-c 'id -u; /usr/local/bin/walletd version; /usr/local/bin/walletd no-such-coin' 2>&1 || true)
{ read -r uid; read -r image_version; usage=$(cat); } <<<"$out"
[ "$uid" != 0 ] || fail "the image runs as root"
[ "$image_version" = "$version" ] || fail "walletd version: $image_version, want $version"
served=" $(sed -n 's/.*(coins: \([^)]*\)).*/\1/p' <<<"$usage" | tr -d ,) "
coins=()
for f in docker-compose.*.yml; do
	coin=${f#docker-compose.}
	coin=${coin%.yml}
	if [[ "$served" == *" $coin "* ]]; then
		coins+=("$coin")
	else
		echo "containers: $f: this walletd has no '$coin' daemon yet ($usage); not run"
	fi
done
[[ " ${coins[*]} " == *" btc "* ]] || fail "the btc stack is not testable: $usage"
files=()
for coin in "${coins[@]}"; do files+=(-f "docker-compose.$coin.yml"); done
if [ "${#coins[@]}" -gt 1 ]; then
	compose build --parallel >"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; fail "image build"; }
fi
step "images built; coins: ${coins[*]}"

# --- the image itself ---
hc=$(podman image inspect localhost/walletd:ci --format '{{json .HealthCheck}}')
[[ "$hc" == *'"/usr/local/bin/walletd","healthcheck"'* ]] || fail "image HEALTHCHECK: $hc"

# --- compose files: what an operator gets wrong must fail loudly ---
: >"$work/empty.env"
for coin in "${coins[@]}"; do
	out=$(env -i PATH="$PATH" docker-compose --env-file "$work/empty.env" -f "docker-compose.$coin.yml" config -q 2>&1 || true)
	[[ "$out" == *"RPC_PASSWORD"* ]] || fail "docker-compose.$coin.yml starts without a node RPC password: $out"
done
for coin in "${coins[@]}"; do
	env -i PATH="$PATH" BTC_LOGIN=a BTC_PASSWORD=b BTCD_RPC_PASSWORD=c LTC_LOGIN=a LTC_PASSWORD=b LITECOIND_RPC_PASSWORD=c \
		BCH_LOGIN=a BCH_PASSWORD=b BCHD_RPC_PASSWORD=c \
		docker-compose --env-file "$work/empty.env" -f "docker-compose.$coin.yml" config -q ||
		fail "the mainnet configuration of docker-compose.$coin.yml does not parse"
done

step "starting the regtest stacks"
compose up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up"; }

for coin in "${coins[@]}"; do
	step "$coin: paying a request through the published port"
	go run ./integration/stack -coin "$coin" -env-file "$env_file" -version "$version" -wait 3m \
		-request-file "$work/$coin.request"
done

step "checking the containers"
for c in $(compose ps -q); do
	name=$(podman inspect "$c" --format '{{.Name}}')
	[ "$(podman inspect "$c" --format '{{.HostConfig.ReadonlyRootfs}}')" = true ] || fail "$name: root filesystem is writable"
	user=$(podman inspect "$c" --format '{{.Config.User}}')
	case "$user" in "" | 0 | 0:* | root | root:*) fail "$name runs as root" ;; esac
	for p in $(podman inspect "$c" --format '{{range $k, $v := .NetworkSettings.Ports}}{{range $v}}{{.HostIP}} {{end}}{{end}}'); do
		[ "$p" = 127.0.0.1 ] || fail "$name publishes a port on $p"
	done
	if [ "$(podman inspect "$c" --format '{{if .Config.Healthcheck}}yes{{end}}')" = yes ]; then
		# No systemd here to run healthchecks on a timer: run each once.
		podman healthcheck run "$c" >/dev/null || fail "$name: healthcheck failed"
	fi
done
# Every process's command line (the containers' included), searched with
# patterns read from a file descriptor, so the search is not a match itself.
for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' <"$f"; } 2>/dev/null || true; echo; done >"$work/cmdlines"
if grep -F -f <(printf '%s\n' "$btcd_pass" "$litecoind_pass" "$bchd_pass") "$work/cmdlines"; then
	fail "a node RPC password is on a command line"
fi

if [[ " ${coins[*]} " == *" bch "* ]]; then
	# bchd runs regtest with --regtestnoreset: a restarted node keeps its
	# chain (btcd's regtest would start over), so the block at the height
	# seen before the restart is the same block after it.
	step "bch: bchd keeps its regtest chain across a restart"
	ctl() { compose exec -T bchd bchd-entrypoint ctl "$@"; }
	h=$(ctl getblockcount)
	hash=$(ctl getblockhash "$h")
	compose restart bchd >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "restart bchd"; }
	for _ in $(seq 120); do ctl getblockcount >/dev/null 2>&1 && break; sleep 0.5; done
	after=$(ctl getblockhash "$h" 2>&1) || true
	[ "$after" = "$hash" ] || fail "bchd lost its regtest chain on restart: block $h was $hash, now: $after (height $(ctl getblockcount 2>&1))"
fi

if [[ " ${coins[*]} " == *" ltc "* ]]; then
	step "ltc: the miner carries the chain past MWEB activation"
	ctl() { compose exec -T litecoind litecoind-entrypoint ctl "$@"; }
	for _ in $(seq 240); do [ "$(ctl getblockcount 2>/dev/null || echo 0)" -ge 433 ] && break; sleep 0.5; done
	[ "$(ctl getblockcount)" -ge 433 ] || fail "litecoind stopped at height $(ctl getblockcount) (MWEB activates at 432)"
	ctl getblock "$(ctl getblockhash 432)" 1 | grep -q '"mweb"' || fail "block 432 carries no MWEB block"
fi

for coin in "${coins[@]}"; do
	step "$coin: a new container (an upgrade) keeps the store"
	compose up -d --force-recreate --no-deps "$coin" >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "recreate $coin"; }
	go run ./integration/stack -coin "$coin" -env-file "$env_file" -wait 3m -check-request-file "$work/$coin.request"
done

step "tearing down"
compose down -v --remove-orphans >/dev/null 2>&1 || true
# A second pass for what podman refused the first time (see cleanup).
if [ -n "$(podman ps -aq --filter "label=com.docker.compose.project=$project")" ]; then
	compose down -v --remove-orphans >/dev/null 2>&1 || true
fi
left=$(podman ps -aq --filter "label=com.docker.compose.project=$project")
[ -z "$left" ] || fail "containers left: $left"
left=$(podman volume ls -q --filter "label=com.docker.compose.project=$project")
[ -z "$left" ] || fail "volumes left: $left"
left=$(podman network ls -q --filter "name=^${project}_")
[ -z "$left" ] || fail "networks left: $left"
files=() # nothing left for cleanup to take down
step "OK"
