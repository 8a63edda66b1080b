package bch_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/vectors"
)

// partialVector is one of testdata/partial.json (gen_partial.py): Electron
// Cash's unsigned transaction of a watch-only wallet, and the same signed
// by the wallet of the matching private key.
type partialVector struct {
	Watch    string `json:"watch"`
	Unsigned string `json:"unsigned"`
	Inputs   []struct {
		Value   int64  `json:"value"`
		Address string `json:"address"`
	} `json:"inputs"`
	Signer   string `json:"signer"`
	Signed   string `json:"signed"`
	Complete bool   `json:"complete"`
}

// TestElectronCashUnsignedFormat: the unsigned transactions Electron Cash
// gives watch-only wallets (BIP32 xpub, Electrum 1.x mpk, imported
// addresses) parse into their inputs' values and signing keys, serialize
// back byte for byte, and, signed with the wallets' private keys through
// Signer, give exactly the transaction Electron Cash signs (Schnorr,
// SIGHASH_ALL|FORKID).
func TestElectronCashUnsignedFormat(t *testing.T) {
	raw, err := os.ReadFile("testdata/partial.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []partialVector
	if err := json.Unmarshal(raw, &vs); err != nil || len(vs) != 3 {
		t.Fatalf("vectors: %d, %v", len(vs), err)
	}
	net, _ := params.BCH("regtest")
	wallets := map[string]vectors.ECWallet{}
	for _, w := range vectors.LoadElectronCash(t).Networks["regtest"].Wallets {
		wallets[w.Label] = w
	}
	for _, v := range vs {
		unsigned, _ := hex.DecodeString(v.Unsigned)
		tx, ins, err := bch.ParseUnsigned(unsigned)
		if err != nil {
			t.Fatalf("%s: %v", v.Watch, err)
		}
		if len(ins) != len(v.Inputs) {
			t.Fatalf("%s: %d inputs", v.Watch, len(ins))
		}
		watch, err := keys.ParseElectronCash(wallets[v.Watch].KeyMaterial, net)
		if err != nil {
			t.Fatal(err)
		}
		prevs := make([]*wire.TxOut, len(ins))
		for i, in := range ins {
			script, _ := net.PkScript(v.Inputs[i].Address)
			if in == nil || in.Value != v.Inputs[i].Value || len(tx.TxIn[i].SignatureScript) != 0 {
				t.Fatalf("%s input %d: %+v", v.Watch, i, in)
			}
			prevs[i] = wire.NewTxOut(in.Value, script)
			switch v.Watch {
			case "standard-account-xpub":
				if len(in.Key.BIP32) != 78 || len(in.Key.Path) != 2 || in.Key.Path[0] != 0 {
					t.Fatalf("%s input %d key %+v", v.Watch, i, in.Key)
				}
				k, _ := watch.Derive(false, in.Key.Path[1])
				if !bytes.Equal(k.PkScript, script) {
					t.Fatalf("%s input %d: derivation %v is not its address", v.Watch, i, in.Key.Path)
				}
			case "old-mpk":
				if len(in.Key.Old) != 64 || hex.EncodeToString(in.Key.Old) != wallets[v.Watch].MPK || len(in.Key.Path) != 2 {
					t.Fatalf("%s input %d key %+v", v.Watch, i, in.Key)
				}
			default:
				if !bytes.Equal(in.Key.Script, script) {
					t.Fatalf("%s input %d key %+v", v.Watch, i, in.Key)
				}
			}
		}
		again, err := bch.SerializeUnsigned(tx, ins)
		if err != nil || !bytes.Equal(again, unsigned) {
			t.Fatalf("%s: serialized back as\n%x\nElectron Cash\n%x", v.Watch, again, unsigned)
		}
		if v.Signer == "" {
			continue
		}
		signer, err := keys.ParseElectronCash(wallets[v.Signer].KeyMaterial, net)
		if err != nil {
			t.Fatal(err)
		}
		privs := make([]*btcec.PrivateKey, len(ins))
		for i, in := range ins {
			if privs[i], err = signer.PrivKey(in.Key.Path[0] == 1, in.Key.Path[1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := (bch.Signer{}).SignInputs(tx, prevs, privs); err != nil {
			t.Fatalf("%s: %v", v.Signer, err)
		}
		var buf bytes.Buffer
		_ = tx.Serialize(&buf)
		if !v.Complete || hex.EncodeToString(buf.Bytes()) != v.Signed {
			t.Fatalf("%s signs\n%x\nElectron Cash signs\n%s", v.Signer, buf.Bytes(), v.Signed)
		}
	}
}
