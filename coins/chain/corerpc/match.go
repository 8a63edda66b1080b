package corerpc

import (
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// maxScriptLen bounds a watched script (consensus limit of a script).
const maxScriptLen = 10_000

// checkScript returns an error wrapping chain.ErrUnsupported for a script
// that can never be paid (empty, OP_RETURN, oversized): the Core backend
// matches any other output script byte for byte.
func checkScript(s []byte) error {
	switch {
	case len(s) == 0:
		return fmt.Errorf("corerpc: empty script: %w", chain.ErrUnsupported)
	case s[0] == 0x6a:
		return fmt.Errorf("corerpc: OP_RETURN script %x is unspendable: %w", s, chain.ErrUnsupported)
	case len(s) > maxScriptLen:
		return fmt.Errorf("corerpc: %d-byte script: %w", len(s), chain.ErrUnsupported)
	}
	return nil
}

// matcher is a set of scripts and outpoints and the rule that picks the
// transactions relevant to them: a transaction is relevant if it spends a
// watched outpoint or pays a watched script, and an output paying a watched
// script becomes a watched outpoint (so its spend is matched too, as btcd's
// filter does). It is not safe for concurrent use.
type matcher struct {
	scripts   map[string]struct{}
	outpoints map[wire.OutPoint]struct{}
	// spent records, for the live matcher, the height of the connected
	// block that spent an outpoint of the set; best is the highest block
	// connected (see spentIn).
	spent map[wire.OutPoint]int32
	best  int32
}

func newMatcher() *matcher {
	return &matcher{scripts: map[string]struct{}{}, outpoints: map[wire.OutPoint]struct{}{}, spent: map[wire.OutPoint]int32{}}
}

// spentIn records the outpoints of the set that txs (the relevant
// transactions of the block connected at height) spend, and drops those
// spent depth blocks or more below the highest block connected: nothing
// can spend them again, and the set would otherwise grow with every coin
// ever received. (A reorganisation deeper than depth that undoes such a
// spend would not report the coin's spend again, as on btcdws.)
func (m *matcher) spentIn(height int32, txs []*wire.MsgTx, depth int32) {
	for _, tx := range txs {
		for _, in := range tx.TxIn {
			if _, ok := m.outpoints[in.PreviousOutPoint]; ok {
				m.spent[in.PreviousOutPoint] = height
			}
		}
	}
	m.best = max(m.best, height)
	m.prune(depth)
}

func (m *matcher) prune(depth int32) {
	cut := m.best - depth
	for op, h := range m.spent {
		if h <= cut {
			delete(m.outpoints, op)
			delete(m.spent, op)
		}
	}
}

// unspentFrom forgets the spends recorded in blocks from height up (they
// were disconnected): those outpoints are watched as before.
func (m *matcher) unspentFrom(height int32) {
	for op, h := range m.spent {
		if h >= height {
			delete(m.spent, op)
		}
	}
	if m.best >= height {
		m.best = height - 1
	}
}

// match reports whether tx is relevant, learning its outpoints that pay a
// watched script.
func (m *matcher) match(tx *wire.MsgTx) bool {
	rel := false
	for _, in := range tx.TxIn {
		if _, ok := m.outpoints[in.PreviousOutPoint]; ok {
			rel = true
			break
		}
	}
	var id *chainhash.Hash
	for i, out := range tx.TxOut {
		if _, ok := m.scripts[string(out.PkScript)]; ok {
			rel = true
			if id == nil {
				h := tx.TxHash()
				id = &h
			}
			m.outpoints[wire.OutPoint{Hash: *id, Index: uint32(i)}] = struct{}{}
		}
	}
	return rel
}

// matchAll returns the relevant transactions of txs, in order, learning as
// it goes: txs must list parents before children (a block does; sort a
// mempool batch with chain.ParentsFirst).
func (m *matcher) matchAll(txs []*wire.MsgTx) []*wire.MsgTx {
	var out []*wire.MsgTx
	for _, tx := range txs {
		if m.match(tx) {
			out = append(out, tx)
		}
	}
	return out
}
