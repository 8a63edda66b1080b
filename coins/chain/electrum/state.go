package electrum

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// shash is the sha256 of a script, the key of the Electrum protocol's
// scripthash methods.
type shash [32]byte

func hashScript(script []byte) shash { return sha256.Sum256(script) }

// String is the protocol's form: the hash byte-reversed, in hex.
func (h shash) String() string {
	var r [32]byte
	for i := range h {
		r[i] = h[31-i]
	}
	return hex.EncodeToString(r[:])
}

// watchable reports whether script has an address form a merchant can be
// paid to (the scripts the engine tracks): P2PKH, P2SH, P2WPKH, P2WSH,
// P2TR or P2PK.
func watchable(script []byte) bool {
	switch txscript.GetScriptClass(script) {
	case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
		txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy, txscript.PubKeyTy:
		return true
	}
	return false
}

// histItem is one entry of a scripthash history as the server gives it.
type histItem struct {
	txid   chainhash.Hash
	height int32 // > 0 confirmed; 0, or -1 with unconfirmed parents: mempool
}

// status is the protocol's status of a history: sha256 of the
// concatenated "txid:height:", hex; "" for an empty history.
func status(h []histItem) string {
	if len(h) == 0 {
		return ""
	}
	var b strings.Builder
	for _, it := range h {
		fmt.Fprintf(&b, "%s:%d:", it.txid, it.height)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// scriptState is one subscribed scripthash.
type scriptState struct {
	script []byte
	// full: watched as a script (every tx of its history is relevant);
	// otherwise only txs spending a watched outpoint are.
	full bool
	// sub is the id of the link it is subscribed on (0: none yet).
	sub  uint64
	sess int

	announced string // the server's latest status
	hasAnn    bool
	synced    string // the status of hist
	hasSynced bool
	hist      []histItem
	// mismatch: since when the history fetched disagrees with announced.
	mismatch time.Time
	// refused: the server would not give the history (too large).
	refused bool
}

// txState is a transaction of some subscribed history.
type txState struct {
	tx *wire.MsgTx
	// claimed is the height the server's history gives (0: mempool).
	claimed int32
	// height is the verified height (merkle proof against a verified
	// header), 0 while unconfirmed or unproven; pos its place in the block.
	height int32
	pos    int
	// valid: unconfirmed and validated (its inputs exist and its scripts
	// verify).
	valid bool
	// pending: since when a claim (a confirmation, or validity) awaits
	// its proof.
	pending time.Time

	fullRefs int // histories of full scripts listing it
	outRefs  int // histories of outpoint-only scripts listing it

	// accepted: reported as unconfirmed (EventTxAccepted or History), or
	// learned through a first sync (backfill, not news).
	accepted bool
	// emittedAt is the height it was delivered at as confirmed (a block
	// event, FilterBlocks or History); 0 if never.
	emittedAt int32
	// backfill: learned by a script's first sync; the consumer learns it
	// from History (as it is once proven or validated), not as news.
	backfill bool
}

// state is everything the backend knows, guarded by Backend.mu.
type state struct {
	scripts map[shash]*scriptState
	ops     map[wire.OutPoint]bool // explicitly watched outpoints
	// pendingOps are watched outpoints whose script is not known yet.
	pendingOps map[wire.OutPoint]bool
	txs        map[chainhash.Hash]*txState
	dirty      map[shash]bool

	// emitted is the last block the consumer was given (EventConnected's
	// tip or a block event); Tip answers it. refs remembers the blocks
	// given, to disconnect exactly those on a rewind.
	emitted    chain.BlockRef
	hasEmitted bool
	refs       map[int32]chain.BlockRef
}

func newState() *state {
	return &state{scripts: map[shash]*scriptState{}, ops: map[wire.OutPoint]bool{}, pendingOps: map[wire.OutPoint]bool{},
		txs: map[chainhash.Hash]*txState{}, dirty: map[shash]bool{}, refs: map[int32]chain.BlockRef{}}
}

// relevant reports whether t matches the filter: listed by a full
// script's history, or spending a watched outpoint.
func (s *state) relevant(t *txState) bool {
	if t.fullRefs > 0 {
		return true
	}
	if t.tx == nil || t.outRefs == 0 {
		return false
	}
	for _, in := range t.tx.TxIn {
		if s.ops[in.PreviousOutPoint] {
			return true
		}
	}
	return false
}

// confirmedAt returns the relevant verified transactions at height, in
// block order.
func (s *state) confirmedAt(height int32) []*wire.MsgTx {
	type at struct {
		tx  *wire.MsgTx
		pos int
	}
	var list []at
	for _, t := range s.txs {
		if t.height == height && t.tx != nil && s.relevant(t) {
			list = append(list, at{t.tx, t.pos})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].pos < list[j].pos })
	out := make([]*wire.MsgTx, len(list))
	for i, a := range list {
		out[i] = a.tx
	}
	return out
}

// setHist replaces a script's history, keeping the transactions'
// reference counts; it returns the txids it added.
func (s *state) setHist(ss *scriptState, hist []histItem) []chainhash.Hash {
	old := map[chainhash.Hash]bool{}
	for _, it := range ss.hist {
		old[it.txid] = true
	}
	var added []chainhash.Hash
	now := map[chainhash.Hash]bool{}
	for _, it := range hist {
		now[it.txid] = true
		t := s.txs[it.txid]
		if t == nil {
			t = &txState{}
			s.txs[it.txid] = t
		}
		t.claimed = max(it.height, 0)
		if t.height != 0 && t.height != t.claimed {
			t.height, t.pos = 0, 0 // verified elsewhere, or back in the mempool
		}
		if t.claimed > 0 && t.height == 0 && t.pending.IsZero() {
			t.pending = time.Now()
		}
		if !old[it.txid] {
			if ss.full {
				t.fullRefs++
			} else {
				t.outRefs++
			}
			added = append(added, it.txid)
		}
	}
	for id := range old {
		if now[id] {
			continue
		}
		t := s.txs[id]
		if t == nil {
			continue
		}
		if ss.full {
			t.fullRefs--
		} else {
			t.outRefs--
		}
		if t.fullRefs <= 0 && t.outRefs <= 0 {
			delete(s.txs, id)
		}
	}
	ss.hist = hist
	return added
}
