// Package chain defines the Backend interface through which the wallet engine
// reads a coin's chain, and the neutral types it speaks. Concrete backends
// live in subpackages (chain/btcdws for btcd, bchd and ltcd websocket RPC);
// the engine never imports one: the daemon injects it.
package chain

import (
	"context"
	"errors"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// ErrNotFound is returned when the node does not know the requested
// transaction or block.
var ErrNotFound = errors.New("chain: not found")

// ErrNotConnected is returned by calls made while the backend has no live
// connection to its node.
var ErrNotConnected = errors.New("chain: backend not connected")

// ErrRejected wraps a node's refusal of a broadcast transaction; the wrapped
// message carries the node's reason.
var ErrRejected = errors.New("transaction rejected")

// BlockRef names a block in the best chain.
type BlockRef struct {
	Height int32
	Hash   chainhash.Hash
	Prev   chainhash.Hash
	Time   time.Time
}

// Block is a block reduced to the transactions relevant to the watched
// scripts and outpoints (possibly none), in block order.
type Block struct {
	BlockRef
	Txs []*wire.MsgTx
}

// TxInfo is a transaction as the node knows it. BlockHash is nil and Height
// is 0 while it is unconfirmed.
type TxInfo struct {
	Tx            *wire.MsgTx
	BlockHash     *chainhash.Hash
	Height        int32
	Confirmations int64
	Time          time.Time
}

// EventKind tells the kind of a backend Event.
type EventKind int

// The backend event kinds.
const (
	// EventConnected: the backend (re)connected to its node; Tip is set.
	// The consumer must catch up from its cursor to Tip.
	EventConnected EventKind = iota + 1
	// EventDisconnected: the connection dropped; the backend reconnects.
	EventDisconnected
	// EventBlockConnected: Block joined the best chain (filtered).
	EventBlockConnected
	// EventBlockDisconnected: Block (only BlockRef set) left the best chain.
	EventBlockDisconnected
	// EventTxAccepted: Tx entered the mempool and is relevant to the filter.
	EventTxAccepted
)

// Event is one notification from a Backend, delivered in the order the node
// produced it.
type Event struct {
	Kind  EventKind
	Tip   BlockRef    // EventConnected
	Block *Block      // EventBlockConnected, EventBlockDisconnected
	Tx    *wire.MsgTx // EventTxAccepted
}

// Backend is a connection to a coin's node. Implementations are safe for
// concurrent use; every method takes ctx first and honours its deadline.
type Backend interface {
	// Start connects (and keeps reconnecting with backoff until Close) and
	// delivers events on the returned channel, which is closed by Close.
	// Start returns at once; the first EventConnected says the node answers.
	Start(ctx context.Context) (<-chan Event, error)
	// Close stops the backend and closes the event channel.
	Close() error
	// Connected reports whether the node connection is live now.
	Connected() bool

	// Watch adds scripts (pkScripts) and outpoints to the node-side filter
	// used for relevant-tx and filtered-block notifications and for
	// FilterBlocks. The filter is restored by the backend on reconnect.
	Watch(ctx context.Context, scripts [][]byte, outpoints []wire.OutPoint) error

	// Tip returns the best block.
	Tip(ctx context.Context) (BlockRef, error)
	// BlockAt returns the best-chain block at height.
	BlockAt(ctx context.Context, height int32) (BlockRef, error)
	// FilterBlocks returns, for each hash in order, the block reduced to the
	// transactions matching the watched filter.
	FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]Block, error)
	// History returns every transaction (confirmed and mempool) that pays to
	// or spends from any of scripts, each transaction once, whichever and
	// however many of the scripts it touches. Taking the scripts of a whole
	// wallet at once lets a backend answer in one pass (a block scan, a
	// batch of subscriptions) instead of one lookup per script. A backend
	// that cannot look up history (no address index), or a script without
	// an address form, gives ErrUnsupported.
	History(ctx context.Context, scripts [][]byte) ([]TxInfo, error)
	// Transaction looks a transaction up by id (ErrNotFound if unknown).
	Transaction(ctx context.Context, txid chainhash.Hash) (*TxInfo, error)
	// Broadcast submits tx; a node refusal wraps ErrRejected.
	Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error)
	// EstimateFee returns the fee rate in satoshis per kvB for confirmation
	// within target blocks; ok is false when the node has no estimate.
	EstimateFee(ctx context.Context, target int) (satPerKvB int64, ok bool, err error)
}

// ErrUnsupported is returned by a Backend method its node cannot serve.
var ErrUnsupported = errors.New("chain: not supported by this backend")
