package btcdws

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/chain"
)

const (
	// headerWindow is how many getblockheader calls FilterBlocks keeps in
	// flight (btcd serves up to 20 requests of a websocket at once).
	headerWindow = 16
	// rescanChunk is the number of blocks per rescanblocks call: the node
	// reads every block from disk, so a chunk must finish within
	// CallTimeout even for full mainnet blocks.
	rescanChunk = 100
)

// historyPage is the searchrawtransactions page size after a script's
// first page (tests lower it).
var historyPage = 500

// firstHistoryPage is the size of a script's first searchrawtransactions
// page. btcd allocates a slice of the page's count (40 bytes an entry, with
// pointers) before it looks the address up: at 500, a lookup of an unused
// address costs 20 KB of garbage and most of btcd's time goes to its
// collector. Most addresses have a few transactions or none.
const firstHistoryPage = 16

// call runs one call on the ready connection with CallTimeout applied.
func (b *Backend) call(ctx context.Context, out any, method string, params ...any) error {
	conn, err := b.readyConn()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	return conn.callInto(cctx, out, method, params...)
}

type headerResult struct {
	Hash          string `json:"hash"`
	Height        int32  `json:"height"`
	Time          int64  `json:"time"`
	PreviousHash  string `json:"previousblockhash"`
	Confirmations int64  `json:"confirmations"`
}

func (h *headerResult) ref() (chain.BlockRef, error) {
	hash, err := chainhash.NewHashFromStr(h.Hash)
	if err != nil {
		return chain.BlockRef{}, err
	}
	ref := chain.BlockRef{Height: h.Height, Hash: *hash, Time: time.Unix(h.Time, 0)}
	if h.PreviousHash != "" {
		prev, err := chainhash.NewHashFromStr(h.PreviousHash)
		if err != nil {
			return chain.BlockRef{}, err
		}
		ref.Prev = *prev
	}
	return ref, nil
}

// headerOn returns the BlockRef of hash (getblockheader verbose);
// chain.ErrNotFound when the node does not know it.
func (b *Backend) headerOn(ctx context.Context, conn *rpcConn, hash string) (chain.BlockRef, error) {
	var h headerResult
	if err := conn.callInto(ctx, &h, "getblockheader", hash, true); err != nil {
		if _, ok := rpcCode(err); ok {
			return chain.BlockRef{}, fmt.Errorf("block %s: %w: %w", hash, chain.ErrNotFound, err)
		}
		return chain.BlockRef{}, err
	}
	return h.ref()
}

func (b *Backend) tipOn(ctx context.Context, conn *rpcConn) (chain.BlockRef, error) {
	var hash string
	if err := conn.callInto(ctx, &hash, "getbestblockhash"); err != nil {
		return chain.BlockRef{}, err
	}
	return b.headerOn(ctx, conn, hash)
}

