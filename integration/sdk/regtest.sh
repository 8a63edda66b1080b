#!/usr/bin/env bash
# walletd's stand-in for the Bitcart SDK's tests/regtest/regtest.sh, placed
# beside the copy of the SDK that scripts/tests.d/sdk.sh runs. The SDK's
# helper drives bitcoind through bitcoin-cli; this one takes the same
# commands (startup|newblock|newblocks|generate|newaddress|newtx) and drives
# the btcd regtest node through regtestctl (integration/sdk/regtestctl),
# which sdk.sh builds and names in WALLETD_REGTESTCTL, with the node in
# REGTEST_RPC, REGTEST_USER and REGTEST_PASS.
set -eu
if [[ $# -eq 0 ]]; then
    echo "syntax: startup|newblock|newblocks|generate|newaddress|newtx"
    exit 1
fi
exec "${WALLETD_REGTESTCTL:?sdk.sh sets WALLETD_REGTESTCTL}" "$@"
