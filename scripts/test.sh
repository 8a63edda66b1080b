#!/usr/bin/env bash
# Runs every test of walletd: builds the pinned test nodes, checks formatting
# and vet, then the whole suite with the race detector (unit tests, the fuzz
# seed corpora, and the integration tests against real nodes on 127.0.0.1).
# Suites that are not Go tests (the Bitcart SDK's own tests, containers, …)
# are scripts in scripts/tests.d, run in name order after the Go tests.
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== building test nodes"
bash integration/nodes/build.sh btcd btcctl ltcd ltcctl bchd bchctl

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
# The version pinned in integration/lint/go.mod; checks chosen in staticcheck.conf.
go -C integration/lint build -trimpath -o "$PWD/bin/staticcheck" honnef.co/go/tools/cmd/staticcheck
bin/staticcheck ./...

echo "== go test -race"
go test -race -count=1 -timeout 20m "$@" ./...

for suite in scripts/tests.d/*.sh; do
	[ -e "$suite" ] || continue
	echo "== $suite"
	bash "$suite"
done