// Tip returns the best block (getbestblockhash, getblockheader).
func (b *Backend) Tip(ctx context.Context) (chain.BlockRef, error) {
	conn, err := b.readyConn()
	if err != nil {
		return chain.BlockRef{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	return b.tipOn(cctx, conn)
}

// BlockAt returns the best-chain block at height (getblockhash,
// getblockheader); chain.ErrNotFound when height is above the tip or
// negative.
func (b *Backend) BlockAt(ctx context.Context, height int32) (chain.BlockRef, error) {
	if height < 0 {
		return chain.BlockRef{}, fmt.Errorf("height %d: %w", height, chain.ErrNotFound)
	}
	conn, err := b.readyConn()
	if err != nil {
		return chain.BlockRef{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var hash string
	if err := conn.callInto(cctx, &hash, "getblockhash", height); err != nil {
		if _, ok := rpcCode(err); ok {
			return chain.BlockRef{}, fmt.Errorf("height %d: %w: %w", height, chain.ErrNotFound, err)
		}
		return chain.BlockRef{}, err
	}
	return b.headerOn(cctx, conn, hash)
}

// FilterBlocks returns, for each hash in order, the block's BlockRef and its
// transactions matching the filter (none for most blocks). Headers are read
// with pipelined getblockheader calls; the matches with rescanblocks over
// each run of consecutive blocks (btcd requires each block to be the child
// of the previous one), 100 blocks per call. The node adds the outpoints of
// matched outputs to its filter as it goes, so a spend in a later block of
// the same call is matched too. An unknown hash fails the call with
// chain.ErrNotFound.
func (b *Backend) FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	conn, err := b.readyConn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	out := make([]chain.Block, len(hashes))
	// Headers, headerWindow in flight.
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
		sem     = make(chan struct{}, headerWindow)
	)
	for i := range hashes {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, ccancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
			defer ccancel()
			ref, err := b.headerOn(cctx, conn, hashes[i].String())
			if err != nil {
				errOnce.Do(func() { first = err; cancel() })
				return
			}
			out[i].BlockRef = ref
		}(i)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f := b.localMode(); f != nil {
		if err := b.filterBlocksLocal(ctx, conn, f, out); err != nil {
			return nil, err
		}
		return out, nil
	}

	// Matches, per run of consecutive blocks.
	start := 0
	for i := 1; i <= len(hashes); i++ {
		if i < len(hashes) && out[i].Prev == hashes[i-1] && i-start < rescanChunk {
			continue
		}
		if err := b.rescan(ctx, conn, out[start:i]); err != nil {
			return nil, err
		}
		start = i
	}
	return out, nil
}

type rescannedBlock struct {
	Hash         string   `json:"hash"`
	Transactions []string `json:"transactions"`
}

// rescan fills the Txs of consecutive blocks with one rescanblocks call.
func (b *Backend) rescan(ctx context.Context, conn *rpcConn, blocks []chain.Block) error {
	req := make([]string, len(blocks))
	idx := make(map[string]int, len(blocks))
	for i := range blocks {
		req[i] = blocks[i].Hash.String()
		idx[req[i]] = i
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var res []rescannedBlock
	if err := conn.callInto(cctx, &res, "rescanblocks", req); err != nil {
		return err
	}
	for _, rb := range res {
		i, ok := idx[rb.Hash]
		if !ok {
			return fmt.Errorf("rescanblocks: node returned unrequested block %s", rb.Hash)
		}
		txs := make([]*wire.MsgTx, 0, len(rb.Transactions))
		for _, s := range rb.Transactions {
			tx, err := decodeTx(s)
			if err != nil {
				return fmt.Errorf("rescanblocks: %w", err)
			}
			txs = append(txs, tx)
		}
		b.learn(txs...)
		b.spentIn(blocks[i].Height, txs)
		blocks[i].Txs = txs
	}
	return nil
}

type rawTxResult struct {
	Hex           string `json:"hex"`
	Txid          string `json:"txid"`
	BlockHash     string `json:"blockhash"`
	Confirmations int64  `json:"confirmations"`
	Time          int64  `json:"time"`
	Blocktime     int64  `json:"blocktime"`
}

// txInfo converts a verbose transaction, looking up the block height through
// heights (a per-call cache of getblockheader results).
func (b *Backend) txInfo(ctx context.Context, conn *rpcConn, r *rawTxResult, heights map[string]int32) (chain.TxInfo, error) {
	tx, err := decodeTx(r.Hex)
	if err != nil {
		return chain.TxInfo{}, err
	}
	info := chain.TxInfo{Tx: tx}
	if r.BlockHash == "" {
		return info, nil
	}
	bh, err := chainhash.NewHashFromStr(r.BlockHash)
	if err != nil {
		return chain.TxInfo{}, err
	}
	h, ok := heights[r.BlockHash]
	if !ok {
		ref, err := b.headerOn(ctx, conn, r.BlockHash)
		if err != nil {
			return chain.TxInfo{}, err
		}
		h = ref.Height
		heights[r.BlockHash] = h
	}
	info.BlockHash = bh
	info.Height = h
	info.Confirmations = r.Confirmations
	t := r.Blocktime
	if t == 0 {
		t = r.Time
	}
	if t != 0 {
		info.Time = time.Unix(t, 0)
	}
	return info, nil
}

// Transaction looks txid up (getrawtransaction verbose; the node needs
// --txindex for confirmed transactions not paying its wallet). Mempool
// transactions have no BlockHash, Height 0. Unknown → chain.ErrNotFound.
func (b *Backend) Transaction(ctx context.Context, txid chainhash.Hash) (*chain.TxInfo, error) {
	conn, err := b.readyConn()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var r rawTxResult
	if err := conn.callInto(cctx, &r, "getrawtransaction", txid.String(), 1); err != nil {
		if code, ok := rpcCode(err); ok && code == codeNoInfo {
			return nil, fmt.Errorf("tx %s: %w: %w", txid, chain.ErrNotFound, err)
		}
		return nil, err
	}
	info, err := b.txInfo(cctx, conn, &r, map[string]int32{})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// History returns every transaction paying to or spending from any of
// scripts, each once: the searchrawtransactions pages of every script over
// the node's address index, asked in JSON-RPC batches (one websocket
// message and one round trip for up to historyBatch scripts: a new
// wallet's 30 addresses cost one), then the heights of the blocks they name
// (getblockheader, one batch). The first page of each script is small
// (firstHistoryPage): btcd allocates room for a page's count before it
// looks, and most scripts have no history. Scripts without an address form
// return chain.ErrUnsupported; so does a node without --addrindex. Mempool
// entries have zero Time.
func (b *Backend) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, false, 0)
}

// HistoryAtMost is History that stops paging once the pages read hold
// more than max distinct transactions (chain.BoundedHistorian): it then
// returns chain.ErrTooMuchHistory, having read at most one batch of pages
// past the bound.
func (b *Backend) HistoryAtMost(ctx context.Context, scripts [][]byte, max int) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, false, max)
}

