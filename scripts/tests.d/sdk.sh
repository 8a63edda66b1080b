#!/usr/bin/env bash
# The Bitcart SDK's own test suite, unmodified (../shared/bitcart-sdk), run
# against walletd with Debian's python3, aiohttp and pytest
# (scripts/deps.d/sdk.apt) and the SDK's two vendored pure-Python
# dependencies on PYTHONPATH:
#
#  1. its offline tests and its live BTC tests (tests/test_spec.py,
#     tests/coins/btc/test_without_wallet.py, test_with_wallet.py,
#     tests/test_utils.py) against walletd on BTC_NETWORK=testnet over an
#     offline btcd --testnet (genesis only, no peers), on the port and login
#     the suite expects (127.0.0.1:5000, electrum/electrumz);
#  2. the on-chain tests of tests/regtest.py (test_payment_to_single and
#     test_payment_to_many, every parameter set) against walletd on a btcd
#     regtest node, with walletd's stand-in for the SDK's
#     tests/regtest/regtest.sh (integration/sdk/regtest.sh, driving btcd
#     through integration/sdk/regtestctl) placed in the copy it runs.
#
# Left out (README, "The Bitcart SDK's test suite"): the tests that need
# testnet3's real chain (test_get_tx, test_get_address) and the lightning
# tests (tests/coins/btc/test_lightning.py and the channel tests of
# tests/regtest.py). A failing, erroring or skipped test fails the suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
sdk_src="$repo/../shared/bitcart-sdk"
py=/usr/bin/python3
port=5000

[ -d "$sdk_src/tests" ] || { echo "sdk.sh: $sdk_src is missing"; exit 1; }
[ -x "$py" ] || { echo "sdk.sh: $py is missing (scripts/deps.d/sdk.apt)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/walletd-sdk.XXXXXX")
pids=()
stop_all() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}
cleanup() {
	stop_all
	rm -rf "$work"
}
trap cleanup EXIT

echo "sdk: building walletd, regtestctl and btcd"
bash integration/nodes/build.sh btcd
go build -race -o "$work/walletd" ./cmd/daemon
go build -o "$work/regtestctl" ./integration/sdk/regtestctl
btcd="${WALLETD_BIN_DIR:-$repo/bin}/btcd"

# The SDK tree, copied so the stand-in helper can sit beside its tests.
cp -r "$sdk_src" "$work/sdk"
chmod -R u+w "$work/sdk"
cp integration/sdk/regtest.sh "$work/sdk/tests/regtest/regtest.sh"
export PYTHONPATH="$work/sdk:$work/sdk/vendor"

free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# rpc URL USER PASS METHOD: a JSON-RPC call's result (JSON), or failure.
rpc() {
	"$py" - "$@" <<'PY'
import base64, json, sys, urllib.request
url, user, password, method = sys.argv[1:5]
req = urllib.request.Request(url, data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).encode())
req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
reply = json.load(urllib.request.urlopen(req, timeout=10))
if reply.get("error"):
    sys.exit(str(reply["error"]))
print(json.dumps(reply["result"]))
PY
}

# wait_for WHAT SECONDS COMMAND...: retries COMMAND until it succeeds.
wait_for() {
	local what=$1 secs=$2
	shift 2
	for _ in $(seq $((secs * 5))); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "sdk: timed out after ${secs}s waiting for $what"
	return 1
}

# start_btcd NAME FLAGS...: a btcd on free loopback ports; sets rpc_addr.
start_btcd() {
	local name=$1
	shift
	local dir="$work/$name"
	mkdir -p "$dir"
	rpc_addr="127.0.0.1:$(free_port)"
	"$btcd" "$@" --configfile=/dev/null --datadir="$dir/data" --logdir="$dir/logs" \
		--listen="127.0.0.1:$(free_port)" --rpclisten="$rpc_addr" --notls --rpcuser=sdk --rpcpass=sdk-pass \
		--nodnsseed --nostalldetect --txindex --addrindex >"$dir/btcd.log" 2>&1 &
	pids+=($!)
	wait_for "btcd ($name) RPC" 30 rpc "http://$rpc_addr" sdk sdk-pass getblockcount
}

# synced: walletd answers getinfo with synchronized true.
synced() {
	rpc "http://127.0.0.1:$port" electrum electrumz getinfo | "$py" -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["synchronized"] else 1)'
}

# start_walletd NETWORK: walletd on 127.0.0.1:5000 over the btcd at rpc_addr.
start_walletd() {
	local network=$1
	if "$py" -c "import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
		echo "sdk: 127.0.0.1:$port is in use; the SDK's tests need it free"
		return 1
	fi
	walletd_log="$work/walletd-$network.log"
	env BTC_NETWORK="$network" BTC_HOST=127.0.0.1 BTC_PORT="$port" BTC_DATA_PATH="$work/walletd-$network" \
		BTC_SERVER="ws://sdk:sdk-pass@$rpc_addr/ws" BTC_DEBUG=true "$work/walletd" btc >"$walletd_log" 2>&1 &
	pids+=($!)
	wait_for "walletd ($network) synchronized" 60 synced
}

# run_pytest NAME MIN ARGS...: runs pytest in the SDK copy; fails on a
# failure, an error, a skip, or fewer than MIN tests.
run_pytest() {
	local name=$1 min=$2
	shift 2
	local junit="$work/$name.xml" rc=0
	(cd "$work/sdk" && timeout 900 "$py" -m pytest -o addopts= -p no:cacheprovider -q -rfEs --junitxml="$junit" "$@") || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "sdk: pytest ($name) failed ($rc); walletd log tail:"
		tail -n 60 "$walletd_log"
		return 1
	fi
	"$py" - "$junit" "$min" "$name" <<'PY'
import sys, xml.etree.ElementTree as ET
path, want, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
root = ET.parse(path).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
n = sum(int(s.get("tests", 0)) for s in suites)
bad = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("failures", "errors", "skipped")}
print(f"sdk: {name}: {n} tests, {bad}")
if any(bad.values()) or n < want:
    sys.exit(f"sdk: {name}: want at least {want} tests and no failure, error or skip")
PY
}

export WALLETD_REGTESTCTL="$work/regtestctl" REGTEST_USER=sdk REGTEST_PASS=sdk-pass

echo "sdk: offline and live BTC tests on testnet"
start_btcd testnet --testnet --connect=127.0.0.1:1
start_walletd testnet
run_pytest testnet 54 tests \
	--ignore=tests/regtest.py \
	--ignore=tests/coins/btc/test_lightning.py \
	--deselect tests/coins/btc/test_without_wallet.py::test_get_tx \
	--deselect tests/coins/btc/test_without_wallet.py::test_get_address
stop_all

echo "sdk: on-chain tests of tests/regtest.py on regtest"
start_btcd regtest --regtest
export REGTEST_RPC="$rpc_addr"
start_walletd regtest
run_pytest regtest 20 tests/regtest.py -k "test_payment_to_single or test_payment_to_many"
stop_all
echo "sdk: passed"
