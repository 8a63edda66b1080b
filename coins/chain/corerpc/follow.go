package corerpc

import (
	"context"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
)

// followTip moves b.recent to the node's best chain: blocks that left it are
// reported disconnected (tip first), new ones connected (oldest first),
// each read whole and reduced to the relevant transactions. Poller only.
func (b *Backend) followTip(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var best string
	if err := b.rpc.call(cctx, &best, "getbestblockhash"); err != nil {
		return err
	}
	last := b.recent[len(b.recent)-1]
	if best == last.Hash.String() {
		return nil
	}
	tip, err := b.headerVia(cctx, b.rpc.call, best)
	if err != nil {
		return err
	}
	b.log.Debug("corerpc: new tip", "height", tip.Height, "hash", tip.Hash, "was", last.Height)
	index := make(map[chainhash.Hash]int, len(b.recent))
	for i, r := range b.recent {
		index[r.Hash] = i
	}
	// Walk back from the new tip to a block we know.
	var path []chain.BlockRef // newest first
	fork := -1
	for cur := tip; ; {
		if i, ok := index[cur.Hash]; ok {
			fork = i
			break
		}
		if len(path) >= followWindow || cur.Height <= b.recent[0].Height || cur.Height == 0 {
			break
		}
		path = append(path, cur)
		if cur, err = b.headerVia(cctx, b.rpc.call, cur.Prev.String()); err != nil {
			return err
		}
	}
	if fork < 0 {
		// Deeper than we remember: hand the consumer the new tip; its
		// parent is unknown to it, so it catches up (and rolls back) by
		// itself.
		b.log.Warn("corerpc: the new tip does not connect to the recent chain; leaving the catch-up to the consumer",
			"tip", tip.Height, "known_from", b.recent[0].Height)
		// Spends recorded in the blocks we knew may be gone with them.
		b.watchMu.Lock()
		b.watch.unspentFrom(b.recent[0].Height)
		b.watchMu.Unlock()
		blk, err := b.filteredBlock(ctx, tip)
		if err != nil {
			return err
		}
		b.recent = []chain.BlockRef{tip}
		b.emit(ctx, chain.Event{Kind: chain.EventBlockConnected, Block: blk})
		return nil
	}
	for i := len(b.recent) - 1; i > fork; i-- {
		gone := b.recent[i]
		b.log.Info("corerpc: block disconnected", "height", gone.Height, "hash", gone.Hash)
		b.recent = b.recent[:i]
		b.watchMu.Lock()
		b.watch.unspentFrom(gone.Height)
		b.watchMu.Unlock()
		if !b.emit(ctx, chain.Event{Kind: chain.EventBlockDisconnected, Block: &chain.Block{BlockRef: gone}}) {
			return ctx.Err()
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		blk, err := b.filteredBlock(ctx, path[i])
		if err != nil {
			return err
		}
		b.recent = append(b.recent, path[i])
		if !b.emit(ctx, chain.Event{Kind: chain.EventBlockConnected, Block: blk}) {
			return ctx.Err()
		}
	}
	if n := len(b.recent); n > followWindow {
		b.recent = append([]chain.BlockRef(nil), b.recent[n-followWindow:]...)
	}
	return nil
}

// filteredBlock reads the block of ref and reduces it to the relevant
// transactions, learning outpoints.
func (b *Backend) filteredBlock(ctx context.Context, ref chain.BlockRef) (*chain.Block, error) {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var s string
	if err := b.rpc.call(cctx, &s, "getblock", ref.Hash.String(), 0); err != nil {
		return nil, err
	}
	blk, err := decodeBlockHex(s)
	if err != nil {
		return nil, err
	}
	b.sums.add(ref.Hash, blk.Txs)
	b.watchMu.Lock()
	txs := b.watch.matchAll(blk.Txs)
	b.watch.spentIn(ref.Height, txs, int32(b.cfg.PruneDepth))
	b.watchMu.Unlock()
	b.remember(ref.Hash, txs)
	return &chain.Block{BlockRef: ref, Txs: txs}, nil
}
