package electrum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
)

// maxAncestors bounds the chain of unconfirmed parents followed to
// validate a transaction (the mempool's own ancestor limit).
const maxAncestors = 25

// consensusFlags are the script rules every valid transaction meets
// (consensus, not node policy: a server's mempool may hold transactions
// another node's policy would refuse).
const consensusFlags = txscript.ScriptBip16 | txscript.ScriptVerifyDERSignatures | txscript.ScriptVerifyCheckLockTimeVerify |
	txscript.ScriptVerifyCheckSequenceVerify | txscript.ScriptVerifyWitness | txscript.ScriptStrictMultiSig |
	txscript.ScriptVerifyTaproot

// validatePending validates the relevant unconfirmed transactions not
// validated yet: each input must spend an existing output (its parent
// proven in a block, or itself a valid unconfirmed transaction) and its
// script must verify. A transaction whose parents the server cannot show
// yet stays pending (StatusGrace bounds it); a provably invalid one makes
// the server a liar.
func (b *Backend) validatePending(ctx context.Context, l *link) error {
	b.mu.Lock()
	todo := map[chainhash.Hash]*wire.MsgTx{}
	for id, t := range b.st.txs {
		if t.claimed == 0 && !t.valid && t.tx != nil && b.st.relevant(t) {
			todo[id] = t.tx
		}
	}
	b.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	v := &validator{b: b, l: l, parents: map[chainhash.Hash]*parent{}}
	for id, tx := range todo {
		ok, err := v.check(ctx, tx, 0)
		if err != nil {
			return fmt.Errorf("validating %v: %w", id, err)
		}
		if !ok {
			continue
		}
		b.mu.Lock()
		if t := b.st.txs[id]; t != nil && t.claimed == 0 {
			t.valid = true
			t.pending = time.Time{}
			if t.backfill {
				t.accepted, t.backfill = true, false
			}
		}
		b.mu.Unlock()
	}
	return nil
}

// parent is a transaction an input spends: proven in a block (height >
// 0) or a validated unconfirmed one.
type parent struct {
	tx     *wire.MsgTx
	height int32
}

type validator struct {
	b       *Backend
	l       *link
	parents map[chainhash.Hash]*parent // nil value: cannot be resolved now
}

// check reports whether tx is valid; false with no error means its inputs
// cannot all be shown yet.
func (v *validator) check(ctx context.Context, tx *wire.MsgTx, depth int) (bool, error) {
	if depth > maxAncestors {
		return false, nil
	}
	if len(tx.TxIn) == 0 || len(tx.TxOut) == 0 {
		return false, lie("transaction %v has no inputs or outputs", tx.TxHash())
	}
	prevs := make(map[wire.OutPoint]*wire.TxOut, len(tx.TxIn))
	var in int64
	tip := v.b.hc.Height()
	maturity := int32(v.b.cfg.Rules.Params.CoinbaseMaturity)
	for _, txin := range tx.TxIn {
		op := txin.PreviousOutPoint
		if _, dup := prevs[op]; dup {
			return false, lie("transaction %v spends %v twice", tx.TxHash(), op)
		}
		p, err := v.parent(ctx, op, depth)
		if err != nil || p == nil {
			return false, err
		}
		if int(op.Index) >= len(p.tx.TxOut) {
			return false, lie("transaction %v spends a missing output %v", tx.TxHash(), op)
		}
		if isCoinbase(p.tx) && (p.height == 0 || tip+1-p.height < maturity) {
			return false, lie("transaction %v spends the immature coinbase %v", tx.TxHash(), op.Hash)
		}
		out := p.tx.TxOut[op.Index]
		prevs[op] = out
		in += out.Value
	}
	var out int64
	for _, o := range tx.TxOut {
		if o.Value < 0 {
			return false, lie("transaction %v has a negative output", tx.TxHash())
		}
		out += o.Value
	}
	if out > in {
		return false, lie("transaction %v spends %d but has only %d", tx.TxHash(), out, in)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, txin := range tx.TxIn {
		prev := prevs[txin.PreviousOutPoint]
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, consensusFlags, nil, hashes, prev.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return false, lie("transaction %v input %d does not verify: %v", tx.TxHash(), i, err)
		}
	}
	return true, nil
}

func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{})
}

// verboseTx is the node's verbose transaction, which ElectrumX passes
// through (blockchain.transaction.get with verbose=true).
type verboseTx struct {
	Hex           string `json:"hex"`
	BlockHash     string `json:"blockhash"`
	Confirmations int32  `json:"confirmations"`
}

