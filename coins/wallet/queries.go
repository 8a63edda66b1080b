package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
)

// CoinbaseMaturity is the depth a coinbase output needs to be spendable.
const CoinbaseMaturity = 100

// Balance is a wallet's balance in satoshis, as Electrum splits it.
type Balance struct {
	Confirmed   int64
	Unconfirmed int64 // may be negative: confirmed coins spent by mempool txs
	Unmatured   int64 // coinbase outputs not yet mature
}

// UTXO is an unspent output of the wallet.
type UTXO struct {
	OutPoint wire.OutPoint
	Value    int64
	Address  string
	PkScript []byte
	Height   int32
	Coinbase bool
	Change   bool
	Index    uint32
	// SpentBy is set when a mempool transaction spends it.
	SpentBy string
	// Token: the output carries tokens (BCH's CashTokens): it is never
	// spent as plain coin nor counted in the balance.
	Token bool
}

// UTXOs lists the wallet's outputs not spent by a confirmed transaction.
func (w *Wallet) UTXOs(ctx context.Context) ([]UTXO, error) {
	var out []UTXO
	err := w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bUTXOs, w.t.wk(), nil, func(k, v []byte) error {
			var u utxoRecord
			if err := decodeRec(v, &u); err != nil {
				return err
			}
			if u.SpentBy != "" && u.SpentHeight > 0 {
				return nil
			}
			addr, _ := w.e.cfg.Net.AddressFromScript(u.PkScript)
			out = append(out, UTXO{OutPoint: outpointFromKey(k[numLen:]), Value: u.Value, Address: addr,
				PkScript: u.PkScript, Height: u.Height, Coinbase: u.Coinbase, Change: u.Change, Index: u.Index,
				SpentBy: u.SpentBy, Token: u.Token})
			return nil
		})
	})
	return out, err
}

// Balance computes the wallet's balance at the current height. Coins that
// carry tokens are not counted: they are not spendable as plain coin. The
// answer is kept in memory until the wallet's records change or the tip
// moves past a coinbase output's maturity (hot.go), so a repeated call, or
// the first call after a block that did not touch the wallet, reads no
// store.
func (w *Wallet) Balance(ctx context.Context) (Balance, error) {
	if err := ctx.Err(); err != nil {
		return Balance{}, err
	}
	gen := w.e.gens.of(w.t.rec.Num) // before the read: see hot.go
	tip := w.e.Height()
	if c := w.t.bal.Load(); c != nil && c.gen == gen && c.holds(tip) {
		return c.b, nil
	}
	var b Balance
	var c balanceCache
	err := w.store().View(ctx, func(kv KV) error {
		b = Balance{}
		c = balanceCache{gen: gen, lo: math.MinInt32, hi: math.MaxInt32}
		return kv.Scan(bUTXOs, w.t.wk(), nil, func(_, v []byte) error {
			var u utxoRecord
			if err := decodeRec(v, &u); err != nil {
				return err
			}
			if u.SpentBy != "" && u.SpentHeight > 0 {
				return nil
			}
			b.add(u, tip)
			c.bound(u, tip)
			return nil
		})
	})
	if err != nil {
		return Balance{}, err
	}
	c.b = b
	w.t.bal.Store(&c)
	return b, nil
}

// add counts an output not spent by a confirmed transaction.
func (b *Balance) add(u utxoRecord, tip int32) {
	switch {
	case u.Token:
	case u.Coinbase && u.Height > 0 && u.Height+CoinbaseMaturity > tip+1:
		if u.SpentBy == "" {
			b.Unmatured += u.Value
		}
	case u.Height == 0:
		if u.SpentBy == "" {
			b.Unconfirmed += u.Value
		}
	default:
		b.Confirmed += u.Value
		if u.SpentBy != "" {
			b.Unconfirmed -= u.Value
		}
	}
}

// HistoryItem is one transaction of the wallet's history.
type HistoryItem struct {
	TxID          chainhash.Hash
	Height        int32
	Confirmations int64
	Received      int64
	Sent          int64
	Time          time.Time
	FirstSeen     time.Time
	Raw           []byte
}

