package wallet

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/btc"
	"github.com/walletd/walletd/coins/keys"
)

// accountFingerprint returns the BIP32 fingerprint of the wallet's account
// key (hash160 of its public key, first 4 bytes, little-endian as PSBT
// stores it). Electrum recognises a derivation from its account key by it
// (path change/index), whether it holds the seed or only the xpub.
func accountFingerprint(mpk string) (uint32, bool) {
	if mpk == "" {
		return 0, false
	}
	k, err := hdkeychain.NewKeyFromString(mpk)
	if err != nil {
		return 0, false
	}
	pub, err := k.ECPubKey()
	if err != nil {
		return 0, false
	}
	return binary.LittleEndian.Uint32(address.Hash160(pub.SerializeCompressed())[:4]), true
}

// keyInfo returns the public key and derivation of one of the wallet's
// scripts (derivation nil for imported keys; pub nil for an imported
// address).
func (w *Wallet) keyInfo(mat *keys.Material, pkScript []byte) (pub []byte, path []uint32, ok bool) {
	r, found := w.ref(pkScript)
	if !found {
		return nil, nil, false
	}
	if mat.Deterministic() {
		k, err := mat.Derive(r.Change, r.Index)
		if err != nil {
			return nil, nil, false
		}
		c := uint32(0)
		if r.Change {
			c = 1
		}
		return k.PubKey, []uint32{c, r.Index}, true
	}
	imp := mat.Imported()
	if int(r.Index) < len(imp) && bytes.Equal(imp[r.Index].PkScript, pkScript) {
		return imp[r.Index].PubKey, nil, true
	}
	return nil, nil, true
}

// makePSBT builds an unsigned PSBT of tx with the prevouts' UTXO records
// (witness_utxo for segwit inputs, non_witness_utxo when the previous
// transaction is stored), redeem scripts of p2wpkh-p2sh inputs, and BIP32
// derivations of the wallet's inputs and change outputs.
func (w *Wallet) makePSBT(ctx context.Context, tx *wire.MsgTx, prevs []*wire.TxOut, mat *keys.Material) (*psbt.Packet, error) {
	unsigned := tx.Copy()
	for _, in := range unsigned.TxIn {
		in.SignatureScript, in.Witness = nil, nil
	}
	p, err := psbt.NewFromUnsignedTx(unsigned)
	if err != nil {
		return nil, err
	}
	fp, haveFP := accountFingerprint(w.t.rec.MPK)
	for i, in := range unsigned.TxIn {
		prev := prevs[i]
		if prev == nil {
			continue
		}
		pin := &p.Inputs[i]
		if ptx, _, found, err := w.e.Transaction(ctx, in.PreviousOutPoint.Hash); err != nil {
			return nil, err
		} else if found {
			pin.NonWitnessUtxo = ptx
		}
		class := txscript.GetScriptClass(prev.PkScript)
		if class == txscript.WitnessV0PubKeyHashTy || class == txscript.ScriptHashTy {
			pin.WitnessUtxo = wire.NewTxOut(prev.Value, prev.PkScript)
		}
		pub, path, ok := w.keyInfo(mat, prev.PkScript)
		if !ok || pub == nil {
			continue
		}
		if class == txscript.ScriptHashTy {
			pin.RedeemScript = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, address.Hash160(pub)...)
		}
		if path != nil && haveFP {
			pin.Bip32Derivation = []*psbt.Bip32Derivation{{PubKey: pub, MasterKeyFingerprint: fp, Bip32Path: path}}
		}
		pin.SighashType = txscript.SigHashAll
	}
	for i, out := range unsigned.TxOut {
		pub, path, ok := w.keyInfo(mat, out.PkScript)
		if !ok || pub == nil || path == nil || !haveFP {
			continue
		}
		po := &p.Outputs[i]
		if txscript.IsPayToScriptHash(out.PkScript) {
			po.RedeemScript = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, address.Hash160(pub)...)
		}
		po.Bip32Derivation = []*psbt.Bip32Derivation{{PubKey: pub, MasterKeyFingerprint: fp, Bip32Path: path}}
	}
	return p, nil
}

// DecodeTransaction parses a transaction as clients send it: a raw
// transaction in hex, or a PSBT in base64 or hex. Exactly one of tx and p
// is set; anything else is ErrInvalidTx.
func DecodeTransaction(s string) (tx *wire.MsgTx, p *psbt.Packet, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil, ErrInvalidTx
	}
	if raw, herr := hex.DecodeString(s); herr == nil {
		if bytes.HasPrefix(raw, []byte("psbt\xff")) {
			p, err := psbt.NewFromRawBytes(bytes.NewReader(raw), false)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %v", ErrInvalidTx, err)
			}
			return nil, p, nil
		}
		tx := wire.NewMsgTx(0)
		r := bytes.NewReader(raw)
		if err := tx.Deserialize(r); err != nil || r.Len() != 0 || len(tx.TxIn) == 0 {
			return nil, nil, ErrInvalidTx
		}
		return tx, nil, nil
	}
	if strings.HasPrefix(s, "cHNidP8") {
		p, err := psbt.NewFromRawBytes(strings.NewReader(s), true)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInvalidTx, err)
		}
		return nil, p, nil
	}
	return nil, nil, ErrInvalidTx
}

