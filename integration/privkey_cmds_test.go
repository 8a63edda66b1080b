package integration

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/spec"
)

// callKey is a regtest key as the private key commands take it.
type callKey struct {
	export string
	addr   string
}

func newCallKey(t *testing.T, st params.ScriptType, compressed bool) callKey {
	t.Helper()
	net, _ := params.BTC("regtest")
	k, _ := btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(k, net.Chain, compressed)
	pub := k.PubKey().SerializeUncompressed()
	if compressed {
		pub = k.PubKey().SerializeCompressed()
	}
	addr, _, err := net.PubKeyAddress(st, pub)
	if err != nil {
		t.Fatal(err)
	}
	export := st.String() + ":" + wif.String()
	if !compressed {
		export = wif.String()
	}
	return callKey{export: export, addr: addr}
}

// TestPrivkeyCommandsOnNode runs Electrum's private key commands against
// the real daemon over a real btcd: sweep finds the keys' coins (confirmed
// and in the mempool, p2wpkh, uncompressed p2pkh and p2wpkh-p2sh) through
// the node's address index, returns a signed transaction without
// broadcasting it, and the node accepts it; signtransaction_with_privkey
// signs a raw transaction the node accepts; decrypt reads with the call's
// seed what encrypt and Electrum itself encrypted to one of its addresses.
func TestPrivkeyCommandsOnNode(t *testing.T) {
	node, d := startBTC(t)
	k1 := newCallKey(t, params.P2WPKH, true)
	k2 := newCallKey(t, params.P2PKH, false)
	k3 := newCallKey(t, params.P2WPKHP2SH, true)
	node.Fund(k1.addr, 1_000_000)
	node.Fund(k1.addr, 2_000_000)
	node.Fund(k2.addr, 3_000_000)
	node.Fund(k3.addr, 4_000_000)
	node.Generate(1)
	waitSynced(t, d, node.Height())
	node.Fund(k1.addr, 5_000_000) // unconfirmed: swept too, as Electrum's listunspent has it

	dest := newCallKey(t, params.P2WPKH, true)
	var raw string
	d.Must(&raw, "", "sweep", k1.export+" "+k2.export+"\n"+k3.export, dest.addr, nil, 5)
	tx := decodeHexTx(t, raw)
	if len(tx.TxIn) != 5 || len(tx.TxOut) != 1 {
		t.Fatalf("sweep: %d inputs, %d outputs; want every coin of the 3 keys to one output", len(tx.TxIn), len(tx.TxOut))
	}
	fee := int64(15_000_000) - tx.TxOut[0].Value
	if vsize := (tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4; fee < int64(5*(vsize-3)) || fee > int64(5*(vsize+5)) {
		t.Fatalf("fee %d for %d vbytes at 5 sat/vB", fee, vsize)
	}
	txid := tx.TxHash()
	if node.InMempool(txid) {
		t.Fatal("sweep broadcast the transaction; Electrum's does not")
	}
	var sent string
	d.Must(&sent, "", "broadcast", raw)
	if sent != txid.String() || !node.InMempool(txid) {
		t.Fatalf("broadcast of the sweep: %s, in mempool %v", sent, node.InMempool(txid))
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	var unspent []struct {
		Value int64 `json:"value"`
	}
	d.Must(&unspent, "", "getaddressunspent", dest.addr)
	if len(unspent) != 1 || unspent[0].Value != tx.TxOut[0].Value {
		t.Fatalf("destination holds %+v, want the sweep's %d", unspent, tx.TxOut[0].Value)
	}
	if re := rpcErr(t, d, "", "sweep", k1.export, dest.addr, nil, 5); re.Code != int(spec.NotEnoughFunds) {
		t.Fatalf("sweeping swept keys: %+v", re)
	}

	// signtransaction_with_privkey on a raw transaction whose prevout the
	// daemon looks up on the node.
	k4 := newCallKey(t, params.P2WPKHP2SH, true)
	fund := node.Fund(k4.addr, 700_000)
	node.Generate(1)
	waitSynced(t, d, node.Height())
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fund, Index: 0}, nil, nil))
	net, _ := params.BTC("regtest")
	destScript, _ := net.PkScript(dest.addr)
	spend.AddTxOut(wire.NewTxOut(690_000, destScript))
	var buf bytes.Buffer
	_ = spend.Serialize(&buf)
	var signed string
	d.Must(&signed, "", "signtransaction_with_privkey", hex.EncodeToString(buf.Bytes()), []string{k1.export, k4.export})
	stx := decodeHexTx(t, signed)
	if _, err := node.SendRaw(stx); err != nil {
		t.Fatalf("the node refuses the signed transaction: %v", err)
	}

	// decrypt with the call's seed: the daemon's encrypt and Electrum's.
	seed := vectorWallet(t, "electrum-segwit-seed")
	var pubs []string
	d.Must(&pubs, seed.KeyMaterial, "getpubkeys", seed.Receiving[3])
	var enc, dec string
	d.Must(&enc, "", "encrypt", pubs[0], "invoice 42 paid ✓")
	d.Must(&dec, seed.KeyMaterial, "decrypt", pubs[0], enc)
	if dec != "invoice 42 paid ✓" {
		t.Fatalf("decrypt(encrypt(m)) = %q", dec)
	}
	out, err := exec.Command("/usr/bin/python3", "-c", `
import sys
from electrum import ecc
print(ecc.ECPubkey(bytes.fromhex(sys.argv[1])).encrypt_message(b"from electrum").decode())`, pubs[0]).Output()
	if err != nil {
		t.Fatalf("python3-electrum: %v", err)
	}
	d.Must(&dec, seed.KeyMaterial, "decrypt", pubs[0], strings.TrimSpace(string(out)))
	if dec != "from electrum" {
		t.Fatalf("decrypt of Electrum's message = %q", dec)
	}
	watch := vectorWallet(t, "p2wpkh-account-xpub")
	if re := rpcErr(t, d, watch.KeyMaterial, "decrypt", pubs[0], enc); re.Code != int(spec.InvalidParams) {
		t.Fatalf("decrypt with a watch-only wallet: %+v", re)
	}
	other, _ := btcec.NewPrivateKey()
	if re := rpcErr(t, d, seed.KeyMaterial, "decrypt", hex.EncodeToString(other.PubKey().SerializeCompressed()), enc); re.Code != int(spec.InvalidParams) {
		t.Fatalf("decrypt for a key not of the wallet: %+v", re)
	}
	// A node backend does not serve getservers/getmerkle.
	if re := rpcErr(t, d, "", "getservers"); re.Code != int(spec.BackendUnsupported) {
		t.Fatalf("getservers on btcd: %+v", re)
	}
}

