#!/bin/sh
# Entrypoint of the litecoind image (Dockerfile.litecoind): runs litecoind
# for a container, or litecoin-cli against it, or a regtest miner. The RPC
# credentials come from the environment and go into a file on the
# container's /tmp (a tmpfs, mode 0600), never onto a command line, where
# every user of the host could read them with ps.
#
#   litecoind-entrypoint [litecoind options…]  run litecoind (the default)
#   litecoind-entrypoint ctl CMD [ARGS…]       run litecoin-cli CMD
#   litecoind-entrypoint mine                  regtest: mine LITECOIND_MINE_INITIAL
#                                              blocks, then one every
#                                              LITECOIND_MINE_INTERVAL seconds
#
# Environment:
#   LITECOIND_NETWORK        mainnet (default), testnet or regtest
#   LITECOIND_RPC_USER       RPC user (default walletd)
#   LITECOIND_RPC_PASSWORD   RPC password (required)
#   LITECOIND_MINING_ADDRESS mine: the address generated blocks pay
#   LITECOIND_MINE_INITIAL   mine: height to reach first (default 101)
#   LITECOIND_MINE_INTERVAL  mine: seconds between blocks (default 10)
#
# Litecoin Core has no TLS on RPC: it listens on 127.0.0.1:9332 only, and
# walletd reaches it by sharing this container's network namespace
# (network_mode: service:litecoind), so the RPC never crosses a network.
set -eu

die() {
	echo "litecoind-entrypoint: $*" >&2
	exit 2
}

network=${LITECOIND_NETWORK:-mainnet}
case "$network" in
mainnet) chain=main ;;
testnet) chain=test ;;
regtest) chain=regtest ;;
*) die "LITECOIND_NETWORK=$network: want mainnet, testnet or regtest" ;;
esac
pass=${LITECOIND_RPC_PASSWORD:-}
[ -n "$pass" ] || die "LITECOIND_RPC_PASSWORD is not set"
conf=${TMPDIR:-/tmp}/litecoin.conf
t=$(mktemp "$conf.XXXXXX")
printf 'rpcuser=%s\nrpcpassword=%s\n' "${LITECOIND_RPC_USER:-walletd}" "$pass" >"$t"
mv -f "$t" "$conf"

ctl() {
	litecoin-cli -conf="$conf" -chain="$chain" -rpcconnect=127.0.0.1 -rpcport=9332 "$@"
}

case "${1:-}" in
ctl)
	shift
	ctl "$@"
	exit
	;;
mine)
	[ "$network" = regtest ] || die "mine: only on regtest (LITECOIND_NETWORK=$network)"
	addr=${LITECOIND_MINING_ADDRESS:?LITECOIND_MINING_ADDRESS is not set}
	initial=${LITECOIND_MINE_INITIAL:-101}
	interval=${LITECOIND_MINE_INTERVAL:-10}
	# PID 1 of its container: stop at once on docker stop.
	trap 'exit 0' TERM INT
	until h=$(ctl getblockcount 2>/dev/null); do sleep 1; done
	# Litecoin's regtest refuses block 432 and later until a transaction
	# pegs coins into MWEB: the node's own wallet ("miner", kept in the
	# node's data volume) gets the coinbase of block 331, mature at 431,
	# and pegs 1 LTC of it in just before 432.
	ctl createwallet miner >/dev/null 2>&1 || ctl loadwallet miner >/dev/null 2>&1 || true
	wallet() { ctl -rpcwallet=miner "$@"; }
	while :; do
		next=$((h + 1))
		to=$addr
		if [ "$next" -eq 331 ]; then
			to=$(wallet getnewaddress) || die "mine: no address from the node's wallet"
		fi
		if [ "$next" -eq 432 ]; then
			mweb=$(wallet getnewaddress "" mweb) || die "mine: no MWEB address from the node's wallet"
			wallet sendtoaddress "$mweb" 1 >/dev/null || die "mine: the MWEB peg-in failed"
			echo "mined: pegged 1 LTC into MWEB for block 432"
		fi
		ctl generatetoaddress 1 "$to" >/dev/null || die "mine: generatetoaddress failed at height $h"
		h=$next
		if [ "$h" -ge "$initial" ]; then
			echo "mined: height $h"
			sleep "$interval" &
			wait $!
		fi
		until h=$(ctl getblockcount 2>/dev/null); do sleep 1; done
	done
	;;
esac

exec /usr/lib/litecoin/litecoind -conf="$conf" -datadir=/data -chain="$chain" \
	-rpcbind=127.0.0.1 -rpcallowip=127.0.0.1 -rpcport=9332 \
	-txindex=1 -blockfilterindex=1 -printtoconsole=1 -upnp=0 "$@"
