package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkCalls/getbalance-2         	  500000	       700.0 ns/op	     420 B/op	       9 allocs/op
BenchmarkCalls/getbalance-2         	  500000	       900.0 ns/op	     420 B/op	       9 allocs/op
BenchmarkCalls/getbalance-2         	  500000	       800.0 ns/op	     420 B/op	       9 allocs/op
BenchmarkApplyBlock/2000tx-0-ours-2 	       4	  5000000 ns/op	         2.5 committed-ms
PASS
`

// TestCheck: medians are taken per benchmark without the GOMAXPROCS
// suffix; more than 25% slower than recorded fails, 25% passes, and a
// recorded benchmark that did not run fails.
func TestCheck(t *testing.T) {
	got := map[string]float64{}
	var order []string
	for name, v := range parse(sample) {
		got["coins/wallet "+name] = median(v)
		order = append(order, "coins/wallet "+name)
	}
	if got["coins/wallet BenchmarkCalls/getbalance"] != 800 || got["coins/wallet BenchmarkApplyBlock/2000tx-0-ours"] != 5e6 {
		t.Fatalf("parsed %v", got)
	}
	path := filepath.Join(t.TempDir(), "baseline.txt")
	if err := write(path, order, got); err != nil {
		t.Fatal(err)
	}
	want, err := read(path)
	if err != nil || len(want) != 2 {
		t.Fatalf("read back %v %v", want, err)
	}
	if err := compare(want, got, order, io.Discard); err != nil {
		t.Fatalf("same numbers: %v", err)
	}
	got["coins/wallet BenchmarkCalls/getbalance"] = 1000 // 25% slower: tolerated
	if err := compare(want, got, order, io.Discard); err != nil {
		t.Fatalf("25%% slower: %v", err)
	}
	got["coins/wallet BenchmarkCalls/getbalance"] = 1001
	if err := compare(want, got, order, io.Discard); err == nil || !strings.Contains(err.Error(), "getbalance") {
		t.Fatalf("more than 25%% slower: %v", err)
	}
	got["coins/wallet BenchmarkCalls/getbalance"] = 800
	delete(got, "coins/wallet BenchmarkApplyBlock/2000tx-0-ours")
	if err := compare(want, got, order[:0], io.Discard); err == nil || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("missing benchmark: %v", err)
	}
	if err := os.WriteFile(path, []byte("# nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := read(path); err == nil {
		t.Fatal("an empty baseline reads")
	}
}

// TestSlower: only the suites holding a benchmark over the threshold run
// again.
func TestSlower(t *testing.T) {
	want := map[string]float64{"coins/wallet BenchmarkCalls/getbalance": 100, "coins/wallet BenchmarkMatchBlock/x": 100}
	got := map[string]float64{"coins/wallet BenchmarkCalls/getbalance": 130, "coins/wallet BenchmarkMatchBlock/x": 100}
	calls := suite{pkg: "./coins/wallet", pattern: "^BenchmarkCalls$"}
	match := suite{pkg: "./coins/wallet", pattern: "^(BenchmarkScriptIndexLookup|BenchmarkMatchBlock)$"}
	if !slower(calls, want, got) || slower(match, want, got) {
		t.Fatalf("slower: calls %v, match %v", slower(calls, want, got), slower(match, want, got))
	}
}
