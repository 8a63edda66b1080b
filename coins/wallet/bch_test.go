package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
	"github.com/walletd/walletd/internal/vectors"
)

// bchEnv is an engine running Bitcoin Cash (bch.Coin) on regtest over the
// fake chain.
func bchEnv(t *testing.T, fc *fakeChain) (*wallet.Engine, *params.Network, *recorder) {
	t.Helper()
	net, _ := params.BCH("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	eng, err := wallet.New(context.Background(), wallet.Config{Coin: bch.Coin(net), Store: st, Backend: fc,
		Publish: rec.publish, SyncTimeout: 5 * time.Second, PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); _ = st.Close() })
	return eng, net, rec
}

func ecWallet(t *testing.T, label string) vectors.ECWallet {
	t.Helper()
	for _, w := range vectors.LoadElectronCash(t).Networks["regtest"].Wallets {
		if w.Label == label {
			return w
		}
	}
	t.Fatalf("no Electron Cash wallet %s", label)
	return vectors.ECWallet{}
}

// tokenScript is a CashTokens output script: PREFIX_TOKEN, a category, a
// fungible amount of 1000, then locking.
func tokenScript(locking []byte) []byte {
	s := append([]byte{bch.TokenPrefix}, bytes.Repeat([]byte{0x42}, 32)...)
	s = append(s, 0x10, 0xfd, 0xe8, 0x03) // has amount; compact size 1000
	return append(s, locking...)
}

// TestBCHEngine: the engine on Bitcoin Cash derives Electron Cash's
// addresses (printed without the cashaddr prefix), makes Electron Cash's
// request ids, counts a token-carrying output to a request's address as
// Electron Cash does (its BCH value), keeps it out of the balance, and never
// spends it as plain BCH; its transactions are version 1 with final
// sequences, and bumpfee is refused.
func TestBCHEngine(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	eng, net, rec := bchEnv(t, fc)
	vw := ecWallet(t, "electrum-seed")
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := w.Addresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, a := range addrs {
		got[a.Address] = true
	}
	for _, a := range vw.ReceivingBare {
		if !got[a] {
			t.Fatalf("address %s of Electron Cash is not the wallet's (%d addresses)", a, len(addrs))
		}
	}
	r, err := w.AddRequest(ctx, 100_000, "memo", 900, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Address != vw.ReceivingBare[0] || r.ID != bch.RequestID(vw.ReceivingLegacy[0], r.Timestamp) {
		t.Fatalf("request %s id %s", r.Address, r.ID)
	}
	script, _ := net.PkScript(r.Address)
	// One transaction: 60,000 sat plain and 40,000 sat with tokens to the
	// request's address, 30,000 sat plain to the next address.
	other, _ := net.PkScript(vw.ReceivingBare[1])
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{9}}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(60_000, script))
	tx.AddTxOut(wire.NewTxOut(40_000, tokenScript(script)))
	tx.AddTxOut(wire.NewTxOut(30_000, other))
	fc.mempoolAdd(tx)
	seen := 0
	b := rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusUnconfirmed || b.Sent != "0.00100000" {
		t.Fatalf("new_payment %+v: the token output's BCH counts toward the request", b)
	}
	fc.mine()
	waitFor(t, func() bool { g, _ := w.GetRequest(ctx, r.Address); return g != nil && g.Status == wallet.StatusPaid })
	utxos, _ := w.UTXOs(ctx)
	tokens := 0
	for _, u := range utxos {
		if u.Token {
			tokens++
			if !bytes.Equal(u.PkScript, script) || u.Value != 40_000 || wallet.Spendable(u, eng.Height()) {
				t.Fatalf("token coin %+v", u)
			}
		}
	}
	if tokens != 1 || len(utxos) != 3 {
		t.Fatalf("%d coins, %d with tokens", len(utxos), tokens)
	}
	if bal, _ := w.Balance(ctx); bal.Confirmed != 90_000 {
		t.Fatalf("balance %+v: a token coin is not plain BCH", bal)
	}
	dest := vw.ReceivingBare[4]
	rate := int64(1000)
	pay := func(sats int64, max bool) (*wallet.BuiltTx, error) {
		return w.CreateTransaction(ctx, wallet.SpendRequest{FeeRate: &rate,
			Outputs: []wallet.Payment{{Address: dest, Amount: wallet.Amount{Sats: sats, Max: max, Set: true}}}})
	}
	// Everything: the two plain coins only.
	all, err := pay(0, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range all.Tx.TxIn {
		if in.PreviousOutPoint == (wire.OutPoint{Hash: tx.TxHash(), Index: 1}) {
			t.Fatal("a token coin was spent as plain BCH")
		}
		if in.Sequence != bch.Sequence {
			t.Fatalf("sequence %#x", in.Sequence)
		}
	}
	if len(all.Tx.TxIn) != 2 || all.Tx.Version != 1 || !all.Complete || all.Fee != int64(all.Tx.SerializeSize()) {
		t.Fatalf("send-all: %d inputs, version %d, fee %d for %d bytes", len(all.Tx.TxIn), all.Tx.Version, all.Fee,
			all.Tx.SerializeSize())
	}
	if err := bch.Coin(net).Signer.VerifyInputs(all.Tx, []*wire.TxOut{{Value: 60_000, PkScript: script},
		{Value: 30_000, PkScript: other}}); err != nil {
		// inputs are BIP69-sorted: try the other order
		if err2 := bch.Coin(net).Signer.VerifyInputs(all.Tx, []*wire.TxOut{{Value: 30_000, PkScript: other},
			{Value: 60_000, PkScript: script}}); err2 != nil {
			t.Fatalf("signatures do not verify with bchd's engine: %v / %v", err, err2)
		}
	}
	// More than the plain coins hold: not enough funds, tokens or not.
	if _, err := pay(95_000, false); !errors.Is(err, wallet.ErrNotEnoughFunds) {
		t.Fatalf("paying 95,000 of 90,000 plain sat: %v", err)
	}
	if _, err := w.BumpFee(ctx, all.Tx, 5000, wallet.BumpOptions{}); !errors.Is(err, wallet.ErrRBFUnsupported) {
		t.Fatalf("bumpfee on BCH: %v", err)
	}
	// The dust threshold is Electron Cash's 546 sat.
	if _, err := pay(545, false); !errors.Is(err, wallet.ErrDustOutput) {
		t.Fatalf("545 sat: %v", err)
	}
	if _, err := pay(546, false); err != nil {
		t.Fatalf("546 sat: %v", err)
	}
}
