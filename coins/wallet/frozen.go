package wallet

import (
	"context"
	"strings"

	"github.com/btcsuite/btcd/wire/v2"
)

// bFrozen holds a wallet's frozen addresses and coins (Electrum's
// freeze/freeze_utxo): num|'a'|pkScript → nil, num|'c'|outpoint → nil.
// Frozen coins are never selected to fund a transaction.
const bFrozen = "fz"

func frozenAddrKey(wk []byte, script []byte) []byte {
	return key(wk, []byte{'a'}, script)
}

func frozenCoinKey(wk []byte, op wire.OutPoint) []byte {
	return key(wk, []byte{'c'}, outpointKey(op))
}

// SetAddressesFrozen freezes (or unfreezes) addresses of the wallet, as
// Electrum's set_frozen_state_of_addresses: it changes nothing and reports
// false unless every address is the wallet's.
func (w *Wallet) SetAddressesFrozen(ctx context.Context, addrs []string, frozen bool) (bool, error) {
	scripts := make([][]byte, 0, len(addrs))
	for _, a := range addrs {
		s, err := w.e.cfg.Net.PkScript(strings.TrimSpace(a))
		if err != nil {
			return false, nil
		}
		if _, ok := w.ref(s); !ok {
			return false, nil
		}
		scripts = append(scripts, s)
	}
	return true, w.store().Update(ctx, func(kv KV) error {
		for _, s := range scripts {
			k := frozenAddrKey(w.t.wk(), s)
			var err error
			if frozen {
				err = kv.Put(bFrozen, k, []byte{1})
			} else {
				err = kv.Delete(bFrozen, k)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SetCoinsFrozen freezes (or unfreezes) coins, as Electrum's
// set_frozen_state_of_coins (any outpoint is accepted).
func (w *Wallet) SetCoinsFrozen(ctx context.Context, ops []wire.OutPoint, frozen bool) error {
	return w.store().Update(ctx, func(kv KV) error {
		for _, op := range ops {
			k := frozenCoinKey(w.t.wk(), op)
			var err error
			if frozen {
				err = kv.Put(bFrozen, k, []byte{1})
			} else {
				err = kv.Delete(bFrozen, k)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// frozenSet is a wallet's frozen addresses (by script) and coins.
type frozenSet struct {
	scripts map[string]bool
	coins   map[wire.OutPoint]bool
}

// has reports whether u may not be spent: its address or itself is frozen.
func (f frozenSet) has(u UTXO) bool {
	return f.scripts[string(u.PkScript)] || f.coins[u.OutPoint]
}

// frozen reads the wallet's frozen addresses and coins.
func (w *Wallet) frozen(ctx context.Context) (frozenSet, error) {
	f := frozenSet{scripts: map[string]bool{}, coins: map[wire.OutPoint]bool{}}
	err := w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bFrozen, w.t.wk(), nil, func(k, _ []byte) error {
			rest := k[numLen:]
			if len(rest) == 0 {
				return nil
			}
			switch rest[0] {
			case 'a':
				f.scripts[string(rest[1:])] = true
			case 'c':
				if len(rest) == 37 {
					f.coins[outpointFromKey(rest[1:])] = true
				}
			}
			return nil
		})
	})
	return f, err
}

// FrozenAddresses returns the wallet's frozen addresses.
func (w *Wallet) FrozenAddresses(ctx context.Context) (map[string]bool, error) {
	f, err := w.frozen(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(f.scripts))
	for s := range f.scripts {
		if a, ok := w.e.cfg.Net.AddressFromScript([]byte(s)); ok {
			out[a] = true
		}
	}
	return out, nil
}

// FrozenCoins returns the wallet's frozen coins (freeze_utxo).
func (w *Wallet) FrozenCoins(ctx context.Context) (map[wire.OutPoint]bool, error) {
	f, err := w.frozen(ctx)
	return f.coins, err
}