// History lists the wallet's transactions, confirmed ones by height, then
// mempool ones by first sight.
func (w *Wallet) History(ctx context.Context) ([]HistoryItem, error) {
	tip := w.e.Height()
	var out []HistoryItem
	err := w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bWalletTxs, w.t.wk(), nil, func(k, v []byte) error {
			var wt walletTx
			if err := decodeRec(v, &wt); err != nil {
				return err
			}
			var id chainhash.Hash
			copy(id[:], k[numLen:])
			item := HistoryItem{TxID: id, Height: wt.Height, Received: wt.Received, Sent: wt.Sent, FirstSeen: wt.FirstSeen}
			var rec txRecord
			if ok, err := getTx(kv, hashKey(id), &rec); err != nil {
				return err
			} else if ok {
				item.Time, item.Raw = rec.Time, rec.Raw
			}
			if wt.Height > 0 {
				item.Confirmations = int64(tip) - int64(wt.Height) + 1
				if item.Confirmations < 1 {
					item.Confirmations = 1
				}
			}
			out = append(out, item)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].Height, out[j].Height, out[i].FirstSeen, out[j].FirstSeen)
	})
	return out, err
}

// TxStatus returns a wallet transaction's confirmations (ErrTxNotFound if
// the wallet does not know it).
func (w *Wallet) TxStatus(ctx context.Context, txid chainhash.Hash) (int64, error) {
	var wt walletTx
	var found bool
	err := w.store().View(ctx, func(kv KV) error {
		var err error
		found, err = getRec(kv, bWalletTxs, key(w.t.wk(), hashKey(txid)), &wt)
		return err
	})
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, ErrTxNotFound
	}
	if wt.Height <= 0 {
		return 0, nil
	}
	return int64(w.e.Height()) - int64(wt.Height) + 1, nil
}

// Address is one of the wallet's addresses.
type Address struct {
	Address  string
	PkScript []byte
	PubKey   []byte
	Change   bool
	Index    uint32
	Used     bool
	Balance  int64
}

// Addresses lists the wallet's addresses: receiving then change, by index.
func (w *Wallet) Addresses(ctx context.Context) ([]Address, error) {
	w.t.reqMu.Lock()
	visible := w.t.rec.NextRecv
	w.t.reqMu.Unlock()
	var out []Address
	err := w.store().View(ctx, func(kv KV) error {
		used := map[string]int64{}
		seen := map[string]bool{}
		if err := kv.Scan(bUTXOs, w.t.wk(), nil, func(_, v []byte) error {
			var u utxoRecord
			if err := decodeRec(v, &u); err != nil {
				return err
			}
			seen[string(u.PkScript)] = true
			if u.SpentBy == "" || u.SpentHeight == 0 {
				used[string(u.PkScript)] += u.Value
			}
			return nil
		}); err != nil {
			return err
		}
		return kv.Scan(bAddrs, w.t.wk(), nil, func(k, v []byte) error {
			var a addrRecord
			if err := decodeRec(v, &a); err != nil {
				return err
			}
			change, index := k[numLen] == 1, uint32FromBytes(k[numLen+1:])
			if !change && w.t.deterministic() && index >= visible {
				return nil // derived ahead, not revealed yet
			}
			w.e.fillAddr(&a)
			out = append(out, Address{Address: a.Address, PkScript: a.PkScript, PubKey: a.PubKey,
				Change: change, Index: index,
				Used: seen[string(a.PkScript)], Balance: used[string(a.PkScript)]})
			return nil
		})
	})
	return out, err
}

// UnusedAddress returns the first receiving address with no history and no
// request, or "" when the gap is exhausted.
func (w *Wallet) UnusedAddress(ctx context.Context) (string, error) {
	w.t.reqMu.Lock()
	defer w.t.reqMu.Unlock()
	var addr string
	err := w.store().View(ctx, func(kv KV) error {
		var err error
		addr, _, _, _, err = w.e.unusedAddress(kv, w.t)
		return err
	})
	return addr, err
}

