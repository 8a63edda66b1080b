package corerpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// headerBatch is how many getblockheader (or getblockhash) calls go in one
// batch request.
const headerBatch = 500

type headerResult struct {
	Hash         string `json:"hash"`
	Height       int32  `json:"height"`
	Time         int64  `json:"time"`
	PreviousHash string `json:"previousblockhash"`
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

// callFunc is the shape of rpcClient.call and Backend.call.
type callFunc func(ctx context.Context, out any, method string, params ...any) error

// notFound wraps an RPC refusal as chain.ErrNotFound; other errors are
// returned as they are.
func notFound(err error, what string) error {
	if _, ok := rpcCode(err); ok {
		return fmt.Errorf("%s: %w: %w", what, chain.ErrNotFound, err)
	}
	return err
}

func (b *Backend) headerVia(ctx context.Context, call callFunc, hash string) (chain.BlockRef, error) {
	var h headerResult
	if err := call(ctx, &h, "getblockheader", hash, true); err != nil {
		return chain.BlockRef{}, notFound(err, "block "+hash)
	}
	return h.ref()
}

func (b *Backend) tipVia(ctx context.Context, call callFunc) (chain.BlockRef, error) {
	var hash string
	if err := call(ctx, &hash, "getbestblockhash"); err != nil {
		return chain.BlockRef{}, err
	}
	return b.headerVia(ctx, call, hash)
}

// Tip returns the best block (getbestblockhash, getblockheader).
func (b *Backend) Tip(ctx context.Context) (chain.BlockRef, error) {
	return b.tipVia(ctx, b.call)
}

// BlockAt returns the best-chain block at height (getblockhash,
// getblockheader); chain.ErrNotFound above the tip or below zero.
func (b *Backend) BlockAt(ctx context.Context, height int32) (chain.BlockRef, error) {
	if height < 0 {
		return chain.BlockRef{}, fmt.Errorf("height %d: %w", height, chain.ErrNotFound)
	}
	var hash string
	if err := b.call(ctx, &hash, "getblockhash", height); err != nil {
		return chain.BlockRef{}, notFound(err, fmt.Sprintf("height %d", height))
	}
	return b.headerVia(ctx, b.call, hash)
}

// headers returns the BlockRefs of hashes (batched getblockheader); an
// unknown hash is chain.ErrNotFound.
func (b *Backend) headers(ctx context.Context, hashes []chainhash.Hash) ([]chain.BlockRef, error) {
	out := make([]chain.BlockRef, len(hashes))
	for start := 0; start < len(hashes); start += headerBatch {
		end := min(start+headerBatch, len(hashes))
		res := make([]headerResult, end-start)
		calls := make([]batchCall, end-start)
		for i := range calls {
			calls[i] = batchCall{Method: "getblockheader", Params: []any{hashes[start+i].String(), true}, Out: &res[i]}
		}
		if err := b.batch(ctx, calls); err != nil {
			return nil, err
		}
		for i, c := range calls {
			if c.Err != nil {
				return nil, notFound(c.Err, "block "+hashes[start+i].String())
			}
			ref, err := res[i].ref()
			if err != nil {
				return nil, err
			}
			out[start+i] = ref
		}
	}
	return out, nil
}

// rawBlocks reads blocks by hash (getblock verbosity 0), ScanParallel per
// batch request, and decodes them.
func (b *Backend) rawBlocks(ctx context.Context, hashes []chainhash.Hash) ([]*ltcwire.Block, error) {
	out := make([]*ltcwire.Block, len(hashes))
	step := b.cfg.ScanParallel
	for start := 0; start < len(hashes); start += step {
		end := min(start+step, len(hashes))
		res := make([]string, end-start)
		calls := make([]batchCall, end-start)
		for i := range calls {
			calls[i] = batchCall{Method: "getblock", Params: []any{hashes[start+i].String(), 0}, Out: &res[i]}
		}
		if err := b.batch(ctx, calls); err != nil {
			return nil, err
		}
		for i, c := range calls {
			h := hashes[start+i]
			if c.Err != nil {
				return nil, notFound(c.Err, "block "+h.String())
			}
			blk, err := decodeBlockHex(res[i])
			if err != nil {
				return nil, fmt.Errorf("block %s: %w", h, err)
			}
			if blk.Hash() != h {
				return nil, fmt.Errorf("block %s: node returned block %s", h, blk.Hash())
			}
			b.sums.add(h, blk.Txs)
			out[start+i] = blk
		}
	}
	return out, nil
}

func decodeBlockHex(s string) (*ltcwire.Block, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return ltcwire.DecodeBlock(raw)
}

// FilterBlocks returns, for each hash in order, the block's BlockRef and its
// transactions relevant to the watched set (matched here, in block order,
// learning outpoints as it goes). An unknown hash fails the call with
// chain.ErrNotFound.
func (b *Backend) FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	refs, err := b.headers(ctx, hashes)
	if err != nil {
		return nil, err
	}
	out := make([]chain.Block, len(hashes))
	step := b.cfg.ScanParallel
	for start := 0; start < len(hashes); start += step {
		end := min(start+step, len(hashes))
		blks, err := b.rawBlocks(ctx, hashes[start:end])
		if err != nil {
			return nil, err
		}
		for i, blk := range blks {
			txs := b.matchLive(blk.Txs)
			b.remember(refs[start+i].Hash, txs)
			out[start+i] = chain.Block{BlockRef: refs[start+i], Txs: txs}
		}
	}
	return out, nil
}

