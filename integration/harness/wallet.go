package harness

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/ltcwire"
)

const (
	// coinbaseMaturity is the number of confirmations a coinbase output
	// needs before it can be spent (100 on regtest and simnet); a coinbase
	// mined at height h is spendable once the tip is h+100.
	coinbaseMaturity = 100
	// feeRate is what Fund and SpendTx pay, in satoshis per virtual byte.
	feeRate = 5
	// dustLimit is the smallest change output the harness creates.
	dustLimit = 1000
)

// utxo is an output the harness can spend: a coinbase paid to the mining key
// or change back to it.
type utxo struct {
	op       wire.OutPoint
	value    int64
	coinbase bool
	height   int32 // coinbase height (coinbase only)
}

// wallet is the harness's in-memory key and UTXO set. Its state is a cache:
// Restart forgets it and it is rebuilt from the chain (coinbases) on demand.
type wallet struct {
	params *chaincfg.Params

	key          *btcec.PrivateKey
	miningAddr   address.Address
	miningScript []byte

	// activeHeight is the height from which segwit and taproot spends
	// are accepted: 0 on regtest (always active), 300 on simnet (BIP9
	// deployments with 100-block windows; btcd's generate signals them).
	activeHeight int32

	mu      sync.Mutex
	utxos   []utxo
	scanned int32 // coinbases up to this height are in utxos
	keys    map[string]*btcec.PrivateKey
}

func newWallet(t TB, params *chaincfg.Params) *wallet {
	t.Helper()
	var key *btcec.PrivateKey
	var a *address.AddressPubKeyHash
	for {
		var err error
		if key, err = btcec.NewPrivateKey(); err != nil {
			t.Fatalf("harness: new key: %v", err)
		}
		if a, err = address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), params); err != nil {
			t.Fatalf("harness: mining address: %v", err)
		}
		// btcd (and ltcd) read any address that starts with the network's
		// bech32 prefix and "1" as bech32: a base58 address that happens
		// to (simnet's "Sb1…", about one in 58) fails --miningaddr.
		if !strings.HasPrefix(strings.ToLower(a.EncodeAddress()), params.Bech32HRPSegwit+"1") {
			break
		}
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		t.Fatalf("harness: mining script: %v", err)
	}
	var active int32
	if params.Net == chaincfg.SimNetParams.Net {
		active = 300
	}
	return &wallet{
		params: params, activeHeight: active, key: key, miningAddr: a, miningScript: script,
		keys: map[string]*btcec.PrivateKey{string(script): key},
	}
}

// reset forgets every tracked output; coinbases are rescanned on demand.
func (w *wallet) reset() {
	w.mu.Lock()
	w.utxos = nil
	w.scanned = 0
	w.mu.Unlock()
}

// MiningAddress returns the address the node mines to (a P2PKH of a key the
// harness holds).
func (n *Node) MiningAddress() address.Address { return n.wallet.miningAddr }

// KeyKind selects the script type of NewScript.
type KeyKind int

// Script kinds NewScript can make.
const (
	P2PKH KeyKind = iota
	P2WPKH
	P2TR
)

// NewScript returns the pkScript (and its address) of a fresh key the
// harness holds, so SpendTx can later spend outputs paying it.
func (n *Node) NewScript(kind KeyKind) ([]byte, address.Address) {
	n.t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		n.t.Fatalf("harness: new key: %v", err)
	}
	var a address.Address
	switch kind {
	case P2PKH:
		a, err = address.NewAddressPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), n.params)
	case P2WPKH:
		a, err = address.NewAddressWitnessPubKeyHash(address.Hash160(key.PubKey().SerializeCompressed()), n.params)
	case P2TR:
		tk := txscript.ComputeTaprootKeyNoScript(key.PubKey())
		a, err = address.NewAddressTaproot(schnorr.SerializePubKey(tk), n.params)
	default:
		err = fmt.Errorf("unknown kind %d", kind)
	}
	if err != nil {
		n.t.Fatalf("harness: new address: %v", err)
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		n.t.Fatalf("harness: script: %v", err)
	}
	n.wallet.mu.Lock()
	n.wallet.keys[string(script)] = key
	n.wallet.mu.Unlock()
	return script, a
}

// Generate mines n blocks to the mining address and returns their hashes.
func (n *Node) Generate(count int) []chainhash.Hash {
	n.t.Helper()
	hashes, err := n.generate(count)
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return hashes
}

