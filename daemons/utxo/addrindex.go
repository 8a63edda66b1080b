package utxo

import (
	"bytes"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// chainTx is a transaction of an address's history as the node reports it.
type chainTx struct {
	id     chainhash.Hash
	height int32
	info   chain.TxInfo
}

// addrUTXO is an output of an address not spent by a confirmed tx.
type addrUTXO struct {
	txid           chainhash.Hash
	index          uint32
	value          int64
	height         int32
	spentInMempool bool
}

// unspentOf derives an address's unspent outputs from its full history:
// every output paying script, less those a confirmed tx of the history
// spends; those spent by a mempool tx are marked.
func unspentOf(script []byte, hist []chainTx) []addrUTXO {
	spent := map[wire.OutPoint]int32{}
	for _, h := range hist {
		for _, in := range h.info.Tx.TxIn {
			spent[in.PreviousOutPoint] = h.height
		}
	}
	var out []addrUTXO
	for _, h := range hist {
		for i, o := range h.info.Tx.TxOut {
			if !bytes.Equal(o.PkScript, script) {
				continue
			}
			op := wire.OutPoint{Hash: h.id, Index: uint32(i)}
			sh, isSpent := spent[op]
			if isSpent && sh > 0 {
				continue
			}
			out = append(out, addrUTXO{txid: h.id, index: uint32(i), value: o.Value, height: h.height, spentInMempool: isSpent})
		}
	}
	return out
}
