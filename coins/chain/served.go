package chain

import (
	"context"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// MerkleBranch is a confirmed transaction's merkle branch in its block, as
// Electrum's blockchain.transaction.get_merkle gives it: the sibling hashes
// from the leaf up, and the transaction's position in the block.
type MerkleBranch struct {
	BlockHeight int32
	Merkle      []chainhash.Hash
	Pos         int
}

// MerkleBrancher is a Backend that serves merkle branches (an Electrum
// server does; a node without a transaction index does not). It is
// optional: callers check for it with a type assertion.
type MerkleBrancher interface {
	// MerkleBranch returns the branch of txid in the best-chain block at
	// height, checked against that block's header. A transaction that is
	// not in that block is ErrNotFound.
	MerkleBranch(ctx context.Context, txid chainhash.Hash, height int32) (MerkleBranch, error)
}

// KnownServer is one server a backend knows of: Electrum's getservers
// entry. A zero port means the protocol is not offered (or not known);
// Pruning and Version are empty when unknown.
type KnownServer struct {
	Host    string
	TCPPort int
	SSLPort int
	Pruning string
	Version string
}

// ServerLister is a Backend with several servers to choose from (Electrum's
// network) that lists them. It is optional: callers check for it with a
// type assertion.
type ServerLister interface {
	// KnownServers returns the servers the current server announces as
	// its peers, then the configured ones, each host once (a configured
	// entry's ports added to a peer's).
	KnownServers(ctx context.Context) ([]KnownServer, error)
}
