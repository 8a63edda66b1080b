package harness

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func TestStartFundGenerate(t *testing.T) {
	t0 := time.Now()
	n := StartBtcd(t)
	tStart := time.Since(t0)

	t1 := time.Now()
	script, addr := n.NewScript(P2WPKH)
	txid := n.Fund(addr.EncodeAddress(), 100_000)
	tFund := time.Since(t1)
	t.Logf("node start %v, first funded output %v", tStart, tFund)

	if !n.InMempool(txid) {
		t.Fatalf("funding tx %v not in mempool", txid)
	}
	h := n.Height()
	if h < 101 {
		t.Fatalf("height %d after first fund, want >= 101", h)
	}
	hashes := n.Generate(1)
	if len(hashes) != 1 || n.Height() != h+1 || n.BestHash() != hashes[0] {
		t.Fatalf("generate: got %v, height %d", hashes, n.Height())
	}
	if !containsTx(n.Block(hashes[0]).Transactions, txid) {
		t.Fatalf("funding tx not mined")
	}

	// Many funds in a row (chained change, all script kinds), then spend
	// one of them with the harness key.
	t2 := time.Now()
	var last chainhash.Hash
	for i := 0; i < 30; i++ {
		kind := KeyKind(i % 3)
		_, a := n.NewScript(kind)
		last = n.Fund(a.EncodeAddress(), int64(10_000+i))
	}
	t.Logf("30 more funds in %v", time.Since(t2))
	if !n.InMempool(last) {
		t.Fatalf("last fund not in mempool")
	}
	op := n.FundScript(script, 50_000)
	other, _ := n.NewScript(P2TR)
	spend := n.SpendTx(op, script, 50_000, other)
	if _, err := n.SendRaw(spend); err != nil {
		t.Fatalf("spend: %v", err)
	}
	double := n.SpendTx(op, script, 50_000, script)
	_, err := n.SendRaw(double)
	var re *RPCError
	if !errors.As(err, &re) {
		t.Fatalf("double spend: got %v, want an RPCError", err)
	}
	t.Logf("double spend refused: %v", re)
}

func TestTaprootSpend(t *testing.T) {
	n := StartBtcd(t)
	script, _ := n.NewScript(P2TR)
	op := n.FundScript(script, 70_000)
	n.Generate(1)
	to, _ := n.NewScript(P2PKH)
	spend := n.SpendTx(op, script, 70_000, to)
	if _, err := n.SendRaw(spend); err != nil {
		t.Fatalf("taproot spend: %v", err)
	}
	pk, _ := n.NewScript(P2PKH)
	op2 := n.FundScript(pk, 70_000)
	if _, err := n.SendRaw(n.SpendTx(op2, pk, 70_000, script)); err != nil {
		t.Fatalf("p2pkh spend of unconfirmed output: %v", err)
	}
}

// TestReorg proves two nodes that mined different chains reorganise onto the
// longer one once connected.
func TestReorg(t *testing.T) {
	a := StartBtcd(t)
	b := StartBtcd(t)
	a.Generate(5)
	b.Generate(7)
	aOld := a.BlockHash(5)
	if aOld == b.BlockHash(5) {
		t.Fatal("chains are not different")
	}
	a.ConnectPeer(b)
	a.WaitSynced(b)
	if h := a.Height(); h != 7 {
		t.Fatalf("a height %d after reorg, want 7", h)
	}
	if a.BlockHash(5) == aOld {
		t.Fatal("a did not reorganise")
	}
	// Once connected, new blocks propagate; after Disconnect they don't.
	b.Generate(1)
	a.WaitForHeight(8)
	a.Disconnect(b)
	b.Generate(2)
	a.Generate(1)
	if a.BestHash() == b.BestHash() {
		t.Fatal("nodes still share blocks after Disconnect")
	}
}

func TestInvalidateBlock(t *testing.T) {
	n := StartBtcd(t)
	hashes := n.Generate(3)
	n.InvalidateBlock(hashes[1])
	if h := n.Height(); h != 1 {
		t.Fatalf("height %d after invalidating block 2, want 1", h)
	}
	n.Generate(3)
	if n.BlockHash(2) == hashes[1] {
		t.Fatal("invalidated block is back in the chain")
	}
	n.ReconsiderBlock(hashes[1])
	if h := n.Height(); h != 4 {
		t.Fatalf("height %d after reconsider, want the longer branch (4)", h)
	}
}

// TestRestartSimnet proves a simnet node keeps its chain across Restart and
// the harness can keep funding (its unconfirmed change is gone).
func TestRestartSimnet(t *testing.T) {
	n := StartBtcd(t, WithSimnet())
	_, a := n.NewScript(P2WPKH)
	n.Fund(a.EncodeAddress(), 20_000)
	n.Generate(1)
	n.Fund(a.EncodeAddress(), 20_000) // unconfirmed change, lost by restart
	h, best := n.Height(), n.BestHash()
	t0 := time.Now()
	n.Restart()
	t.Logf("restart in %v", time.Since(t0))
	if n.Height() != h || n.BestHash() != best {
		t.Fatalf("chain not kept: height %d, want %d", n.Height(), h)
	}
	txid := n.Fund(a.EncodeAddress(), 30_000)
	if !n.InMempool(txid) {
		t.Fatal("fund after restart not in mempool")
	}
}

func TestRestartRegtestWipes(t *testing.T) {
	n := StartBtcd(t)
	n.Generate(3)
	n.Restart()
	if h := n.Height(); h != 0 {
		t.Fatalf("regtest height %d after restart, want 0 (btcd wipes regtest)", h)
	}
	_, a := n.NewScript(P2PKH)
	n.Fund(a.EncodeAddress(), 10_000)
}

func TestTLS(t *testing.T) {
	n := StartBtcd(t, WithTLS())
	if !bytes.Contains(n.TLSCert(), []byte("CERTIFICATE")) {
		t.Fatal("no certificate")
	}
	if u := n.WSURL(); u[:6] != "wss://" {
		t.Fatalf("WSURL %q", u)
	}
	if c, err := n.RPC().GetBlockCount(); err != nil || c != 0 {
		t.Fatalf("rpcclient over TLS: %d %v", c, err)
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

func TestSimnetSegwitTaproot(t *testing.T) {
	n := StartBtcd(t, WithSimnet())
	for _, kind := range []KeyKind{P2WPKH, P2TR} {
		script, _ := n.NewScript(kind)
		op := n.FundScript(script, 70_000)
		to, _ := n.NewScript(P2PKH)
		if _, err := n.SendRaw(n.SpendTx(op, script, 70_000, to)); err != nil {
			t.Fatalf("kind %d spend on simnet: %v", kind, err)
		}
	}
	t.Logf("simnet height after first funds: %d", n.Height())
}

// TestPortInUse: a node whose port is taken reports errAddrInUse (StartBtcd
// then retries with fresh ports).
func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := StartBtcd(t)
	n.Stop()
	n.rpcPort = l.Addr().(*net.TCPAddr).Port
	if err := n.start(); !errors.Is(err, errAddrInUse) {
		t.Fatalf("start on a taken port: %v, want errAddrInUse", err)
	}
}
