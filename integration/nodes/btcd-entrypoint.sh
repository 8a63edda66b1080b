#!/bin/sh
# Entrypoint of the btcd image (Dockerfile.btcd): runs btcd for a container,
# or btcctl against it, or a regtest miner. Configuration comes from the
# environment and goes into files on the container's /tmp (a tmpfs, mode
# 0600), never onto a command line, where every user of the host could read
# the RPC password with ps.
#
#   btcd-entrypoint [btcd flags…]   run btcd (the default command)
#   btcd-entrypoint ctl CMD [ARGS…] run btcctl CMD against the node
#   btcd-entrypoint mine            regtest: mine BTCD_MINE_INITIAL blocks,
#                                   then one every BTCD_MINE_INTERVAL seconds
#
# Environment:
#   BTCD_NETWORK        mainnet (default), testnet, regtest or simnet
#   BTCD_RPC_USER       RPC user (default walletd)
#   BTCD_RPC_PASSWORD   RPC password (required)
#   BTCD_RPC_HOST       host of the node, for ctl and mine (default localhost);
#                       it must be a name in the node's certificate
#   BTCD_MINING_ADDRESS regtest/simnet: the address generated blocks pay
#   BTCD_MINE_INITIAL   mine: height to reach first (default 101: one mature
#                       coinbase)
#   BTCD_MINE_INTERVAL  mine: seconds between blocks (default 10)
#
# RPC is served over TLS on port 8334 of every interface with a certificate
# btcd generates on first start for the container's hostname (set it to the
# service name, e.g. `hostname: btcd`): /tls/rpc.cert, the file a client
# trusts (walletd: BTC_SERVER_CERT). The key stays in the data volume.
set -eu

die() {
	echo "btcd-entrypoint: $*" >&2
	exit 2
}

network=${BTCD_NETWORK:-mainnet}
case "$network" in
mainnet) netopt= ;;
testnet) netopt=testnet=1 ;;
regtest) netopt=regtest=1 ;;
simnet) netopt=simnet=1 ;;
*) die "BTCD_NETWORK=$network: want mainnet, testnet, regtest or simnet" ;;
esac
user=${BTCD_RPC_USER:-walletd}
pass=${BTCD_RPC_PASSWORD:-}
[ -n "$pass" ] || die "BTCD_RPC_PASSWORD is not set"
tmp=${TMPDIR:-/tmp}

# writeconf FILE: writes stdin to FILE, readable by this user only,
# atomically (healthchecks run concurrently with other commands).
writeconf() {
	t=$(mktemp "$1.XXXXXX")
	cat >"$t"
	mv -f "$t" "$1"
}

ctl() {
	writeconf "$tmp/btcctl.conf" <<-CONF
		rpcuser=$user
		rpcpass=$pass
		rpcserver=${BTCD_RPC_HOST:-localhost}:8334
		rpccert=/tls/rpc.cert
		$netopt
	CONF
	btcctl --configfile="$tmp/btcctl.conf" "$@"
}

case "${1:-}" in
ctl)
	shift
	ctl "$@"
	exit
	;;
mine)
	[ "$network" = regtest ] || [ "$network" = simnet ] || die "mine: only on regtest or simnet (BTCD_NETWORK=$network)"
	initial=${BTCD_MINE_INITIAL:-101}
	interval=${BTCD_MINE_INTERVAL:-10}
	# PID 1 of its container: stop at once on docker stop.
	trap 'exit 0' TERM INT
	until h=$(ctl getblockcount 2>/dev/null); do sleep 1; done
	while :; do
		# btcd wipes regtest at every start: catch up again after a restart.
		if [ "$h" -lt "$initial" ]; then
			ctl generate $((initial - h)) >/dev/null
		else
			ctl generate 1 >/dev/null
		fi
		h=$(ctl getblockcount)
		echo "mined: height $h"
		sleep "$interval" &
		wait $!
		until h=$(ctl getblockcount 2>/dev/null); do sleep 1; done
	done
	;;
esac

mining=
if [ -n "${BTCD_MINING_ADDRESS:-}" ] && { [ "$network" = regtest ] || [ "$network" = simnet ]; }; then
	mining="miningaddr=$BTCD_MINING_ADDRESS"
fi
writeconf "$tmp/btcd.conf" <<-CONF
	datadir=/data
	logdir=/data/logs
	rpcuser=$user
	rpcpass=$pass
	rpclisten=:8334
	rpccert=/tls/rpc.cert
	rpckey=/data/rpc.key
	txindex=1
	addrindex=1
	$netopt
	$mining
CONF
# btcd generates a certificate and key only when both are missing, and
# fails to start when one of them is: a volume removed alone (the key is in
# /data, the certificate in /tls) regenerates the pair instead.
if [ ! -e /tls/rpc.cert ] || [ ! -e /data/rpc.key ]; then
	rm -f /tls/rpc.cert /data/rpc.key
fi
# The certificate must be readable by walletd (another user); btcd writes
# the key 0600 itself.
umask 022
exec btcd --configfile="$tmp/btcd.conf" "$@"
