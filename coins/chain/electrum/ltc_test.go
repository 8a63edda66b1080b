package electrum_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// ltcStack starts litecoind (regtest, its own wallet funded, 150 blocks)
// and ElectrumX (COIN=Litecoin) over it.
func ltcStack(t *testing.T) (*harness.Node, *electrumx.Server) {
	node := harness.StartLitecoind(t)
	node.FundNodeWallet()
	node.Generate(150 - int(node.Height()))
	x := electrumx.Start(t, node.HTTPURL(), electrumx.WithCoin("Litecoin"))
	x.WaitTip(node.BestHash())
	return node, x
}

// ltcBackend is a backend with Litecoin regtest's rules on x.
func ltcBackend(t *testing.T, x *electrumx.Server, mod func(*electrum.Config)) *electrum.Backend {
	return newBackend(t, nil, tcp(t, x), func(c *electrum.Config) {
		c.Rules = netRules(t, params.LTC, "regtest")
		if mod != nil {
			mod(c)
		}
	})
}

// TestLitecoin runs the Litecoin checks on one litecoind and ElectrumX; the
// last one takes the chain past MWEB activation.
func TestLitecoin(t *testing.T) {
	node, x := ltcStack(t)
	t.Run("Headers", func(t *testing.T) { litecoinHeaders(t, node, x) })
	t.Run("Backend", func(t *testing.T) { litecoinBackend(t, node.For(t), x) })
	t.Run("ResumeHeaders", func(t *testing.T) { resumeHeaders(t, node.For(t), x) })
	t.Run("MWEB", func(t *testing.T) { litecoinMWEB(t, node.For(t), x) })
}

