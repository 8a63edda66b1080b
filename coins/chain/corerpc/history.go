package corerpc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/v2/gcs"
	"github.com/btcsuite/btcd/btcutil/v2/gcs/builder"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// BIP158 basic filter parameters.
const (
	filterP = 19
	filterM = 784931
)

// errNoFilters is returned by History when Config.Filters is "bip158" and
// the node serves no block filters.
var errNoFilters = fmt.Errorf("corerpc: the node serves no BIP158 block filters (-blockfilterindex=1): %w", chain.ErrUnsupported)

// History returns every transaction paying to or spending from any of
// scripts, each once: a scan of the blocks from the birthday (Config.Birthday,
// or the tip at the first connection) to the tip, reading only the blocks
// whose BIP158 filter matches when the node serves filters, then the
// mempool. Confirmed entries carry height, block, time and confirmations
// relative to the tip at the start of the scan. Scripts that can never be
// paid give chain.ErrUnsupported. Scans run one at a time; BackfillStatus
// reports their progress.
func (b *Backend) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, 0)
}

// HistoryAtMost is History that stops its scan with
// chain.ErrTooMuchHistory as soon as it has matched more than max
// transactions (chain.BoundedHistorian).
func (b *Backend) HistoryAtMost(ctx context.Context, scripts [][]byte, max int) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, max)
}

// history is History bounded by max transactions when max > 0.
func (b *Backend) history(ctx context.Context, scripts [][]byte, max int) ([]chain.TxInfo, error) {
	m := newMatcher()
	for _, s := range scripts {
		if err := checkScript(s); err != nil {
			return nil, err
		}
		m.scripts[string(s)] = struct{}{}
	}
	if err := b.ready(); err != nil {
		return nil, err
	}
	if b.cfg.Filters == MethodBIP158 && !b.filters.Load() {
		return nil, errNoFilters
	}
	list := make([][]byte, 0, len(m.scripts))
	for s := range m.scripts {
		list = append(list, []byte(s))
	}
	b.scanMu.Lock()
	defer b.scanMu.Unlock()
	tip, err := b.Tip(ctx)
	if err != nil {
		return nil, err
	}
	from := b.cfg.Birthday
	if from < 0 {
		from = b.firstTip.Load()
	}
	method := b.method()
	b.progMu.Lock()
	b.progress = chain.BackfillStatus{Method: method, Running: true, FromHeight: from, ToHeight: tip.Height,
		Height: from - 1, Scans: b.progress.Scans + 1, BlocksRead: b.progress.BlocksRead}
	b.progMu.Unlock()
	defer func() {
		b.progMu.Lock()
		b.progress.Running = false
		b.progMu.Unlock()
	}()

	var out []chain.TxInfo
	seen := map[chainhash.Hash]bool{}
	for start := from; start <= tip.Height; start += headerBatch {
		end := min(start+headerBatch-1, tip.Height)
		hashes, err := b.hashesAt(ctx, start, end)
		if err != nil {
			return nil, err
		}
		heights := make([]int32, len(hashes))
		for i := range hashes {
			heights[i] = start + int32(i)
		}
		if method == MethodBIP158 {
			if hashes, heights, err = b.filterMatches(ctx, hashes, heights, list); err != nil {
				return nil, err
			}
		}
		sc := b.newScan(m, list, method == MethodBlocks)
		for i := range hashes {
			blk, err := sc.block(ctx, hashes, i)
			if err != nil {
				return nil, err
			}
			if blk == nil {
				continue // its summary rules it out
			}
			h, height := hashes[i], heights[i]
			txs := m.matchAll(blk.Txs)
			for _, tx := range txs {
				id := tx.TxHash()
				if seen[id] {
					continue
				}
				seen[id] = true
				hh := h
				out = append(out, chain.TxInfo{Tx: tx, BlockHash: &hh, Height: height,
					Confirmations: int64(tip.Height-height) + 1, Time: blk.Header.Timestamp})
			}
			if max > 0 && len(out) > max {
				return nil, chain.TooMuchHistory(max)
			}
			b.remember(h, txs)
		}
		b.progMu.Lock()
		b.progress.BlocksRead += sc.read
		b.progMu.Unlock()
		b.progMu.Lock()
		b.progress.Height = end
		b.progMu.Unlock()
	}

	mem, err := b.mempoolMatches(ctx, m)
	if err != nil {
		return nil, err
	}
	for _, tx := range mem {
		if id := tx.TxHash(); !seen[id] {
			seen[id] = true
			out = append(out, chain.TxInfo{Tx: tx})
		}
	}
	if max > 0 && len(out) > max {
		return nil, chain.TooMuchHistory(max)
	}
	b.learnFrom(out)
	return out, nil
}

