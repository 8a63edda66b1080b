package chain

import (
	"context"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Matcher tells a backend that matches transactions itself (see
// LocalMatcher) what its consumer watches. Both methods may answer true for
// something not watched (a false positive only costs the consumer a check);
// they must never answer false for something watched, or a payment is
// missed. They are called from the backend's goroutines, concurrently, and
// must not call the backend.
type Matcher interface {
	// WatchesScript reports whether an output paying pkScript may be the
	// consumer's.
	WatchesScript(pkScript []byte) bool
	// WatchesOutpoint reports whether a transaction spending op may be the
	// consumer's.
	WatchesOutpoint(op wire.OutPoint) bool
}

// LocalMatcher is a Backend that can match blocks and mempool transactions
// against its consumer's own index instead of a node-side filter: for a
// consumer tracking millions of scripts this spares handing the node every
// script at each connection. It is optional: consumers check for it with a
// type assertion.
type LocalMatcher interface {
	// MatchLocally asks the backend to match with m, and reports whether
	// it will (false: it keeps the node-side filter, and scripts must be
	// watched with Backend.Watch as usual). It must be called before
	// Start. When it returns true, blocks (events and FilterBlocks) and
	// mempool events are reduced to the transactions m matches (an
	// output paying a matched script makes its outpoint matched too, as a
	// node-side filter does), Watch needs not be given the scripts m
	// already answers for, and the backend does not restore the mempool
	// on reconnect: the consumer asks for it with MempoolMatches.
	MatchLocally(m Matcher) bool
	// MempoolSize returns how many transactions the node's mempool holds.
	MempoolSize(ctx context.Context) (int, error)
	// MempoolMatches returns the node's mempool transactions that the
	// Matcher matches, parents before children.
	MempoolMatches(ctx context.Context) ([]*wire.MsgTx, error)
}

// ParentsFirst orders txs so that a transaction spending an output of
// another one of txs comes after it (a stable topological sort; the node's
// mempool listing is in no particular order).
func ParentsFirst(txs []*wire.MsgTx) []*wire.MsgTx {
	ids := make(map[chainhash.Hash]int, len(txs))
	for i, tx := range txs {
		ids[tx.TxHash()] = i
	}
	out := make([]*wire.MsgTx, 0, len(txs))
	state := make([]byte, len(txs)) // 0 new, 1 visiting, 2 done
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, in := range txs[i].TxIn {
			if j, ok := ids[in.PreviousOutPoint.Hash]; ok && j != i {
				visit(j)
			}
		}
		state[i] = 2
		out = append(out, txs[i])
	}
	for i := range txs {
		visit(i)
	}
	return out
}