// litecoinHeaders verifies real litecoind regtest headers, served by
// ElectrumX, with the rules of params.LTC("regtest"): scrypt proof of work
// passes; the same headers checked with sha256d fail (about half of them
// miss the target).
func litecoinHeaders(t *testing.T, node *harness.Node, x *electrumx.Server) {
	rules := netRules(t, params.LTC, "regtest")
	if g := node.BlockHash(0); g != *rules.Params.GenesisHash {
		t.Fatalf("litecoind regtest genesis %s, params.LTC's %s", g, rules.Params.GenesisHash)
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
	c := headers.NewChain(rules, 0)
	if err := c.Init(hdrs[:1]); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if _, err := c.Extend(1, hdrs[1:]); err != nil {
		t.Fatalf("litecoind's headers under scrypt: %v", err)
	}
	btc, _ := params.BTC("regtest")
	sha256d := headers.PowOf(btc)
	failed := 0
	for i := range hdrs[1:] {
		h := sha256d(&hdrs[i+1])
		if blockchain.HashToBig(&h).Cmp(blockchain.CompactToBig(hdrs[i+1].Bits)) > 0 {
			failed++
		}
	}
	sha := *rules
	sha.Pow = sha256d
	c2 := headers.NewChain(&sha, 0)
	if err := c2.Init(hdrs[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Extend(1, hdrs[1:]); !errors.Is(err, headers.ErrInvalid) {
		t.Fatalf("litecoind's headers under sha256d: %v, want ErrInvalid", err)
	}
	t.Logf("%d of %d litecoind headers miss their target under sha256d; all pass under scrypt", failed, len(hdrs)-1)
}

// nodeScript returns a fresh address of litecoind's wallet and its script.
func nodeScript(t *testing.T, node *harness.Node) (string, []byte) {
	var addr string
	node.Must(&addr, "getnewaddress")
	var info struct {
		ScriptPubKey string `json:"scriptPubKey"`
	}
	node.Must(&info, "getaddressinfo", addr)
	script, err := hex.DecodeString(info.ScriptPubKey)
	if err != nil {
		t.Fatal(err)
	}
	return addr, script
}

// litecoinBackend runs the backend with Litecoin's rules against
// ElectrumX over litecoind: connect (headers verified with scrypt), a
// payment from litecoind's wallet (validated: its inputs exist and its
// signatures verify), its block (merkle proof).
func litecoinBackend(t *testing.T, node *harness.Node, x *electrumx.Server) {
	b := ltcBackend(t, x, nil)
	addr, script := nodeScript(t, node)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	connected := ev.wait(t, "connected", isKind(chain.EventConnected))
	if connected.Tip.Height != node.Height() {
		t.Fatalf("tip %d, node %d", connected.Tip.Height, node.Height())
	}
	if err := b.Watch(ctx, [][]byte{script}, nil); err != nil {
		t.Fatal(err)
	}
	id := mustHash(t, node.SendFromNodeWallet(addr, "1.5"))
	ev.wait(t, "the payment", accepted(id))
	h := node.Generate(1)[0]
	got := ev.wait(t, "its block", blockWith(id))
	if got.Block.Hash != h || got.Block.Height != node.Height() {
		t.Fatalf("block %+v", got.Block.BlockRef)
	}
	hist, err := b.History(ctx, [][]byte{script})
	if err != nil || len(hist) != 1 || hist[0].Height != node.Height() || hist[0].Confirmations != 1 {
		t.Fatalf("History = %+v, %v", hist, err)
	}
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// resumeHeaders: the verified header chain is kept in HeadersPath as soon
// as the backend has synced (it survives a crash) and at Close; a new
// backend resumes from it and verifies only the headers mined since; a
// damaged file is not trusted (the chain is verified from genesis again)
// and is replaced.
func resumeHeaders(t *testing.T, node *harness.Node, x *electrumx.Server) {
	path := filepath.Join(t.TempDir(), "electrum-headers")
	start := func() (*electrum.Backend, chain.Event) {
		t.Helper()
		b := ltcBackend(t, x, func(c *electrum.Config) { c.HeadersPath = path })
		ch, err := b.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ev := record(ch)
		return b, ev.wait(t, "connected", isKind(chain.EventConnected))
	}
	b1, c1 := start()
	tip := node.Height()
	if c1.Tip.Height != tip || b1.Stats().HeadersVerified != int64(tip) {
		t.Fatalf("first start: tip %d, %d headers verified (want all %d)", c1.Tip.Height, b1.Stats().HeadersVerified, tip)
	}
	harness.WaitFor(t, 10*time.Second, "the header chain kept while running", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
	_ = b1.Close()

	hs := node.Generate(3)
	x.WaitTip(hs[2])
	b2, c2 := start()
	if c2.Tip.Height != tip+3 || c2.Tip.Hash != hs[2] || b2.Stats().HeadersVerified != 3 {
		t.Fatalf("restart: tip %d, %d headers verified (want only the 3 new ones)", c2.Tip.Height, b2.Stats().HeadersVerified)
	}
	_ = b2.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	b3, c3 := start()
	if c3.Tip.Height != tip+3 || b3.Stats().HeadersVerified != int64(tip+3) {
		t.Fatalf("damaged file: tip %d, %d headers verified (want all %d)", c3.Tip.Height, b3.Stats().HeadersVerified, tip+3)
	}
	_ = b3.Close()
	b4, _ := start()
	if n := b4.Stats().HeadersVerified; n != 0 {
		t.Fatalf("after the damaged file was replaced: %d headers verified", n)
	}
}

// litecoinMWEB takes the chain past MWEB activation (height 432): blocks
// then end with a HogEx transaction serialized with the MWEB flag, which
// ElectrumX serves as litecoind gives it. The backend connects through
// those blocks, sees a canonical payment in one, reports a peg-out (paid by
// the HogEx) as confirmed, and validates a mempool spend of the peg-out
// (its parent, the HogEx, fetched and proven).
func litecoinMWEB(t *testing.T, node *harness.Node, x *electrumx.Server) {
	node.ActivateMWEB()
	x.WaitTip(node.BestHash())
	b := ltcBackend(t, x, nil)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	if c := ev.wait(t, "connected", isKind(chain.EventConnected)); c.Tip.Height != node.Height() || c.Tip.Height < 433 {
		t.Fatalf("tip %d, node %d", c.Tip.Height, node.Height())
	}

	// A canonical payment, confirmed in a block with MWEB data.
	script, _ := node.NewScript(harness.P2WPKH)
	if err := b.Watch(ctx, [][]byte{script}, nil); err != nil {
		t.Fatal(err)
	}
	tx := node.FundTx(script, 20_000_000)
	ev.wait(t, "the payment in the mempool", accepted(tx.TxHash()))
	node.Generate(1)
	ev.wait(t, "the payment in an MWEB block", blockWith(tx.TxHash()))

	// A peg-out: invisible in the mempool (MWEB only), then an output of
	// the next block's HogEx.
	addr, pegScript := nodeScript(t, node)
	if err := b.Watch(ctx, [][]byte{pegScript}, nil); err != nil {
		t.Fatal(err)
	}
	node.PegOutTo(addr, "0.5")
	blk := node.Block(node.Generate(1)[0])
	hogEx := blk.Transactions[len(blk.Transactions)-1]
	vout := -1
	for i, o := range hogEx.TxOut {
		if bytes.Equal(o.PkScript, pegScript) && o.Value == 50_000_000 {
			vout = i
		}
	}
	if vout < 0 {
		t.Fatalf("the block's last transaction %v does not pay the peg-out", hogEx.TxHash())
	}
	var rawHogEx string
	node.Must(&rawHogEx, "getrawtransaction", hogEx.TxHash().String())
	if flag := rawHogEx[10:12]; rawHogEx[8:10] != "00" || flag != "08" {
		t.Fatalf("litecoind serves the HogEx without the MWEB flag (%s): the test proves nothing", rawHogEx[:12])
	}
	got := ev.wait(t, "the HogEx paying the peg-out", blockWith(hogEx.TxHash()))
	if got.Block.Height != node.Height() {
		t.Fatalf("peg-out reported at %d, mined at %d", got.Block.Height, node.Height())
	}
	hist, err := b.History(ctx, [][]byte{pegScript})
	if err != nil || len(hist) != 1 || hist[0].Tx.TxHash() != hogEx.TxHash() || hist[0].Confirmations != 1 {
		t.Fatalf("History of the peg-out = %+v, %v", hist, err)
	}

	// A spend of the peg-out (mature after 6 blocks), seen by a backend
	// that does not know the HogEx: it fetches it to validate the spend.
	node.Generate(5)
	dest, _ := node.NewScript(harness.P2WPKH)
	destAddr, err := txscript.ParsePkScript(dest)
	if err != nil {
		t.Fatal(err)
	}
	net, _ := params.LTC("regtest")
	da, err := destAddr.Address(net.Chain)
	if err != nil {
		t.Fatal(err)
	}
	var unsigned, spendID string
	node.Must(&unsigned, "createrawtransaction",
		[]map[string]any{{"txid": hogEx.TxHash().String(), "vout": vout}}, map[string]any{da.EncodeAddress(): json.Number("0.4999")})
	var signed struct {
		Hex      string `json:"hex"`
		Complete bool   `json:"complete"`
	}
	node.Must(&signed, "signrawtransactionwithwallet", unsigned)
	if !signed.Complete {
		t.Fatal("litecoind did not sign the spend of its peg-out")
	}
	node.Must(&spendID, "sendrawtransaction", signed.Hex)
	b2 := ltcBackend(t, x, nil)
	ch2, err := b2.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev2 := record(ch2)
	ev2.wait(t, "connected", isKind(chain.EventConnected))
	if err := b2.Watch(ctx, [][]byte{dest}, nil); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 20*time.Second, "the spend of the peg-out validated", func() bool {
		hist, err := b2.History(ctx, [][]byte{dest})
		return err == nil && len(hist) == 1 && hist[0].Tx.TxHash().String() == spendID && hist[0].BlockHash == nil
	})
	if b.Stats().Lies != 0 || b2.Stats().Lies != 0 {
		t.Fatalf("honest ElectrumX counted as lying: %d, %d", b.Stats().Lies, b2.Stats().Lies)
	}
}