type rawTxResult struct {
	Hex           string `json:"hex"`
	BlockHash     string `json:"blockhash"`
	Confirmations int64  `json:"confirmations"`
	Time          int64  `json:"time"`
	Blocktime     int64  `json:"blocktime"`
}

// Transaction looks txid up (getrawtransaction verbose). A confirmed
// transaction needs the node's -txindex unless this backend saw it in a
// block (its block is then passed to the node). Unknown: chain.ErrNotFound.
func (b *Backend) Transaction(ctx context.Context, txid chainhash.Hash) (*chain.TxInfo, error) {
	var r rawTxResult
	err := b.call(ctx, &r, "getrawtransaction", txid.String(), 1)
	if code, ok := rpcCode(err); ok && code == codeInvalidAddrType {
		if bh, known := b.blockOf(txid); known {
			r = rawTxResult{}
			err = b.call(ctx, &r, "getrawtransaction", txid.String(), 1, bh.String())
		}
	}
	if err != nil {
		return nil, notFound(err, "tx "+txid.String())
	}
	raw, err := hex.DecodeString(r.Hex)
	if err != nil {
		return nil, err
	}
	tx, err := ltcwire.DecodeTx(raw)
	if errors.Is(err, ltcwire.ErrMWEBOnly) {
		return nil, fmt.Errorf("tx %s: %w: %w", txid, chain.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	info := &chain.TxInfo{Tx: tx}
	if r.BlockHash == "" || r.Confirmations <= 0 {
		return info, nil
	}
	ref, err := b.headerVia(ctx, b.call, r.BlockHash)
	if err != nil {
		return nil, err
	}
	info.BlockHash = &ref.Hash
	info.Height = ref.Height
	info.Confirmations = r.Confirmations
	info.Time = ref.Time
	return info, nil
}

// Broadcast submits tx (sendrawtransaction). A refusal by the node returns
// an error wrapping both chain.ErrRejected and the node's *RPCError;
// transport failures wrap chain.ErrNotConnected instead.
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
	b.kick() // report it at once rather than at the next poll
	return *h, nil
}

// EstimateFee returns the node's estimatesmartfee (CONSERVATIVE is not
// asked: the node's default mode) in satoshis per kvB; btcd, which lacks
// it, is asked estimatefee. ok is false when the node has no estimate (a
// fresh or regtest node). target must be at least 1.
func (b *Backend) EstimateFee(ctx context.Context, target int) (int64, bool, error) {
	if target < 1 {
		return 0, false, fmt.Errorf("corerpc: fee target %d, want >= 1", target)
	}
	var smart struct {
		FeeRate *json.Number `json:"feerate"`
	}
	err := b.call(ctx, &smart, "estimatesmartfee", target)
	// The rate is coins per kvB, read exactly (never through float64);
	// -1 (btcd's "no estimate") and other non-amounts mean none.
	var perKB json.Number
	_, isRPC := rpcCode(err)
	switch {
	case err == nil:
		if smart.FeeRate == nil {
			return 0, false, nil
		}
		perKB = *smart.FeeRate
	case isRPC:
		// btcd has no estimatesmartfee (and Core no estimatefee).
		if err := b.call(ctx, &perKB, "estimatefee", target); err != nil {
			if _, ok := rpcCode(err); ok {
				return 0, false, nil
			}
			return 0, false, err
		}
	default:
		return 0, false, err
	}
	return feeRateFromNode(perKB)
}

// MaxFeeRate bounds a believable fee estimate (satoshis per kvB): 1 coin
// per kvB, ten thousand times the highest rates Bitcoin has seen. A node
// answering more is not believed (EstimateFee fails).
const MaxFeeRate = 100_000_000

// feeRateFromNode converts a node's fee rate in coins per kvB (as the node
// wrote it: "0.00001", "1e-05") to satoshis per kvB, exactly (never through
// float64), rounding a fraction of a satoshi up so that a positive rate
// stays positive. -1 (btcd's and Core's "no estimate"), 0 and other
// non-positive values are no estimate (ok false); something that is not a
// JSON number, or a rate above MaxFeeRate, is an error.
func feeRateFromNode(perKB json.Number) (sat int64, ok bool, err error) {
	s := string(perKB)
	if s == "" || !json.Valid([]byte(s)) || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false, fmt.Errorf("corerpc: fee estimate %q is not a number", s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		// big.Rat would build 10^e: bound it first (and so the work).
		if e, err := strconv.Atoi(s[i+1:]); err != nil || e > 30 || e < -30 {
			return 0, false, fmt.Errorf("corerpc: fee estimate %s per kvB is not believable", s)
		}
	}
	r, valid := new(big.Rat).SetString(s)
	if !valid {
		return 0, false, fmt.Errorf("corerpc: fee estimate %q is not a number", s)
	}
	if r.Sign() <= 0 {
		return 0, false, nil
	}
	r.Mul(r, big.NewRat(100_000_000, 1))
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > MaxFeeRate {
		return 0, false, fmt.Errorf("corerpc: fee estimate %s per kvB is not believable (more than %d sat/kvB)", s, MaxFeeRate)
	}
	return q.Int64(), true, nil
}