// WatchHistory is Watch(scripts) then History(scripts) in one exchange
// with the node (chain.WatchHistorian): the filter additions are the first
// calls of the first history batch, which btcd runs in order, so every
// lookup runs after the node has the scripts in its filter and a
// transaction missing from the history is notified. Scripts already
// watched are not sent again. If the connection is down the additions are
// recorded (loaded with the full filter on the next connection) and the
// error is returned; if the node refuses them they are forgotten, as with
// Watch.
func (b *Backend) WatchHistory(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, true, 0)
}

// history looks scripts up (watching them first if watch); max > 0 bounds
// the distinct transactions it reads before giving up.
func (b *Backend) history(ctx context.Context, scripts [][]byte, watch bool, max int) ([]chain.TxInfo, error) {
	addrs := make([]string, len(scripts))
	for i, s := range scripts {
		a, err := b.addressOf(s)
		if err != nil {
			return nil, fmt.Errorf("btcdws: history of script %x: %w: %v", s, chain.ErrUnsupported, err)
		}
		addrs[i] = a
	}
	// The filter additions (watch), sent at the head of the first batch;
	// loadMu is held until the node acknowledged them, as in Watch.
	var (
		filter   []batchCall
		newAddrs []string
		unlock   = func() {}
	)
	if watch && b.localMode() != nil {
		watch = false // matched against the engine's index: no node-side filter to add to
	}
	if watch {
		b.loadMu.Lock()
		unlock = sync.OnceFunc(b.loadMu.Unlock)
		defer unlock()
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return nil, errClosed
		}
		newAddrs, _ = b.addToSet(addrs, nil)
	}
	conn, err := b.readyConn()
	if err != nil {
		return nil, err
	}
	if conn.filterLoaded {
		for rest := newAddrs; len(rest) > 0; {
			n := min(len(rest), b.cfg.FilterChunk)
			filter = append(filter, batchCall{"loadtxfilter", []any{false, rest[:n], []jsonOutPoint{}}})
			rest = rest[n:]
		}
	}
	type walk struct {
		pages [][]rawTxResult
		skip  int
		count int // page size of the next call
	}
	walks := make([]walk, len(addrs))
	var ids map[string]struct{} // distinct txids read, when bounded
	if max > 0 {
		ids = map[string]struct{}{}
	}
	todo := make([]int, len(addrs)) // walks with pages left
	for i := range todo {
		todo[i] = i
		walks[i].count = min(firstHistoryPage, historyPage)
	}
	for len(todo) > 0 {
		n := min(len(todo), historyBatch)
		part := todo[:n]
		calls := make([]batchCall, 0, len(filter)+n)
		calls = append(calls, filter...)
		for _, i := range part {
			calls = append(calls, batchCall{"searchrawtransactions", []any{addrs[i], 1, walks[i].skip, walks[i].count, 0, false}})
		}
		b.searches.Add(int64(len(part)))
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		res, err := conn.callBatch(cctx, calls)
		cancel()
		if len(filter) > 0 {
			if err := b.filterAcked(newAddrs, filter, res, err); err != nil {
				return nil, err
			}
			res, filter = res[len(filter):], nil
			unlock()
		}
		if err != nil {
			return nil, err
		}
		var more []int
		for j, i := range part {
			if r := res[j]; r.err != nil {
				var re *RPCError
				switch {
				case errors.As(r.err, &re) && re.Code == codeNoInfo:
					continue // no (more) transactions for the address
				case errors.As(r.err, &re) && bytes.Contains([]byte(re.Message), []byte("--addrindex")):
					return nil, fmt.Errorf("btcdws: %w: searchrawtransactions: %w", chain.ErrUnsupported, r.err)
				}
				return nil, fmt.Errorf("searchrawtransactions: %w", r.err)
			}
			var page []rawTxResult
			if err := json.Unmarshal(res[j].result, &page); err != nil {
				return nil, fmt.Errorf("searchrawtransactions: decode result: %w", err)
			}
			full := len(page) == walks[i].count
			if full && hasMempool(page) {
				// btcd lists an address's mempool transactions in map
				// order, which differs from call to call: paging through
				// them with skip can miss one. Ask again from the same
				// place with room for all of them in one page.
				walks[i].count *= 4
				more = append(more, i)
				continue
			}
			walks[i].pages = append(walks[i].pages, page)
			if ids != nil {
				for _, r := range page {
					ids[r.Txid] = struct{}{}
				}
				if len(ids) > max {
					return nil, chain.TooMuchHistory(max)
				}
			}
			if full {
				walks[i].skip += len(page)
				walks[i].count = historyPage
				more = append(more, i)
			}
		}
		todo = append(more, todo[n:]...)
	}
	// The heights of the blocks named, in one batch.
	heights := map[string]int32{}
	var hashes []string
	for _, w := range walks {
		for _, page := range w.pages {
			for _, r := range page {
				if r.BlockHash != "" {
					if _, ok := heights[r.BlockHash]; !ok {
						heights[r.BlockHash] = -1
						hashes = append(hashes, r.BlockHash)
					}
				}
			}
		}
	}
	if err := b.blockHeights(ctx, conn, hashes, heights); err != nil {
		return nil, err
	}
	var out []chain.TxInfo
	seen := map[chainhash.Hash]int{}
	for _, w := range walks {
		// A tx confirmed between two pages of one walk shows twice: the
		// later page has its latest state.
		for _, page := range w.pages {
			for i := range page {
				info, err := b.txInfo(ctx, conn, &page[i], heights)
				if err != nil {
					return nil, err
				}
				id := info.Tx.TxHash()
				if j, ok := seen[id]; ok {
					// Seen through another script (or page), possibly
					// before it was mined: keep the confirmed state.
					if out[j].BlockHash == nil || info.BlockHash != nil {
						out[j] = info
					}
					continue
				}
				seen[id] = len(out)
				out = append(out, info)
			}
		}
	}
	return out, nil
}