// scan reads the blocks of a History scan in order, ScanParallel at a time,
// skipping those whose cached summary shows they cannot hold the scripts or
// spend the outpoints learned so far (when useSummaries).
type scan struct {
	b         *Backend
	m         *matcher
	use       bool
	scriptKey []uint64
	opKeys    []uint64
	opCount   int
	ahead     map[int]*ltcwire.Block
	read      int64
}

func (b *Backend) newScan(m *matcher, scripts [][]byte, useSummaries bool) *scan {
	sc := &scan{b: b, m: m, use: useSummaries && b.sums.max > 0, ahead: map[int]*ltcwire.Block{}}
	if sc.use {
		for _, s := range scripts {
			sc.scriptKey = append(sc.scriptKey, b.sums.scriptKey(s))
		}
	}
	return sc
}

// needed reports whether block i of hashes must be read.
func (sc *scan) needed(hashes []chainhash.Hash, i int) bool {
	if !sc.use {
		return true
	}
	if len(sc.m.outpoints) != sc.opCount {
		sc.opKeys = sc.opKeys[:0]
		for op := range sc.m.outpoints {
			sc.opKeys = append(sc.opKeys, sc.b.sums.outpointKey(op))
		}
		sc.opCount = len(sc.m.outpoints)
	}
	match, known := sc.b.sums.mayMatch(hashes[i], sc.scriptKey, sc.opKeys)
	return !known || match
}

// block returns block i of hashes, or nil when it need not be read. Blocks
// are taken in increasing i; when i must be read it and the next ones that
// must be (as far as is known now) are fetched together.
func (sc *scan) block(ctx context.Context, hashes []chainhash.Hash, i int) (*ltcwire.Block, error) {
	if blk, ok := sc.ahead[i]; ok {
		delete(sc.ahead, i)
		return blk, nil
	}
	if !sc.needed(hashes, i) {
		return nil, nil
	}
	idx := []int{i}
	for j := i + 1; j < len(hashes) && len(idx) < sc.b.cfg.ScanParallel; j++ {
		if sc.needed(hashes, j) {
			idx = append(idx, j)
		}
	}
	want := make([]chainhash.Hash, len(idx))
	for k, j := range idx {
		want[k] = hashes[j]
	}
	blks, err := sc.b.rawBlocks(ctx, want)
	if err != nil {
		return nil, err
	}
	sc.read += int64(len(blks))
	for k, j := range idx[1:] {
		sc.ahead[j] = blks[k+1]
	}
	return blks[0], nil
}

// hashesAt returns the best-chain block hashes at heights from..to
// (batched getblockhash).
func (b *Backend) hashesAt(ctx context.Context, from, to int32) ([]chainhash.Hash, error) {
	res := make([]string, to-from+1)
	calls := make([]batchCall, len(res))
	for i := range calls {
		calls[i] = batchCall{Method: "getblockhash", Params: []any{from + int32(i)}, Out: &res[i]}
	}
	if err := b.batch(ctx, calls); err != nil {
		return nil, err
	}
	out := make([]chainhash.Hash, len(res))
	for i, c := range calls {
		if c.Err != nil {
			return nil, notFound(c.Err, fmt.Sprintf("height %d", from+int32(i)))
		}
		h, err := chainhash.NewHashFromStr(res[i])
		if err != nil {
			return nil, err
		}
		out[i] = *h
	}
	return out, nil
}

// filterMatches keeps the blocks whose BIP158 basic filter matches any of
// scripts (the filter holds every output script of the block and every
// script its inputs spend, so receipts and spends both match).
func (b *Backend) filterMatches(ctx context.Context, hashes []chainhash.Hash, heights []int32, scripts [][]byte) ([]chainhash.Hash, []int32, error) {
	type filterResult struct {
		Filter string `json:"filter"`
	}
	res := make([]filterResult, len(hashes))
	calls := make([]batchCall, len(hashes))
	for i := range calls {
		calls[i] = batchCall{Method: "getblockfilter", Params: []any{hashes[i].String()}, Out: &res[i]}
	}
	if err := b.batch(ctx, calls); err != nil {
		return nil, nil, err
	}
	var keepH []chainhash.Hash
	var keepN []int32
	for i, c := range calls {
		if c.Err != nil {
			return nil, nil, fmt.Errorf("getblockfilter %s: %w", hashes[i], c.Err)
		}
		raw, err := hex.DecodeString(res[i].Filter)
		if err != nil {
			return nil, nil, err
		}
		ok, err := filterMatch(raw, hashes[i], scripts)
		if err != nil {
			return nil, nil, fmt.Errorf("block filter of %s: %w", hashes[i], err)
		}
		if ok {
			keepH = append(keepH, hashes[i])
			keepN = append(keepN, heights[i])
		}
	}
	return keepH, keepN, nil
}

