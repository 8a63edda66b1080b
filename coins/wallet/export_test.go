package wallet

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/btcsuite/btcd/wire/v2"
)

// ExpectedRequest evaluates r from w's records from scratch (every output
// paying its address), as a fresh resync sees it; tests compare it with
// what the engine tracked incrementally.
func (w *Wallet) ExpectedRequest(ctx context.Context, r *RequestView) (*RequestView, error) {
	var v RequestView
	err := w.store().View(ctx, func(kv KV) error {
		pays, err := payments(kv, w.t.wk(), r.PkScript, nil)
		if err != nil {
			return err
		}
		v = evaluate(r.Request, pays, w.e.Height(), w.e.cfg.Now(), w.e.cfg.Coin.MinConfirmations)
		return nil
	})
	return &v, err
}

// CheckIndexes rebuilds the in-memory indexes (script index, owned
// outpoints, wallet counters) from the stores, as New does, and reports
// any difference from what the engine holds.
func (e *Engine) CheckIndexes(ctx context.Context) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	type entry struct {
		script string
		ref    packedRef
	}
	var entries []entry
	owned := map[wire.OutPoint][]string{}
	recs := map[string]walletRecord{}
	ids := map[uint32]string{}
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			if err := kv.Scan(bWallets, nil, nil, func(_, v []byte) error {
				var r walletRecord
				if err := decodeRec(v, &r); err != nil {
					return err
				}
				storedNextRecv(kv, &r)
				recs[r.ID] = r
				ids[r.Num] = r.ID
				return nil
			}); err != nil {
				return err
			}
		}
		for _, kv := range s.all() {
			if err := kv.Scan(bAddrs, nil, nil, func(k, v []byte) error {
				var a addrRecord
				if err := decodeRec(v, &a); err != nil {
					return err
				}
				entries = append(entries, entry{string(a.PkScript),
					packRef(binary.BigEndian.Uint32(k), k[numLen] == 1, binary.BigEndian.Uint32(k[numLen+1:]))})
				return nil
			}); err != nil {
				return err
			}
			if err := kv.Scan(bUTXOs, nil, nil, func(k, v []byte) error {
				var u utxoRecord
				if err := decodeRec(v, &u); err != nil {
					return err
				}
				if u.SpentHeight == 0 {
					op := outpointFromKey(k[numLen:])
					owned[op] = append(owned[op], ids[binary.BigEndian.Uint32(k)])
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(recs) != e.wallets.len() {
		return fmt.Errorf("%d wallets stored, %d tracked", len(recs), e.wallets.len())
	}
	for id, r := range recs {
		t := e.wallets.get(id)
		if t == nil {
			return fmt.Errorf("wallet %s stored but not tracked", id)
		}
		if !sameCounters(&r, &t.rec) {
			return fmt.Errorf("wallet %s: stored counters %+v, in memory %+v", id, r, t.rec)
		}
	}
	if len(entries) != e.index.len() {
		return fmt.Errorf("%d addresses stored, %d indexed", len(entries), e.index.len())
	}
	for _, x := range entries {
		if got := e.index.candidates([]byte(x.script), nil); !slices.Contains(got, x.ref) {
			return fmt.Errorf("script %x: stored owner %x, indexed %x", x.script, x.ref, got)
		}
	}
	if len(owned) != len(e.owned) {
		return fmt.Errorf("%d unspent outpoints stored, %d in memory", len(owned), len(e.owned))
	}
	for op, ids := range owned {
		got := slices.Clone(e.owned[op])
		sort.Strings(ids)
		sort.Strings(got)
		if !slices.Equal(ids, got) {
			return fmt.Errorf("outpoint %v: stored owners %v, in memory %v", op, ids, got)
		}
	}
	return nil
}

// InjectOwner lists wallet id as an owner of op in the in-memory index
// only: a divergence from the store that the engine must survive.
func (e *Engine) InjectOwner(op wire.OutPoint, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.owned[op] = append(e.owned[op], id)
}

// SetBumpAttempts changes how many fee rates BumpFee tries; the returned
// function restores it.
func SetBumpAttempts(n int) func() {
	old := bumpAttempts
	bumpAttempts = n
	return func() { bumpAttempts = old }
}

// SortedFrozenCoins lists the wallet's frozen coins in order.
func (w *Wallet) SortedFrozenCoins(ctx context.Context) ([]wire.OutPoint, error) {
	f, err := w.frozen(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]wire.OutPoint, 0, len(f.coins))
	for op := range f.coins {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// SetMigrateChunk changes how many records a migration transaction
// converts; the returned function restores it.
func SetMigrateChunk(n int) func() {
	old := migrateChunk
	migrateChunk = n
	return func() { migrateChunk = old }
}

// InjectScript adds a bogus entry to the script index: script is said to
// be address (change, index) of wallet id, whose record holds another
// script (as a hash collision would make it).
func (e *Engine) InjectScript(script []byte, id string, change bool, index uint32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.index.add(script, e.wallets.get(id).rec.Num, change, index)
}

// Counters returns the wallet's revealed and derived receiving counts.
func (w *Wallet) Counters() (next, derived uint32) {
	w.t.reqMu.Lock()
	defer w.t.reqMu.Unlock()
	return w.t.rec.NextRecv, w.t.rec.derivedRecv()
}

// Pending reports whether the wallet has addresses whose history is not
// applied yet.
func (w *Wallet) Pending(ctx context.Context) bool {
	left := false
	_ = w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bBackfill, w.t.wk(), nil, func(_, _ []byte) error {
			left = true
			return ErrStopScan
		})
	})
	return left
}

// TxRawLayout counts the transaction records of a store that still hold
// their raw bytes (schema 4 and before), those without, and the raw
// records of bTxRaw (schema 5).
func TxRawLayout(kv KV) (inline, split, raws int, err error) {
	err = kv.Scan(bTxs, nil, nil, func(_, v []byte) error {
		var rec txRecord
		if err := decodeRec(v, &rec); err != nil {
			return err
		}
		if len(rec.Raw) > 0 {
			inline++
		} else {
			split++
		}
		return nil
	})
	if err != nil {
		return
	}
	err = kv.Scan(bTxRaw, nil, nil, func(_, _ []byte) error {
		raws++
		return nil
	})
	return
}

// RequestLayout counts the request rows of schema 6's bucket (requests,
// address rows), those left in schema 5's two buckets (old), and the
// requests of the merged bucket whose address has no row there (orphans).
func RequestLayout(kv KV) (reqs, addrs, old, orphans int, err error) {
	for _, b := range []string{v5Requests, v5ReqAddr} {
		if err = kv.Scan(b, nil, nil, func(_, _ []byte) error { old++; return nil }); err != nil {
			return
		}
	}
	err = kv.Scan(bReqs, nil, nil, func(k, v []byte) error {
		switch k[numLen] {
		case reqTagAddr:
			addrs++
		case reqTagNext:
		case reqTagID:
			reqs++
			var r Request
			if err := decodeRec(v, &r); err != nil {
				return err
			}
			if kv.Get(bReqs, reqAddrKey(k[:numLen], r.PkScript)) == nil {
				orphans++
			}
		default:
			return fmt.Errorf("request bucket: key %x has no tag", k)
		}
		return nil
	})
	return
}

// WalletEventRows returns the seqs of each get_updates index row of
// wallet id, in key order.
func WalletEventRows(kv KV, id string) ([][]uint64, error) {
	var rows [][]uint64
	err := kv.Scan(bWEvents, []byte(id), nil, func(k, v []byte) error {
		seqs, err := walletEventSeqs(k, v)
		rows = append(rows, seqs)
		return err
	})
	return rows, err
}