// CreateNewAddress reveals one more receiving address (past the gap, as
// Electrum's createnewaddress does); it is returned once it is watched and
// its history applied.
func (w *Wallet) CreateNewAddress(ctx context.Context) (string, error) {
	t := w.t
	if !t.deterministic() {
		return "", keys.ErrNotDeterministic
	}
	e := w.e
	mat, err := e.publicOf(t)
	if err != nil {
		return "", err
	}
	addr, err := func() (string, error) {
		e.chainMu.Lock()
		defer e.chainMu.Unlock()
		t.reqMu.Lock()
		defer t.reqMu.Unlock()
		if t.gone.Load() {
			return "", errForgotten
		}
		rec := t.rec
		idx := rec.NextRecv
		var ks []newKey
		if idx >= rec.derivedRecv() {
			var err error
			if ks, err = deriveKeys(mat, &rec, false, 1); err != nil {
				return "", err
			}
		}
		rec.NextRecv = idx + 1
		var addr string
		err := w.store().Update(ctx, func(kv KV) error {
			if err := e.storeKeys(kv, rec.Num, ks); err != nil {
				return err
			}
			if err := addBackfill(kv, rec.Num, ks); err != nil {
				return err
			}
			a, ok, err := e.getAddr(kv, addrKey(rec.Num, false, idx))
			if err != nil || !ok {
				return errors.Join(err, fmt.Errorf("receiving address %d not derived", idx))
			}
			addr = a.Address
			return putRec(kv, bWallets, t.wk(), rec)
		})
		if err != nil {
			return "", err
		}
		t.rec.NextRecv, t.rec.DerivedRecv = rec.NextRecv, rec.DerivedRecv
		if len(ks) > 0 {
			e.indexKeys(t.rec.Num, ks)
			e.windowsApplied(nil, []*tracked{t})
		}
		return addr, nil
	}()
	if err != nil {
		return "", err
	}
	return addr, e.ensureBackfilled(ctx, t)
}

// IsMine reports whether address belongs to the wallet.
func (w *Wallet) IsMine(ctx context.Context, address string) (bool, error) {
	a, err := w.lookupAddress(ctx, address)
	return a != nil, err
}

// PubKeys returns the public keys of address in the wallet (hex), or
// ErrUnknownAddress.
func (w *Wallet) PubKeys(ctx context.Context, address string) ([]string, error) {
	a, err := w.lookupAddress(ctx, address)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, keys.ErrUnknownAddress
	}
	if len(a.PubKey) == 0 {
		return []string{}, nil
	}
	return []string{hex.EncodeToString(a.PubKey)}, nil
}

func (w *Wallet) lookupAddress(ctx context.Context, address string) (*Address, error) {
	script, err := w.e.cfg.Net.PkScript(address)
	if err != nil {
		return nil, err
	}
	var buf [2]packedRef
	for _, r := range w.e.candidates(script, buf[:0]) {
		if r.num() != w.t.rec.Num {
			continue
		}
		var a addrRecord
		var found bool
		err := w.store().View(ctx, func(kv KV) error {
			var err error
			a, found, err = w.e.getAddr(kv, addrKey(r.num(), r.change(), r.index()))
			return err
		})
		if err != nil {
			return nil, err
		}
		if !found || !bytes.Equal(a.PkScript, script) {
			continue // another script with the same hash
		}
		return &Address{Address: a.Address, PkScript: a.PkScript, PubKey: a.PubKey, Change: r.change(), Index: r.index()}, nil
	}
	return nil, nil
}

// MPK returns the wallet's master public key ("" for imported wallets).
func (w *Wallet) MPK() string { return w.t.rec.MPK }

// Transaction returns a transaction the engine stored (any wallet's).
func (e *Engine) Transaction(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, int32, bool, error) {
	var rec txRecord
	var found bool
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			var err error
			if found, err = getTx(kv, hashKey(txid), &rec); err != nil || found {
				return err
			}
		}
		return nil
	})
	if err != nil || !found {
		return nil, 0, false, err
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(rec.Raw)); err != nil {
		return nil, 0, false, err
	}
	return tx, rec.Height, true, nil
}
