#!/usr/bin/env bash
# Builds the pinned test nodes (btcd, bchd, ltcd and their ctl tools) into
# <repo>/bin (or $WALLETD_BIN_DIR when set), from the versions pinned in this
# folder's go.mod/go.sum.
#
# Usage: integration/nodes/build.sh [name ...]
#   names: btcd btcctl bchd bchctl ltcd ltcctl (default: all of them)
#
# Idempotent: a binary that exists and is newer than go.mod and go.sum is not
# rebuilt. The stale ones are built by one `go build` (packages compile in
# parallel and share the build cache) into a temporary folder, then moved into
# place, so an interrupted build never leaves a half-written binary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bindir="${WALLETD_BIN_DIR:-$repo/bin}"
mkdir -p "$bindir"

# name -> package path (all pinned by the tool directives in go.mod).
declare -A pkg=(
	[btcd]=github.com/btcsuite/btcd
	[btcctl]=github.com/btcsuite/btcd/cmd/btcctl
	[bchd]=github.com/gcash/bchd
	[bchctl]=github.com/gcash/bchd/cmd/bchctl
	[ltcd]=github.com/ltcsuite/ltcd
	[ltcctl]=github.com/ltcsuite/ltcd/cmd/ltcctl
)
order=(btcd btcctl bchd bchctl ltcd ltcctl)

if [ "$#" -gt 0 ]; then
	names=("$@")
else
	names=("${order[@]}")
fi

cd "$here"
todo=()
pkgs=()
for name in "${names[@]}"; do
	p="${pkg[$name]:-}"
	if [ -z "$p" ]; then
		echo "build.sh: unknown node '$name' (want one of: ${order[*]})" >&2
		exit 2
	fi
	out="$bindir/$name"
	if [ -x "$out" ] && [ "$out" -nt go.mod ] && [ "$out" -nt go.sum ]; then
		echo "build.sh: $name up to date"
		continue
	fi
	todo+=("$name")
	pkgs+=("$p")
done
[ "${#todo[@]}" -eq 0 ] && exit 0

tmp="$(mktemp -d "$bindir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
go build -trimpath -o "$tmp/" "${pkgs[@]}"
for name in "${todo[@]}"; do
	mv -f "$tmp/$name" "$bindir/$name"
done
echo "build.sh: built ${todo[*]} in $(( $(date +%s) - start ))s -> $bindir"
