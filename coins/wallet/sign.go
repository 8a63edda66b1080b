package wallet

import (
	"bytes"
	"context"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
)

// keyForScript returns the private key that spends pkScript in this
// wallet (the caller zeroes it), or nil when the script is not the
// wallet's. Only p2pkh, p2wpkh-p2sh and p2wpkh scripts are signed.
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

// signInput signs input idx spending prev with key, for p2pkh (compressed
// or not), p2wpkh-p2sh and p2wpkh. It returns the sigScript and witness,
// or ok=false when key does not match the script.
func signInput(tx *wire.MsgTx, idx int, prev *wire.TxOut, key *btcec.PrivateKey,
	hashes *txscript.TxSigHashes) (sigScript []byte, witness wire.TxWitness, ok bool, err error) {
	pub := key.PubKey()
	comp := address.Hash160(pub.SerializeCompressed())
	script := prev.PkScript
	switch txscript.GetScriptClass(script) {
	case txscript.PubKeyHashTy:
		h := script[3:23]
		compressed := bytes.Equal(h, comp)
		if !compressed && !bytes.Equal(h, address.Hash160(pub.SerializeUncompressed())) {
			return nil, nil, false, nil
		}
		sigScript, err = txscript.SignatureScript(tx, idx, script, txscript.SigHashAll, key, compressed)
		return sigScript, nil, err == nil, err
	case txscript.WitnessV0PubKeyHashTy:
		if !bytes.Equal(script[2:22], comp) {
			return nil, nil, false, nil
		}
		witness, err = txscript.WitnessSignature(tx, hashes, idx, prev.Value, script, txscript.SigHashAll, key, true)
		return nil, witness, err == nil, err
	case txscript.ScriptHashTy:
		program := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, comp...)
		if !bytes.Equal(script[2:22], address.Hash160(program)) {
			return nil, nil, false, nil
		}
		witness, err = txscript.WitnessSignature(tx, hashes, idx, prev.Value, program, txscript.SigHashAll, key, true)
		if err != nil {
			return nil, nil, false, err
		}
		sigScript, err = txscript.NewScriptBuilder().AddData(program).Script()
		return sigScript, witness, err == nil, err
	}
	return nil, nil, false, nil
}

// prevFetcher builds a prevout fetcher; unknown prevouts become empty
// outputs (segwit v0 and legacy sighashes only need the input's own).
func prevFetcher(tx *wire.MsgTx, prevs []*wire.TxOut) *txscript.MultiPrevOutFetcher {
	f := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range tx.TxIn {
		p := prevs[i]
		if p == nil {
			p = &wire.TxOut{}
		}
		f.AddPrevOut(in.PreviousOutPoint, p)
	}
	return f
}

// signInputs signs every input of tx whose prevout (prevs[i], nil when
// unknown) is the wallet's and, when only is non-nil, only[i] is true. Every
// signed input is verified with the script engine. It returns an error when
// an input of the wallet cannot be signed.
func (w *Wallet) signInputs(tx *wire.MsgTx, prevs []*wire.TxOut, mat *keys.Material, only []bool) error {
	fetcher := prevFetcher(tx, prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
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
		sig, wit, ok, err := signInput(tx, i, prevs[i], key, hashes)
		key.Zero()
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if !ok {
			return fmt.Errorf("signing input %d: unsupported script type", i)
		}
		tx.TxIn[i].SignatureScript, tx.TxIn[i].Witness = sig, wit
		vm, err := txscript.NewEngine(prevs[i].PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes,
			prevs[i].Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("signing input %d: signature does not verify: %w", i, err)
		}
	}
	return nil
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