// hasMempool reports whether a searchrawtransactions page holds a
// mempool transaction (btcd lists them after the confirmed ones).
func hasMempool(page []rawTxResult) bool {
	for _, r := range page {
		if r.BlockHash == "" {
			return true
		}
	}
	return false
}

// historyBatch bounds the calls of one History batch: btcd answers a
// batch's calls one after the other on the connection's reader, so a batch
// holds the connection's other calls for its duration.
const historyBatch = 200

// filterAcked checks the replies of the loadtxfilter calls at the head of
// a history batch (err: the batch's own error). Additions the node did not
// acknowledge are forgotten (so that watching them again sends them),
// unless the connection went down: the next connection loads the full set.
func (b *Backend) filterAcked(newAddrs []string, filter []batchCall, res []response, err error) error {
	if err != nil {
		if !errors.Is(err, chain.ErrNotConnected) {
			b.forgetUnsent(newAddrs, nil, 0)
		}
		return err
	}
	sent := 0
	for i, r := range res[:len(filter)] {
		if r.err != nil {
			b.forgetUnsent(newAddrs, nil, sent)
			return fmt.Errorf("btcdws: watch: loadtxfilter: %w", r.err)
		}
		sent += len(filter[i].params[1].([]string))
	}
	return nil
}

// blockHeights fills heights (hash → height) for hashes with batched
// getblockheader calls; an unknown block is chain.ErrNotFound.
func (b *Backend) blockHeights(ctx context.Context, conn *rpcConn, hashes []string, heights map[string]int32) error {
	for len(hashes) > 0 {
		n := min(len(hashes), historyBatch)
		calls := make([]batchCall, n)
		for i, h := range hashes[:n] {
			calls[i] = batchCall{"getblockheader", []any{h, true}}
		}
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		res, err := conn.callBatch(cctx, calls)
		cancel()
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.err != nil {
				if _, ok := rpcCode(r.err); ok {
					return fmt.Errorf("block %s: %w: %w", hashes[i], chain.ErrNotFound, r.err)
				}
				return r.err
			}
			var h headerResult
			if err := json.Unmarshal(r.result, &h); err != nil {
				return fmt.Errorf("getblockheader: decode result: %w", err)
			}
			heights[hashes[i]] = h.Height
		}
		hashes = hashes[n:]
	}
	return nil
}

