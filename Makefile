# Convenience targets; each wraps a script that works without make.
.PHONY: build test run nodes fuzz bench-check bench-baseline

# FUZZTIME is how long each fuzz target runs (make fuzz FUZZTIME=10m).
FUZZTIME ?= 60s

build:
	go build -o bin/walletd ./cmd/daemon
nodes:
	bash integration/nodes/build.sh btcd btcctl ltcd ltcctl bchd bchctl
test:
	bash scripts/test.sh
run:
	bash scripts/run-regtest.sh
fuzz:
	go test -run XXX -fuzz FuzzHandle -fuzztime $(FUZZTIME) ./daemons/base/
	go test -run XXX -fuzz FuzzParse -fuzztime $(FUZZTIME) ./coins/keys/
	go test -run XXX -fuzz FuzzParseDotenv -fuzztime $(FUZZTIME) ./cmd/daemon/
	go test -run XXX -fuzz FuzzCashAddrDecode -fuzztime $(FUZZTIME) ./coins/params/
	go test -run XXX -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./coins/chain/ltcwire/
# Go benchmarks of the hot paths against integration/benchcheck/baseline.txt:
# fails on a >25% regression. Run before committing (on a quiet machine).
bench-check:
	go run ./integration/benchcheck
# Record the current numbers as the baseline (after an intended change).
bench-baseline:
	go run ./integration/benchcheck -update
