# Convenience targets; each wraps a script that works without make.
.PHONY: build test run nodes fuzz bench-check bench-baseline
build:
	go build -o bin/walletd ./cmd/daemon
nodes:
	bash integration/nodes/build.sh btcd btcctl
test:
	bash scripts/test.sh
run:
	bash scripts/run-regtest.sh
fuzz:
	go test -run XXX -fuzz FuzzHandle -fuzztime 60s ./daemons/base/
	go test -run XXX -fuzz FuzzParse -fuzztime 60s ./coins/keys/
	go test -run XXX -fuzz FuzzParseDotenv -fuzztime 60s ./cmd/daemon/
# Go benchmarks of the hot paths against integration/benchcheck/baseline.txt:
# fails on a >25% regression. Run before committing (on a quiet machine).
bench-check:
	go run ./integration/benchcheck
# Record the current numbers as the baseline (after an intended change).
bench-baseline:
	go run ./integration/benchcheck -update