// Broadcast submits tx (sendrawtransaction). A refusal by the node returns
// an error wrapping both chain.ErrRejected and the node's *RPCError (code and
// reason, e.g. -26 "output already spent"); transport failures do not wrap
// ErrRejected.
func (b *Backend) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	var buf bytes.Buffer
	buf.Grow(tx.SerializeSize())
	if err := tx.Serialize(&buf); err != nil {
		return chainhash.Hash{}, err
	}
	var s string
	if err := b.call(ctx, &s, "sendrawtransaction", hex.EncodeToString(buf.Bytes())); err != nil {
		if _, ok := rpcCode(err); ok {
			return chainhash.Hash{}, fmt.Errorf("%w: %w", chain.ErrRejected, err)
		}
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// EstimateFee returns the node's estimate (estimatefee target, BTC per kB)
// in satoshis per kvB, converted exactly from the JSON number (never
// through a float) and rounded to the nearest satoshi. ok is false when
// the node has no estimate: it answers 0 (btcd on a fresh node), -1 or an
// error, or a rate above MaxFeeRate (a node answer no wallet should
// use). target must be at least 1.
func (b *Backend) EstimateFee(ctx context.Context, target int) (int64, bool, error) {
	if target < 1 {
		return 0, false, fmt.Errorf("btcdws: fee target %d, want >= 1", target)
	}
	var perKB json.Number // read exactly, never through float64
	if err := b.call(ctx, &perKB, "estimatefee", target); err != nil {
		if _, ok := rpcCode(err); ok {
			return 0, false, nil
		}
		return 0, false, err
	}
	rate, err := amount.ParseRounded(perKB.String())
	if err != nil || rate <= 0 || rate > MaxFeeRate {
		return 0, false, nil // -1, 0, nonsense or absurd: no estimate
	}
	return rate, true, nil
}

// MaxFeeRate is the largest estimate EstimateFee passes on, in sat/kvB (1
// BTC per virtual byte); beyond it the node's answer is treated as none.
const MaxFeeRate = 100_000_000_000
