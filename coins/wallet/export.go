package wallet

import (
	"context"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// ExportedKey is the private key of one of the wallet's addresses, as
// Electrum's export_private_key needs it.
type ExportedKey struct {
	Key        *btcec.PrivateKey // the caller zeroes it
	ScriptType params.ScriptType
	Compressed bool
}

// PrivateKey returns the private key of one of the wallet's addresses.
// Only a call whose own key string holds private keys gets one
// (ErrWatchOnly otherwise); an address that is not the wallet's gives
// keys.ErrUnknownAddress.
func (w *Wallet) PrivateKey(ctx context.Context, address string) (*ExportedKey, error) {
	if !w.CanSign() {
		return nil, ErrWatchOnly
	}
	a, err := w.lookupAddress(ctx, address)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, keys.ErrUnknownAddress
	}
	mat, err := w.material()
	if err != nil {
		return nil, err
	}
	k, err := w.keyForScript(mat, a.PkScript)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, keys.ErrUnknownAddress
	}
	st := mat.ScriptType()
	for _, ik := range mat.Imported() {
		if string(ik.PkScript) == string(a.PkScript) {
			st = ik.ScriptType
		}
	}
	return &ExportedKey{Key: k, ScriptType: st, Compressed: len(a.PubKey) != 65}, nil
}

// LoadedWallet describes a wallet whose key material is in memory, by
// public data only.
type LoadedWallet struct {
	ID  string // fingerprint
	MPK string // master public key ("" for an imported wallet)
}

// Loaded lists the wallets whose key material is in memory, by id.
func (e *Engine) Loaded() []LoadedWallet {
	e.mu.RLock()
	out := []LoadedWallet{}
	e.wallets.all(func(t *tracked) bool {
		if t.mat != nil {
			out = append(out, LoadedWallet{ID: t.rec.ID, MPK: t.rec.MPK})
		}
		return true
	})
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
