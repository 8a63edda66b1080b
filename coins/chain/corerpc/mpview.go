package corerpc

import (
	"encoding/hex"
	"errors"
	"slices"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// mpTx is what the backend keeps of a transaction in the node's mempool:
// the poll that last listed it, and, within Config.MempoolSummaries, its
// summary (the keyed hashes of its output scripts, then of the outpoints
// its inputs spend, as the block summaries), which lets History pick the
// mempool transactions that may pay new scripts without fetching them all.
// Nothing else: the raw transaction is matched once, when first seen, and
// dropped.
type mpTx struct {
	gen  uint32
	nOut uint32
	keys []uint64 // nil: no summary (fetched by every History)
}

// mpView is the backend's view of the node's mempool (guarded by
// Backend.mpMu): the txids of the last poll, each with its summary.
type mpView struct {
	gen     uint32
	txs     map[chainhash.Hash]mpTx
	keyed   int64 // bytes of summaries held
	maxKeys int64
}

func newMPView(maxKeys int64) *mpView {
	return &mpView{txs: map[chainhash.Hash]mpTx{}, maxKeys: maxKeys}
}

// reset forgets everything (a reconnection: the mempool is read afresh).
func (v *mpView) reset() {
	clear(v.txs)
	v.keyed = 0
}

// has reports whether id is in the view.
func (v *mpView) has(id chainhash.Hash) bool {
	_, ok := v.txs[id]
	return ok
}

// mark starts a poll: every id listed now is marked, and those not in the
// view are returned.
func (v *mpView) mark(ids []chainhash.Hash) (missing []chainhash.Hash) {
	v.gen++
	for _, id := range ids {
		if e, ok := v.txs[id]; ok {
			e.gen = v.gen
			v.txs[id] = e
		} else {
			missing = append(missing, id)
		}
	}
	return missing
}

// add records transactions first seen (tx nil: undecodable or MWEB-only;
// kept without a summary, so not fetched again) in the current poll.
func (v *mpView) add(id chainhash.Hash, tx *wire.MsgTx, sums *summaries) {
	if old, ok := v.txs[id]; ok {
		v.keyed -= int64(8 * len(old.keys))
	}
	e := mpTx{gen: v.gen}
	if tx != nil && v.keyed+int64(8*(len(tx.TxOut)+len(tx.TxIn))) <= v.maxKeys {
		e.nOut = uint32(len(tx.TxOut))
		e.keys = make([]uint64, 0, len(tx.TxOut)+len(tx.TxIn))
		for _, out := range tx.TxOut {
			e.keys = append(e.keys, sums.scriptKey(out.PkScript))
		}
		for _, in := range tx.TxIn {
			e.keys = append(e.keys, sums.outpointKey(in.PreviousOutPoint))
		}
		v.keyed += int64(8 * len(e.keys))
	}
	v.txs[id] = e
}

// sweep drops the transactions the current poll did not list; listed is
// how many it listed.
func (v *mpView) sweep(listed int) {
	if len(v.txs) == listed {
		return // all listed (the common case): no pass over the view
	}
	for id, e := range v.txs {
		if e.gen != v.gen {
			v.keyed -= int64(8 * len(e.keys))
			delete(v.txs, id)
		}
	}
}

// candidates returns the txids of ids that may pay one of scriptKeys or
// spend one of opKeys (set), and those without a summary, leaving out those
// in skip.
func (v *mpView) candidates(ids []chainhash.Hash, scriptKeys, opKeys map[uint64]struct{}, skip map[chainhash.Hash]bool) []chainhash.Hash {
	var out []chainhash.Hash
	for _, id := range ids {
		if skip[id] {
			continue
		}
		e, ok := v.txs[id]
		if !ok || e.keys == nil {
			out = append(out, id)
			continue
		}
		hit := false
		for i, k := range e.keys {
			if i < int(e.nOut) {
				_, hit = scriptKeys[k]
			} else {
				_, hit = opKeys[k]
			}
			if hit {
				break
			}
		}
		if hit {
			out = append(out, id)
		}
	}
	return out
}

// txidList is getrawmempool's result (verbose false), decoded straight into
// hashes: a mainnet mempool lists hundreds of thousands, every poll.
type txidList []chainhash.Hash

var errBadTxidList = errors.New("getrawmempool: not a list of txids")

// UnmarshalJSON decodes a JSON array of 64-hex-digit strings (display
// order, as chainhash.NewHashFromStr takes them).
func (l *txidList) UnmarshalJSON(b []byte) error { return l.decodeValid(b) }

// decodeValid is UnmarshalJSON for bytes known to be valid JSON: an array
// of strings with optional whitespace; anything else is an error.
func (l *txidList) decodeValid(b []byte) error {
	out := slices.Grow((*l)[:0], len(b)/67)
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t' || b[i] == ',') {
			i++
		}
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return errBadTxidList
	}
	i++
	for {
		skip()
		if i >= len(b) {
			return errBadTxidList
		}
		if b[i] == ']' {
			break
		}
		if b[i] != '"' || i+66 > len(b) || b[i+65] != '"' {
			return errBadTxidList
		}
		var h chainhash.Hash
		if _, err := hex.Decode(h[:], b[i+1:i+65]); err != nil {
			return errBadTxidList
		}
		slices.Reverse(h[:])
		out = append(out, h)
		i += 66
	}
	*l = out
	return nil
}
