package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/integration/harness"
)

// TestCommandsOnBtcd runs the stand-in's commands against a real btcd: the
// blocks pay the given address, startup mines N+151 blocks, and a mempool
// transaction with a witness is mined with a valid witness commitment.
func TestCommandsOnBtcd(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101) // the harness's own coins, for the segwit spend below
	t.Setenv("REGTEST_RPC", node.RPCAddr())
	t.Setenv("REGTEST_USER", "walletd")
	t.Setenv("REGTEST_PASS", "walletd-test-pass")
	do := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(args, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return strings.TrimSpace(out.String())
	}
	addr := do("newaddress")
	if !strings.HasPrefix(addr, "bcrt1q") {
		t.Fatalf("newaddress = %q", addr)
	}
	do("startup", "2", addr)
	if h := node.Height(); h != 101+153 {
		t.Fatalf("after startup 2: height %d, want 254", h)
	}
	for _, height := range []int32{102, 103} {
		cb := node.Block(node.BlockHash(height)).Transactions[0]
		_, addrs, _, _ := txscript.ExtractPkScriptAddrs(cb.TxOut[0].PkScript, node.Params())
		if len(addrs) != 1 || addrs[0].EncodeAddress() != addr {
			t.Fatalf("block %d pays %v, not %s", height, addrs, addr)
		}
	}
	var hashes []string
	if err := json.Unmarshal([]byte(do("generate", "3", addr)), &hashes); err != nil || len(hashes) != 3 {
		t.Fatalf("generate 3: %v %v", hashes, err)
	}
	// A segwit spend in the mempool is mined by newblock.
	script, _ := node.NewScript(harness.P2WPKH)
	op := node.FundScript(script, 1_000_000)
	do("newblock")
	spend := node.SpendTx(op, script, 1_000_000, script)
	id, err := node.SendRaw(spend)
	if err != nil {
		t.Fatal(err)
	}
	do("newblocks", "1")
	if !containsTx(node.Block(node.BestHash()).Transactions, id) {
		t.Fatal("newblock did not mine the mempool's segwit transaction")
	}
	txid := do("newtx", addr)
	cb := node.Block(node.BestHash()).Transactions[0]
	if cb.TxHash().String() != txid {
		t.Fatalf("newtx printed %s, the coinbase is %s", txid, cb.TxHash())
	}
	if err := run([]string{"bogus"}, &bytes.Buffer{}); err == nil {
		t.Fatal("an unknown command succeeded")
	}
}

func containsTx(txs []*wire.MsgTx, id chainhash.Hash) bool {
	for _, tx := range txs {
		if tx.TxHash() == id {
			return true
		}
	}
	return false
}