// FinalTx returns the network transaction of a decoded transaction: tx
// itself, or a complete PSBT's extracted transaction (ErrIncomplete when
// some input is not finalized).
func FinalTx(tx *wire.MsgTx, p *psbt.Packet) (*wire.MsgTx, error) {
	if tx != nil {
		return tx, nil
	}
	if !p.IsComplete() {
		return nil, ErrIncomplete
	}
	return psbt.Extract(p)
}

// signPSBT signs and finalizes every input of p the wallet can sign (a
// key of the wallet that matches the input's script, found by the script or
// by a BIP32 derivation from the account key), with the coin's signer.
func (w *Wallet) signPSBT(ctx context.Context, p *psbt.Packet, mat *keys.Material) error {
	tx := p.UnsignedTx.Copy()
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prevs[i] = psbtPrevOut(p, i)
		if prevs[i] == nil {
			prevs[i] = w.e.prevOut(ctx, in.PreviousOutPoint)
		}
	}
	fp, haveFP := accountFingerprint(w.t.rec.MPK)
	keys := make([]*btcec.PrivateKey, len(tx.TxIn))
	defer func() {
		for _, k := range keys {
			if k != nil {
				k.Zero()
			}
		}
	}()
	for i := range tx.TxIn {
		pin := &p.Inputs[i]
		if prevs[i] == nil || len(pin.FinalScriptSig) > 0 || len(pin.FinalScriptWitness) > 0 {
			continue
		}
		key, err := w.keyForScript(mat, prevs[i].PkScript)
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if key == nil && haveFP && mat.Deterministic() {
			key = w.keyFromDerivation(mat, pin.Bip32Derivation, fp)
		}
		if key == nil {
			continue
		}
		if !btc.KeyMatches(key.PubKey(), prevs[i].PkScript) {
			key.Zero()
			continue
		}
		keys[i] = key
	}
	if err := w.e.cfg.Coin.Signer.SignInputs(tx, prevs, keys); err != nil {
		return err
	}
	for i, key := range keys {
		if key == nil {
			continue
		}
		if err := FinalizeInput(&p.Inputs[i], tx.TxIn[i]); err != nil {
			return err
		}
	}
	return nil
}

// FinalizeInput records a signed input's scripts as the PSBT input's final
// ones and drops what only a signer needs; the previous output's records
// stay (Electrum wants them on finalized inputs). A native segwit input
// gets an empty final scriptSig, as Electrum writes it: Electrum counts an
// input complete only with both.
func FinalizeInput(pin *psbt.PInput, in *wire.TxIn) error {
	pin.FinalScriptSig = in.SignatureScript
	if pin.FinalScriptSig == nil {
		pin.FinalScriptSig = []byte{}
	}
	if len(in.Witness) > 0 {
		var buf bytes.Buffer
		if err := psbtWitness(&buf, in.Witness); err != nil {
			return err
		}
		pin.FinalScriptWitness = buf.Bytes()
	}
	pin.PartialSigs, pin.SighashType, pin.RedeemScript, pin.WitnessScript, pin.Bip32Derivation = nil, 0, nil, nil, nil
	return nil
}

// keyFromDerivation finds the key of a BIP32 derivation (change/index) from
// the wallet's account key, verified against the derivation's public key.
func (w *Wallet) keyFromDerivation(mat *keys.Material, ds []*psbt.Bip32Derivation, fp uint32) *btcec.PrivateKey {
	for _, d := range ds {
		if d.MasterKeyFingerprint != fp || len(d.Bip32Path) != 2 || d.Bip32Path[0] > 1 {
			continue
		}
		change := d.Bip32Path[0] == 1
		k, err := mat.Derive(change, d.Bip32Path[1])
		if err != nil || !bytes.Equal(k.PubKey, d.PubKey) {
			continue
		}
		priv, err := mat.PrivKey(change, d.Bip32Path[1])
		if err == nil {
			return priv
		}
	}
	return nil
}

// psbtWitness serializes a witness stack as PSBT's final_scriptwitness.
func psbtWitness(buf *bytes.Buffer, wit wire.TxWitness) error {
	if err := wire.WriteVarInt(buf, 0, uint64(len(wit))); err != nil {
		return err
	}
	for _, item := range wit {
		if err := wire.WriteVarBytes(buf, 0, item); err != nil {
			return err
		}
	}
	return nil
}
