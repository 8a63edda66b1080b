package bch_test

import (
	"testing"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/vectors"
)

// TestRequestIDVectors: the id of the vectors' addrequest example (the
// first receiving address of the bip39-seed wallet at the fixed clock) on
// every network, from its legacy address, and the example's bare address
// and URI from the codec.
func TestRequestIDVectors(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range []string{"mainnet", "testnet", "regtest"} {
		nv := v.Networks[name]
		ex := nv.AddRequest
		var w *vectors.ECWallet
		for i := range nv.Wallets {
			if nv.Wallets[i].Label == ex.Wallet {
				w = &nv.Wallets[i]
			}
		}
		if w == nil || ex.Clock == 0 {
			t.Fatalf("%s: no wallet %q for the addrequest example", name, ex.Wallet)
		}
		reply := ex.ElectronCash
		if got := bch.RequestID(w.ReceivingLegacy[0], ex.Clock); got != reply["id"] {
			t.Errorf("%s: RequestID = %s, Electron Cash %v", name, got, reply["id"])
		}
		b, err := params.BCH(name)
		if err != nil {
			t.Fatal(err)
		}
		script, err := b.PkScript(w.Receiving[0])
		if err != nil {
			t.Fatal(err)
		}
		bare, _ := b.Codec.Bare(script)
		if bare != reply["address"] || b.URIScheme+":"+bare+"?amount=0.5" != reply["URI"] {
			t.Errorf("%s: address %s / URI %s:%s, Electron Cash %v %v", name, bare, b.URIScheme, bare,
				reply["address"], reply["URI"])
		}
	}
}