// parent resolves the transaction an input spends (op.Hash): known and
// proven, known and valid, or fetched with the block the server places it
// in (from the node's verbose form, or else from the history of the output
// spent), which is then proven; an unconfirmed one is validated in turn.
func (v *validator) parent(ctx context.Context, op wire.OutPoint, depth int) (*parent, error) {
	id := op.Hash
	if p, ok := v.parents[id]; ok {
		return p, nil
	}
	v.b.mu.Lock()
	if t := v.b.st.txs[id]; t != nil && t.tx != nil && (t.height > 0 || (t.claimed == 0 && t.valid)) {
		p := &parent{tx: t.tx, height: t.height}
		v.b.mu.Unlock()
		v.parents[id] = p
		return p, nil
	}
	v.b.mu.Unlock()
	v.parents[id] = nil // also guards against cycles

	tx, height, known, err := v.locate(ctx, op)
	if err != nil || !known {
		return nil, err
	}
	if height == 0 {
		ok, err := v.check(ctx, tx, depth+1)
		if err != nil || !ok {
			return nil, err
		}
		p := &parent{tx: tx}
		v.parents[id] = p
		return p, nil
	}
	var mp merkleProof
	if err := v.l.call(ctx, v.l.any(), &mp, "blockchain.transaction.get_merkle", id.String(), height); err != nil {
		var rpcErr *rpc.Error
		if errors.As(err, &rpcErr) {
			return nil, nil
		}
		return nil, err
	}
	branch := make([]chainhash.Hash, len(mp.Merkle))
	for i, s := range mp.Merkle {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil || len(s) != 64 {
			return nil, lie("get_merkle: bad hash %q", s)
		}
		branch[i] = *h
	}
	hdr, err := v.b.headerAt(ctx, v.l, height)
	if err != nil {
		return nil, err
	}
	if mp.BlockHeight != height {
		return nil, lie("get_merkle of %v: block %d asked, %d given", id, height, mp.BlockHeight)
	}
	if err := headers.VerifyMerkle(id, branch, mp.Pos, &hdr); err != nil {
		return nil, lie("%v", err)
	}
	p := &parent{tx: tx, height: height}
	v.parents[id] = p
	return p, nil
}

// locate fetches the transaction op spends and the height of the verified
// block the server places it in (0: unconfirmed). known is false when the
// server cannot show it (or its block is not in the verified chain).
func (v *validator) locate(ctx context.Context, op wire.OutPoint) (tx *wire.MsgTx, height int32, known bool, err error) {
	id := op.Hash
	var raw json.RawMessage
	err = v.l.call(ctx, v.l.any(), &raw, "blockchain.transaction.get", id.String(), true)
	var rpcErr *rpc.Error
	if err == nil {
		var vt verboseTx
		if len(raw) > 0 && raw[0] == '"' {
			err = json.Unmarshal(raw, &vt.Hex)
		} else {
			err = json.Unmarshal(raw, &vt)
		}
		if err != nil {
			return nil, 0, false, lie("transaction.get %v: %v", id, err)
		}
		if tx, err = v.b.decodeTx(id, vt.Hex); err != nil {
			return nil, 0, false, err
		}
		if vt.BlockHash != "" && vt.Confirmations > 0 {
			h, ok := v.blockHeight(ctx, vt.BlockHash, vt.Confirmations)
			return tx, h, ok, nil
		}
		if len(raw) > 0 && raw[0] != '"' {
			return tx, 0, true, nil // the node says: in its mempool
		}
	} else if !errors.As(err, &rpcErr) {
		return nil, 0, false, err
	} else if tx, err = v.b.getTx(ctx, v.l, id); errors.As(err, &rpcErr) {
		return nil, 0, false, nil // unknown to the server
	} else if err != nil {
		return nil, 0, false, err
	}
	// No verbose form: the history of the output spent places the tx.
	if int(op.Index) >= len(tx.TxOut) {
		return tx, 0, true, nil // the caller finds the output missing
	}
	var es []histEntry
	if err := v.l.call(ctx, v.l.any(), &es, "blockchain.scripthash.get_history", hashScript(tx.TxOut[op.Index].PkScript).String()); err != nil {
		if errors.As(err, &rpcErr) {
			return nil, 0, false, nil
		}
		return nil, 0, false, err
	}
	for _, e := range es {
		if e.TxHash == id.String() {
			return tx, max(e.Height, 0), true, nil
		}
	}
	return nil, 0, false, nil
}

// blockHeight finds the height of a block the server names, in the
// verified chain: by its hash in the kept window, or where its
// confirmations put it.
func (v *validator) blockHeight(ctx context.Context, blockHash string, confirmations int32) (int32, bool) {
	h, err := chainhash.NewHashFromStr(blockHash)
	if err != nil {
		return 0, false
	}
	if height, ok := v.b.hc.HeightOf(*h); ok {
		return height, true
	}
	height := v.b.hc.Height() - confirmations + 1
	if height <= 0 {
		return 0, false
	}
	ref, _, err := v.b.hc.At(height)
	if err == nil && ref.Hash == *h {
		return height, true
	}
	// Below the kept window: the caller's headerAt verifies the chunk;
	// the hash is checked against it.
	if _, _, ok := v.b.hc.OldChunk(height); ok {
		hdr, err := v.b.headerAt(ctx, v.l, height)
		if err == nil && hdr.BlockHash() == *h {
			return height, true
		}
	}
	return 0, false
}
