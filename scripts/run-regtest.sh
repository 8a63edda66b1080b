#!/usr/bin/env bash
# Starts a btcd regtest node and a walletd BTC daemon wired to it, pays a
# request and shows the events a merchant receives; then keeps both running
# until Ctrl-C. Pass --hold=false to exit after the demo, --coin=ltc to show
# Litecoin instead (Debian's litecoind and the Core JSON-RPC backend),
# --coin=bch to show Bitcoin Cash (bchd, Electron Cash's methods).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case " $* " in
*" --coin=ltc "* | *" -coin=ltc "*) ;; # litecoind comes from Debian (scripts/deps.d/ltc.apt)
*" --coin=bch "* | *" -coin=bch "*) bash integration/nodes/build.sh bchd bchctl ;;
*) bash integration/nodes/build.sh btcd btcctl ;;
esac
mkdir -p bin
go build -o bin/walletd ./cmd/daemon
WALLETD_DAEMON_BIN="$PWD/bin/walletd" go run ./integration/demo "$@"
