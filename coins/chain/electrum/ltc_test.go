package electrum_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/integration/electrumx"
)

// ltcRegtest is Litecoin's regtest, as far as header rules go
// (litecoin/src/chainparams.cpp, CRegTestParams). TODO: use the LTC
// parameters of coins/params once they land.
func ltcRegtest() *chaincfg.Params {
	p := chaincfg.RegressionNetParams
	g, _ := chainhash.NewHashFromStr("530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9")
	p.Name = "ltc-regtest"
	p.GenesisHash = g
	p.TargetTimespan = 84 * time.Hour // 3.5 days
	p.TargetTimePerBlock = 150 * time.Second
	p.MinDiffReductionTime = 2 * p.TargetTimePerBlock
	p.PoWNoRetargeting = true
	p.ReduceMinDifficulty = true
	return &p
}

// ltcStack starts litecoind (regtest, 150 blocks) and ElectrumX over it.
func ltcStack(t *testing.T) (*electrumx.Litecoind, *electrumx.Server) {
	node := electrumx.StartLitecoind(t)
	hs := node.Generate(150)
	x := electrumx.Start(t, node.URL(), electrumx.WithCoin("Litecoin"))
	x.WaitTip(hs[len(hs)-1])
	return node, x
}

// TestLitecoin runs the Litecoin checks on one litecoind and ElectrumX.
func TestLitecoin(t *testing.T) {
	node, x := ltcStack(t)
	t.Run("Headers", func(t *testing.T) { litecoinHeaders(t, node, x) })
	t.Run("Backend", func(t *testing.T) { litecoinBackend(t, node, x) })
}

// litecoinHeaders verifies real litecoind regtest headers, served by
// ElectrumX, with Litecoin's rules: scrypt proof of work passes; the same
// headers checked with sha256d fail (about half of them miss the target).
func litecoinHeaders(t *testing.T, node *electrumx.Litecoind, x *electrumx.Server) {
	var genesis string
	node.Must(&genesis, "getblockhash", 0)
	params := ltcRegtest()
	if genesis != params.GenesisHash.String() {
		t.Fatalf("litecoind regtest genesis %s, the test's %s", genesis, params.GenesisHash)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var r struct {
		Count int    `json:"count"`
		Hex   string `json:"hex"`
	}
	if err := x.Call(ctx, &r, "blockchain.block.headers", 0, 151); err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(r.Hex)
	if r.Count != 151 || len(raw) != 151*80 {
		t.Fatalf("%d headers, %d bytes", r.Count, len(raw))
	}
	hdrs := make([]wire.BlockHeader, r.Count)
	for i := range hdrs {
		if err := hdrs[i].Deserialize(bytes.NewReader(raw[i*80 : (i+1)*80])); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := headers.ForNetwork("LTC", "regtest", params)
	if err != nil {
		t.Fatal(err)
	}
	c := headers.NewChain(rules, 0)
	if err := c.Init(hdrs[:1]); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if _, err := c.Extend(1, hdrs[1:]); err != nil {
		t.Fatalf("litecoind's headers under scrypt: %v", err)
	}
	failed := 0
	for i := range hdrs[1:] {
		h := headers.SHA256d(&hdrs[i+1])
		if blockchain.HashToBig(&h).Cmp(blockchain.CompactToBig(hdrs[i+1].Bits)) > 0 {
			failed++
		}
	}
	sha := *rules
	sha.Pow = headers.SHA256d
	c2 := headers.NewChain(&sha, 0)
	if err := c2.Init(hdrs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Extend(1, hdrs[1:]); !errors.Is(err, headers.ErrInvalid) {
		t.Fatalf("litecoind's headers under sha256d: %v, want ErrInvalid", err)
	}
	t.Logf("%d of %d litecoind headers miss their target under sha256d; all pass under scrypt", failed, len(hdrs)-1)
}

// litecoinBackend runs the backend with Litecoin's rules against
// ElectrumX over litecoind: connect (headers verified with scrypt), a
// payment from litecoind's wallet (validated: its inputs exist and its
// signatures verify), its block (merkle proof).
func litecoinBackend(t *testing.T, node *electrumx.Litecoind, x *electrumx.Server) {
	rules, err := headers.ForNetwork("LTC", "regtest", ltcRegtest())
	if err != nil {
		t.Fatal(err)
	}
	list, _ := servers.Parse(x.TCP())
	b, err := electrum.New(electrum.Config{Servers: list, Rules: rules, ReconnectMin: 20 * time.Millisecond,
		Settle: 100 * time.Millisecond}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	var addr string
	node.Must(&addr, "getnewaddress")
	var info struct {
		ScriptPubKey string `json:"scriptPubKey"`
	}
	node.Must(&info, "getaddressinfo", addr)
	script, _ := hex.DecodeString(info.ScriptPubKey)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	connected := ev.wait(t, "connected", isKind(chain.EventConnected))
	if connected.Tip.Height != 150 {
		t.Fatalf("tip %d", connected.Tip.Height)
	}
	if err := b.Watch(ctx, [][]byte{script}, nil); err != nil {
		t.Fatal(err)
	}
	var txid string
	node.Must(&txid, "sendtoaddress", addr, "1.5")
	id, _ := chainhash.NewHashFromStr(txid)
	ev.wait(t, "the payment", accepted(*id))
	h := node.Generate(1)[0]
	got := ev.wait(t, "its block", blockWith(*id))
	if got.Block.Hash != h || got.Block.Height != 151 {
		t.Fatalf("block %+v", got.Block.BlockRef)
	}
	hist, err := b.History(ctx, [][]byte{script})
	if err != nil || len(hist) != 1 || hist[0].Height != 151 || hist[0].Confirmations != 1 {
		t.Fatalf("History = %+v, %v", hist, err)
	}
}