func (n *Node) generate(count int) ([]chainhash.Hash, error) {
	var res []string
	var err error
	if n.flavor != nil && n.flavor.generateToAddress {
		res, err = n.generateToAddress(count)
	} else {
		err = n.call(&res, "generate", count)
	}
	if err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, len(res))
	for i, s := range res {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, err
		}
		out[i] = *h
	}
	return out, nil
}

// Height returns the best block height.
func (n *Node) Height() int32 {
	n.t.Helper()
	h, err := n.height()
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return h
}

func (n *Node) height() (int32, error) {
	var h int32
	err := n.call(&h, "getblockcount")
	return h, err
}

// BestHash returns the best block hash.
func (n *Node) BestHash() chainhash.Hash {
	n.t.Helper()
	var s string
	n.mustCall(&s, "getbestblockhash")
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return *h
}

// BlockHash returns the hash of the best-chain block at height.
func (n *Node) BlockHash(height int32) chainhash.Hash {
	n.t.Helper()
	h, err := n.blockHash(height)
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return h
}

func (n *Node) blockHash(height int32) (chainhash.Hash, error) {
	var s string
	if err := n.call(&s, "getblockhash", height); err != nil {
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// Block returns the full block with the given hash.
func (n *Node) Block(hash chainhash.Hash) *wire.MsgBlock {
	n.t.Helper()
	b, err := n.block(hash)
	if err != nil {
		n.t.Fatalf("harness: %v", err)
	}
	return b
}

func (n *Node) block(hash chainhash.Hash) (*wire.MsgBlock, error) {
	var s string
	if err := n.call(&s, "getblock", hash.String(), 0); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	// ltcwire also reads Litecoin's MWEB blocks (their canonical part).
	b, err := ltcwire.DecodeBlock(raw)
	if err != nil {
		return nil, err
	}
	return &wire.MsgBlock{Header: b.Header, Transactions: b.Txs}, nil
}

// SendRaw submits tx to the node's mempool (sendrawtransaction) and returns
// its txid, or the node's refusal (an *RPCError). Safe from any goroutine.
func (n *Node) SendRaw(tx *wire.MsgTx) (chainhash.Hash, error) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return chainhash.Hash{}, err
	}
	var s string
	if err := n.call(&s, "sendrawtransaction", hex.EncodeToString(buf.Bytes())); err != nil {
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// InMempool reports whether txid is in the node's mempool.
func (n *Node) InMempool(txid chainhash.Hash) bool {
	n.t.Helper()
	var ids []string
	n.mustCall(&ids, "getrawmempool")
	for _, s := range ids {
		if s == txid.String() {
			return true
		}
	}
	return false
}

// Fund pays amountSats to addr (any standard address of the node's network:
// P2PKH, P2SH, P2WPKH, P2WSH, P2TR) from the harness's coins and returns the
// txid; the payment is output 0. The first call mines 101 blocks (more only
// when the harness runs out of mature coinbases). The tx is in the mempool,
// unconfirmed.
func (n *Node) Fund(addr string, amountSats int64) chainhash.Hash {
	n.t.Helper()
	a, err := n.decodeAddress(addr)
	if err != nil {
		n.t.Fatalf("harness: fund: %v", err)
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		n.t.Fatalf("harness: fund: %v", err)
	}
	return n.FundScript(script, amountSats).Hash
}

// FundScript pays amountSats to pkScript like Fund and returns the outpoint
// of the payment.
func (n *Node) FundScript(pkScript []byte, amountSats int64) wire.OutPoint {
	n.t.Helper()
	tx, err := n.fundTx(pkScript, amountSats)
	if err != nil {
		n.t.Fatalf("harness: fund: %v", err)
	}
	return wire.OutPoint{Hash: tx.TxHash(), Index: 0}
}

// FundTx is FundScript returning the whole broadcast transaction.
func (n *Node) FundTx(pkScript []byte, amountSats int64) *wire.MsgTx {
	n.t.Helper()
	tx, err := n.fundTx(pkScript, amountSats)
	if err != nil {
		n.t.Fatalf("harness: fund: %v", err)
	}
	return tx
}

// fundTx builds, signs and broadcasts a payment of amount to pkScript, with
// change back to the mining key at output 1. Inputs the node refuses as
// spent or missing (after a restart or reorg) are dropped and the payment is
// retried with others.
func (n *Node) fundTx(pkScript []byte, amount int64) (*wire.MsgTx, error) {
	w := n.wallet
	w.mu.Lock()
	defer w.mu.Unlock()
	for attempt := 0; attempt < 50; attempt++ {
		ins, err := n.selectInputs(amount)
		if err != nil {
			return nil, err
		}
		tx := wire.NewMsgTx(2)
		var total int64
		for _, u := range ins {
			tx.AddTxIn(wire.NewTxIn(&u.op, nil, nil))
			total += u.value
		}
		tx.AddTxOut(wire.NewTxOut(amount, pkScript))
		fee := int64(feeRate * (11 + 148*len(ins) + 43*2))
		change := total - amount - fee
		if change >= dustLimit {
			tx.AddTxOut(wire.NewTxOut(change, w.miningScript))
		}
		for i := range ins {
			sig, err := txscript.SignatureScript(tx, i, w.miningScript, txscript.SigHashAll, w.key, true)
			if err != nil {
				return nil, err
			}
			tx.TxIn[i].SignatureScript = sig
		}
		w.remove(ins)
		if _, err := n.SendRaw(tx); err != nil {
			var re *RPCError
			if errors.As(err, &re) && isMissingInput(re) {
				// Some input is gone (spent, or its chain was
				// reorged or wiped): it stays removed; retry.
				continue
			}
			w.utxos = append(w.utxos, ins...)
			return nil, err
		}
		if change >= dustLimit {
			w.utxos = append(w.utxos, utxo{op: wire.OutPoint{Hash: tx.TxHash(), Index: 1}, value: change})
		}
		return tx, nil
	}
	return nil, errors.New("could not find spendable inputs after 50 attempts")
}

func isMissingInput(e *RPCError) bool {
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "orphan") || strings.Contains(m, "already spent") ||
		strings.Contains(m, "spent by") || strings.Contains(m, "missing") ||
		strings.Contains(m, "double spend") || strings.Contains(m, "does not exist")
}

// selectInputs returns spendable outputs worth at least amount plus a fee,
// scanning newly matured coinbases and mining more blocks as needed. It must
// be called with w.mu held.
func (n *Node) selectInputs(amount int64) ([]utxo, error) {
	w := n.wallet
	need := amount + feeRate*400
	for round := 0; ; round++ {
		tip, err := n.height()
		if err != nil {
			return nil, err
		}
		if tip < w.activeHeight {
			// Segwit/taproot not active yet (simnet): tests pay
			// such scripts, so never fund before.
			if _, err := n.generate(int(w.activeHeight - tip)); err != nil {
				return nil, err
			}
			continue
		}
		if err := n.scanCoinbases(tip); err != nil {
			return nil, err
		}
		// Largest first: few inputs, small txs.
		sort.Slice(w.utxos, func(i, j int) bool { return w.utxos[i].value > w.utxos[j].value })
		var sel []utxo
		var total int64
		for _, u := range w.utxos {
			if u.coinbase && tip < u.height+coinbaseMaturity {
				continue
			}
			sel = append(sel, u)
			total += u.value
			if total >= need+feeRate*148*int64(len(sel)) {
				return sel, nil
			}
		}
		if round >= 20 {
			return nil, fmt.Errorf("harness wallet cannot pay %d sats (has %d spendable)", amount, total)
		}
		// Mine until at least one more coinbase matures: the first
		// time 101 blocks (coinbase at height 1 matures at 101).
		mine := 1
		if tip < coinbaseMaturity+1 {
			mine = int(coinbaseMaturity + 1 - tip)
		}
		if _, err := n.generate(mine); err != nil {
			return nil, err
		}
	}
}

// scanCoinbases adds the mining-key coinbase outputs of blocks up to the
// last mature height (tip-100) that were not scanned yet. It must be called
// with w.mu held.
func (n *Node) scanCoinbases(tip int32) error {
	w := n.wallet
	last := tip - coinbaseMaturity
	for h := w.scanned + 1; h <= last; h++ {
		hash, err := n.blockHash(h)
		if err != nil {
			return err
		}
		b, err := n.block(hash)
		if err != nil {
			return err
		}
		cb := b.Transactions[0]
		for i, out := range cb.TxOut {
			if bytes.Equal(out.PkScript, w.miningScript) {
				w.utxos = append(w.utxos, utxo{
					op:    wire.OutPoint{Hash: cb.TxHash(), Index: uint32(i)},
					value: out.Value, coinbase: true, height: h,
				})
			}
		}
		w.scanned = h
		// One mature coinbase pays for many Fund calls: stop early
		// and scan further only when needed.
		if len(w.utxos) > 0 && w.spendable(tip) >= 10 {
			break
		}
	}
	return nil
}

func (w *wallet) spendable(tip int32) int {
	c := 0
	for _, u := range w.utxos {
		if !u.coinbase || tip >= u.height+coinbaseMaturity {
			c++
		}
	}
	return c
}

func (w *wallet) remove(ins []utxo) {
	drop := make(map[wire.OutPoint]bool, len(ins))
	for _, u := range ins {
		drop[u.op] = true
	}
	kept := w.utxos[:0]
	for _, u := range w.utxos {
		if !drop[u.op] {
			kept = append(kept, u)
		}
	}
	w.utxos = kept
}

// SpendTx builds and signs (without broadcasting) a transaction spending
// prev — an output paying a script from NewScript or the mining script, worth
// prevValue — to toScript, minus a small fee. Use it to make spends of
// watched outputs and double spends.
func (n *Node) SpendTx(prev wire.OutPoint, prevScript []byte, prevValue int64, toScript []byte) *wire.MsgTx {
	n.t.Helper()
	tx, err := n.spendTx(prev, prevScript, prevValue, toScript)
	if err != nil {
		n.t.Fatalf("harness: spend: %v", err)
	}
	return tx
}

func (n *Node) spendTx(prev wire.OutPoint, prevScript []byte, prevValue int64, toScript []byte) (*wire.MsgTx, error) {
	fee := int64(feeRate * 200)
	if prevValue-fee < dustLimit {
		return nil, fmt.Errorf("output worth %d cannot pay the fee", prevValue)
	}
	return n.signSpend(prev, prevScript, prevValue, []*wire.TxOut{wire.NewTxOut(prevValue-fee, toScript)})
}

// SpendToMany builds and signs (without broadcasting) a transaction
// spending prev (as SpendTx) to one output of each sats per script of
// toScripts, the rest minus the fee back to prevScript as the last output:
// a fan-out that makes many coins in one transaction.
func (n *Node) SpendToMany(prev wire.OutPoint, prevScript []byte, prevValue int64, toScripts [][]byte, each int64) *wire.MsgTx {
	n.t.Helper()
	fee := int64(feeRate * (200 + 43*len(toScripts)))
	change := prevValue - fee - each*int64(len(toScripts))
	if change < dustLimit {
		n.t.Fatalf("harness: an output worth %d cannot pay %d outputs of %d and the fee", prevValue, len(toScripts), each)
	}
	outs := make([]*wire.TxOut, 0, len(toScripts)+1)
	for _, s := range toScripts {
		outs = append(outs, wire.NewTxOut(each, s))
	}
	outs = append(outs, wire.NewTxOut(change, prevScript))
	tx, err := n.signSpend(prev, prevScript, prevValue, outs)
	if err != nil {
		n.t.Fatalf("harness: spend: %v", err)
	}
	return tx
}

// signSpend signs a one-input transaction spending prev (a harness key's
// output worth prevValue) to outs.
func (n *Node) signSpend(prev wire.OutPoint, prevScript []byte, prevValue int64, outs []*wire.TxOut) (*wire.MsgTx, error) {
	n.wallet.mu.Lock()
	key := n.wallet.keys[string(prevScript)]
	n.wallet.mu.Unlock()
	if key == nil {
		return nil, errors.New("prevScript is not a harness key's script")
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&prev, nil, nil))
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	fetcher := txscript.NewCannedPrevOutputFetcher(prevScript, prevValue)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	switch txscript.GetScriptClass(prevScript) {
	case txscript.PubKeyHashTy:
		sig, err := txscript.SignatureScript(tx, 0, prevScript, txscript.SigHashAll, key, true)
		if err != nil {
			return nil, err
		}
		tx.TxIn[0].SignatureScript = sig
	case txscript.WitnessV0PubKeyHashTy:
		wit, err := txscript.WitnessSignature(tx, hashes, 0, prevValue, prevScript, txscript.SigHashAll, key, true)
		if err != nil {
			return nil, err
		}
		tx.TxIn[0].Witness = wit
	case txscript.WitnessV1TaprootTy:
		wit, err := txscript.TaprootWitnessSignature(tx, hashes, 0, prevValue, prevScript, txscript.SigHashDefault, key)
		if err != nil {
			return nil, err
		}
		tx.TxIn[0].Witness = wit
	default:
		return nil, fmt.Errorf("cannot sign script class %v", txscript.GetScriptClass(prevScript))
	}
	return tx, nil
}