// filterMatch reports whether a serialized BIP158 basic filter (N as a
// CompactSize, then the Golomb-coded set) of block may contain any of data.
func filterMatch(raw []byte, block chainhash.Hash, data [][]byte) (bool, error) {
	f, err := gcs.FromNBytes(filterP, filterM, raw)
	if err != nil {
		return false, err
	}
	if f.N() == 0 {
		return false, nil
	}
	return f.MatchAny(builder.DeriveKey(&block), data)
}

// mempoolMatches returns the node's mempool transactions relevant to m
// (parents first; m learns their outpoints). Only the transactions whose
// summary in the mempool view may pay one of m's scripts or spend one of
// its outpoints are fetched (and those the view has no summary of), in
// rounds: a child spending an output found in one round is found in the
// next.
func (b *Backend) mempoolMatches(ctx context.Context, m *matcher) ([]*wire.MsgTx, error) {
	var ids txidList
	if err := b.call(ctx, &ids, "getrawmempool", false); err != nil {
		return nil, err
	}
	scriptKeys := make(map[uint64]struct{}, len(m.scripts))
	for s := range m.scripts {
		scriptKeys[b.sums.scriptKey([]byte(s))] = struct{}{}
	}
	opKeys := make(map[uint64]struct{}, len(m.outpoints))
	for op := range m.outpoints {
		opKeys[b.sums.outpointKey(op)] = struct{}{}
	}
	fetched := map[chainhash.Hash]bool{}
	var txs []*wire.MsgTx
	for {
		b.mpMu.Lock()
		cand := b.mp.candidates(ids, scriptKeys, opKeys, fetched)
		b.mpMu.Unlock()
		if len(cand) == 0 {
			break
		}
		for _, id := range cand {
			fetched[id] = true
		}
		if err := b.ready(); err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		got, err := b.fetchTxs(cctx, cand)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, raw := range got {
			tx, err := ltcwire.DecodeTx(raw)
			if err != nil {
				if !errors.Is(err, ltcwire.ErrMWEBOnly) {
					b.log.Warn("corerpc: undecodable mempool transaction", "err", err)
				}
				continue
			}
			txs = append(txs, tx)
			var id *chainhash.Hash
			for i, out := range tx.TxOut {
				if _, ok := m.scripts[string(out.PkScript)]; ok {
					if id == nil {
						h := tx.TxHash()
						id = &h
					}
					opKeys[b.sums.outpointKey(wire.OutPoint{Hash: *id, Index: uint32(i)})] = struct{}{}
				}
			}
		}
	}
	return m.matchAll(chain.ParentsFirst(txs)), nil
}

// learnFrom adds to the live watched set the outpoints of hist's outputs
// that pay a watched script, so their spends are followed; those hist shows
// spent PruneDepth blocks deep or more are left out (see matcher.spentIn),
// those spent less deep are recorded as spent, to be pruned in turn.
func (b *Backend) learnFrom(hist []chain.TxInfo) {
	spentBy := map[wire.OutPoint]*chain.TxInfo{}
	for i := range hist {
		for _, in := range hist[i].Tx.TxIn {
			spentBy[in.PreviousOutPoint] = &hist[i]
		}
	}
	depth := int64(b.cfg.PruneDepth)
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	for _, h := range hist {
		var id *chainhash.Hash
		for i, out := range h.Tx.TxOut {
			if _, ok := b.watch.scripts[string(out.PkScript)]; ok {
				if id == nil {
					x := h.Tx.TxHash()
					id = &x
				}
				op := wire.OutPoint{Hash: *id, Index: uint32(i)}
				sp := spentBy[op]
				if sp != nil && sp.Confirmations > depth {
					continue
				}
				b.watch.outpoints[op] = struct{}{}
				if sp != nil && sp.Confirmations > 0 {
					b.watch.spent[op] = sp.Height
				}
			}
		}
	}
}