// TestElectrumNetworkCommands: on the Electrum-protocol backend against a
// real ElectrumX, getmerkle returns a branch that leads to the merkle root
// of the node's own block, and refuses a wrong height; getservers lists the
// configured server.
func TestElectrumNetworkCommands(t *testing.T) {
	node, x, d := startElectrumBTC(t)
	var txids []chainhash.Hash
	for i := 0; i < 3; i++ {
		txids = append(txids, node.Fund(newCallKey(t, params.P2WPKH, true).addr, 100_000))
	}
	hashes := node.Generate(1)
	x.WaitTip(node.BestHash())
	height := node.Height()
	waitSynced(t, d, height)
	block := node.Block(hashes[0])
	for _, id := range txids {
		var got struct {
			BlockHeight int32    `json:"block_height"`
			Merkle      []string `json:"merkle"`
			Pos         int      `json:"pos"`
		}
		d.Must(&got, "", "getmerkle", id.String(), height)
		if got.BlockHeight != height || got.Pos < 1 || len(got.Merkle) != 2 {
			t.Fatalf("getmerkle(%v) = %+v", id, got)
		}
		branch := make([]chainhash.Hash, len(got.Merkle))
		for i, s := range got.Merkle {
			branch[i] = mustHash(t, s)
		}
		if err := headers.VerifyMerkle(id, branch, got.Pos, &block.Header); err != nil {
			t.Fatalf("the branch does not lead to the node's merkle root: %v", err)
		}
	}
	if re := rpcErr(t, d, "", "getmerkle", txids[0].String(), height-1); re.Code != int(spec.TxNotFound) {
		t.Fatalf("getmerkle at the wrong height: %+v", re)
	}
	if re := rpcErr(t, d, "", "getmerkle", txids[0].String(), height+100); re.Code != int(spec.TxNotFound) {
		t.Fatalf("getmerkle above the tip: %+v", re)
	}
	var servers map[string]map[string]any
	d.Must(&servers, "", "getservers")
	_, port, _ := strings.Cut(strings.TrimSuffix(x.TCP(), ":t"), ":")
	if e := servers["127.0.0.1"]; e == nil || e["t"] != port {
		t.Fatalf("getservers = %v, want 127.0.0.1 with t=%s", servers, port)
	}
}
