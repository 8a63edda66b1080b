#!/bin/sh
# Entrypoint of the bchd image (Dockerfile.bchd): runs bchd for a container,
# or bchctl against it, or a regtest miner. Configuration comes from the
# environment and goes into files on the container's /tmp (a tmpfs, mode
# 0600), never onto a command line, where every user of the host could read
# the RPC password with ps.
#
#   bchd-entrypoint [bchd flags…]   run bchd (the default command)
#   bchd-entrypoint ctl CMD [ARGS…] run bchctl CMD against the node
#   bchd-entrypoint mine            regtest: mine BCHD_MINE_INITIAL blocks,
#                                   then one every BCHD_MINE_INTERVAL seconds
#
# Environment:
#   BCHD_NETWORK        mainnet (default), testnet, testnet4, chipnet or
#                       regtest (walletd's BCH_NETWORK names)
#   BCHD_RPC_USER       RPC user (default walletd)
#   BCHD_RPC_PASSWORD   RPC password (required)
#   BCHD_RPC_HOST       host of the node, for ctl and mine (default localhost);
#                       it must be a name in the node's certificate
#   BCHD_MINING_ADDRESS regtest: the address generated blocks pay (cashaddr)
#   BCHD_MINE_INITIAL   mine: height to reach first (default 101: one mature
#                       coinbase)
#   BCHD_MINE_INTERVAL  mine: seconds between blocks (default 10)
#
# RPC is served over TLS on port 18334 of every interface (on every network)
# with a certificate bchd generates on first start for the container's
# hostname (set it to the service name, e.g. `hostname: bchd`):
# /tls/rpc.cert, the file a client trusts (walletd: BCH_SERVER_CERT). The
# key stays in the data volume. Regtest runs with --regtestnoreset: unlike
# btcd's, the chain survives a restart of the container.
set -eu

die() {
	echo "bchd-entrypoint: $*" >&2
	exit 2
}

network=${BCHD_NETWORK:-mainnet}
case "$network" in
mainnet) netopt= ;;
testnet) netopt=testnet=1 ;;
testnet4) netopt=testnet4=1 ;;
chipnet) netopt=chipnet=1 ;;
regtest) netopt="regtest=1
regtestnoreset=1" ;;
*) die "BCHD_NETWORK=$network: want mainnet, testnet, testnet4, chipnet or regtest (bchd has no scalenet)" ;;
esac
user=${BCHD_RPC_USER:-walletd}
pass=${BCHD_RPC_PASSWORD:-}
[ -n "$pass" ] || die "BCHD_RPC_PASSWORD is not set"
tmp=${TMPDIR:-/tmp}
port=18334

# writeconf FILE: writes stdin to FILE, readable by this user only,
# atomically (healthchecks run concurrently with other commands).
writeconf() {
	t=$(mktemp "$1.XXXXXX")
	cat >"$t"
	mv -f "$t" "$1"
}

# bchctl takes no network option for regtest: the explicit port is enough.
ctl() {
	writeconf "$tmp/bchctl.conf" <<-CONF
		rpcuser=$user
		rpcpass=$pass
		rpcserver=${BCHD_RPC_HOST:-localhost}:$port
		rpccert=/tls/rpc.cert
	CONF
	bchctl --configfile="$tmp/bchctl.conf" "$@"
}

case "${1:-}" in
ctl)
	shift
	ctl "$@"
	exit
	;;
mine)
	[ "$network" = regtest ] || die "mine: only on regtest (BCHD_NETWORK=$network)"
	initial=${BCHD_MINE_INITIAL:-101}
	interval=${BCHD_MINE_INTERVAL:-10}
	# PID 1 of its container: stop at once on docker stop.
	trap 'exit 0' TERM INT
	# A call that fails (bchd restarting) is retried: the miner outlives
	# the node's restarts.
	while :; do
		until h=$(ctl getblockcount 2>/dev/null); do sleep 1; done
		if [ "$h" -lt "$initial" ]; then
			n=$((initial - h))
		else
			n=1
		fi
		if ! ctl generate "$n" >/dev/null; then
			sleep 1
			continue
		fi
		echo "mined: height $((h + n))"
		sleep "$interval" &
		wait $!
	done
	;;
esac

mining=
if [ -n "${BCHD_MINING_ADDRESS:-}" ] && [ "$network" = regtest ]; then
	mining="miningaddr=$BCHD_MINING_ADDRESS"
fi
writeconf "$tmp/bchd.conf" <<-CONF
	datadir=/data
	logdir=/data/logs
	rpcuser=$user
	rpcpass=$pass
	rpclisten=:$port
	rpccert=/tls/rpc.cert
	rpckey=/data/rpc.key
	txindex=1
	addrindex=1
	$netopt
	$mining
CONF
# bchd generates a certificate and key only when both are missing, and
# fails to start when one of them is: a volume removed alone (the key is in
# /data, the certificate in /tls) regenerates the pair instead.
if [ ! -e /tls/rpc.cert ] || [ ! -e /data/rpc.key ]; then
	rm -f /tls/rpc.cert /data/rpc.key
fi
# The certificate must be readable by walletd (another user); bchd writes
# the key 0600 itself.
umask 022
exec bchd --configfile="$tmp/bchd.conf" "$@"
