package wallet

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
)

// keyForScript returns the private key that spends pkScript in this
// wallet (the caller zeroes it), or nil when the script is not the
// wallet's.
func (w *Wallet) keyForScript(mat *keys.Material, pkScript []byte) (*btcec.PrivateKey, error) {
	r, ok := w.ref(pkScript)
	if !ok {
		return nil, nil
	}
	if mat.Deterministic() {
		return mat.PrivKey(r.Change, r.Index)
	}
	addr, ok := w.e.cfg.Net.AddressFromScript(pkScript)
	if !ok {
		return nil, nil
	}
	return mat.ImportedPrivKey(addr)
}

// signInputs signs every input of tx whose prevout (prevs[i], nil when
// unknown) is the wallet's and, when only is non-nil, only[i] is true, with
// the coin's signer, which verifies every signed input with its script
// engine. It returns an error when an input of the wallet cannot be signed
// (with only nil: when an input is not the wallet's).
func (w *Wallet) signInputs(tx *wire.MsgTx, prevs []*wire.TxOut, mat *keys.Material, only []bool) error {
	keys := make([]*btcec.PrivateKey, len(tx.TxIn))
	defer func() {
		for _, k := range keys {
			if k != nil {
				k.Zero()
			}
		}
	}()
	for i := range tx.TxIn {
		if prevs[i] == nil || only != nil && !only[i] {
			continue
		}
		key, err := w.keyForScript(mat, prevs[i].PkScript)
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if key == nil {
			if only != nil {
				continue
			}
			return fmt.Errorf("signing input %d: not a key of the wallet", i)
		}
		keys[i] = key
	}
	return w.e.cfg.Coin.Signer.SignInputs(tx, prevs, keys)
}

// SignTransaction signs what it can of a PSBT (base64 or hex) or a raw
// transaction (hex) with the wallet's keys, as Electrum's signtransaction:
// the result is the raw transaction in hex when every input is signed,
// else the PSBT in base64 (a raw transaction stays hex). Inputs are
// matched to the wallet by their previous output script (from the PSBT,
// the stored transactions or the node), or by a BIP32 derivation from the
// wallet's account key. A watch-only wallet returns the transaction as it
// came. Errors: ErrInvalidTx.
func (w *Wallet) SignTransaction(ctx context.Context, s string) (string, error) {
	tx, p, err := DecodeTransaction(s)
	if err != nil {
		return "", err
	}
	n := 0
	if p != nil {
		n = len(p.UnsignedTx.TxIn)
	} else {
		n = len(tx.TxIn)
	}
	if err := CheckSignInputs(n); err != nil {
		return "", err
	}
	if p != nil && !w.e.cfg.Coin.Caps.PSBT {
		return "", ErrPSBTUnsupported
	}
	mat, err := w.material()
	if err != nil {
		return "", err
	}
	if p == nil {
		if !mat.HasPrivateKeys() {
			return txHex(tx)
		}
		prevs := make([]*wire.TxOut, len(tx.TxIn))
		only := make([]bool, len(tx.TxIn))
		for i, in := range tx.TxIn {
			if inputSigned(in) {
				continue
			}
			prevs[i] = w.e.prevOut(ctx, in.PreviousOutPoint)
			only[i] = true
		}
		if err := w.signInputs(tx, prevs, mat, only); err != nil {
			return "", err
		}
		return txHex(tx)
	}
	if mat.HasPrivateKeys() {
		if err := w.signPSBT(ctx, p, mat); err != nil {
			return "", err
		}
	}
	if p.IsComplete() {
		ftx, err := psbt.Extract(p)
		if err != nil {
			return "", err
		}
		return txHex(ftx)
	}
	return p.B64Encode()
}

// SignInputs signs the inputs of tx that spend prevs[i] (nil: leave input
// i as it is) when the script they spend is the wallet's, for a coin whose
// own unsigned format carries the previous outputs (Electron Cash's). It
// reports whether every input of tx is signed afterwards. A watch-only
// call signs nothing.
func (w *Wallet) SignInputs(ctx context.Context, tx *wire.MsgTx, prevs []*wire.TxOut) (bool, error) {
	if len(prevs) != len(tx.TxIn) {
		return false, fmt.Errorf("%w: %d previous outputs for %d inputs", ErrInvalidTx, len(prevs), len(tx.TxIn))
	}
	mat, err := w.material()
	if err != nil {
		return false, err
	}
	if mat.HasPrivateKeys() {
		only := make([]bool, len(tx.TxIn))
		for i, in := range tx.TxIn {
			only[i] = prevs[i] != nil && !inputSigned(in)
		}
		if err := w.signInputs(tx, prevs, mat, only); err != nil {
			return false, err
		}
	}
	for _, in := range tx.TxIn {
		if !inputSigned(in) {
			return false, nil
		}
	}
	return true, nil
}

// MaxSignInputs bounds the inputs of a transaction one call may sign: each
// unsigned input may cost a store or node lookup of its previous output,
// and a legacy input's signature hashes the whole transaction. A standard
// transaction (400,000 weight units) has fewer.
const MaxSignInputs = 2500

// CheckSignInputs refuses a transaction of more than MaxSignInputs inputs
// with an error wrapping ErrInvalidTx.
func CheckSignInputs(n int) error {
	if n > MaxSignInputs {
		return fmt.Errorf("%w: %d inputs; at most %d per call", ErrInvalidTx, n, MaxSignInputs)
	}
	return nil
}
