// Package btc holds what a Bitcoin-family coin (BTC, LTC) does when a wallet
// spends: signing legacy and BIP143 (segwit v0) inputs with SIGHASH_ALL
// through btcd's txscript, verification with btcd's script engine and its
// standard flags, virtual sizes (txsizes), dust and relay-fee arithmetic
// (txrules), and Electrum's signed messages with the network's magic.
//
// coins/bch is the same for Bitcoin Cash. The wallet engine reaches either
// through its per-coin description (wallet.Coin); this package does no I/O
// and holds no mutable package-level state.
package btc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// ErrCannotSign is wrapped by SignInputs when a key does not match the
// script of its input or the script is not a kind this signer signs.
var ErrCannotSign = errors.New("btc: cannot sign the input")

// Signer signs and checks Bitcoin-family inputs (p2pkh, compressed or not;
// p2wpkh-p2sh; p2wpkh) with SIGHASH_ALL, and signs messages with Magic. It
// is immutable and safe for concurrent use.
type Signer struct {
	// Magic is the signed-message prefix ("\x18Bitcoin Signed Message:\n";
	// params.Network.MessageMagic).
	Magic string
}

// SignInputs signs, for every i with keys[i] != nil, input i of tx spending
// prevs[i] with keys[i] (its SignatureScript and Witness), and verifies each
// signed input with btcd's script engine (StandardVerifyFlags). Unknown
// prevouts (nil) count as empty outputs for the sighash midstate, which
// legacy and segwit v0 signatures do not read. A key that does not match its
// prevout's script, or a script type not signed here, is an error wrapping
// ErrCannotSign; on any error tx may hold the inputs signed before it.
func (Signer) SignInputs(tx *wire.MsgTx, prevs []*wire.TxOut, keys []*btcec.PrivateKey) error {
	if len(prevs) != len(tx.TxIn) || len(keys) != len(tx.TxIn) {
		return fmt.Errorf("btc: %d prevouts and %d keys for %d inputs", len(prevs), len(keys), len(tx.TxIn))
	}
	fetcher := prevFetcher(tx, prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, key := range keys {
		if key == nil {
			continue
		}
		if prevs[i] == nil {
			return fmt.Errorf("signing input %d: %w: its previous output is unknown", i, ErrCannotSign)
		}
		sig, wit, ok, err := signInput(tx, i, prevs[i], key, hashes)
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if !ok {
			return fmt.Errorf("signing input %d: %w: unsupported script type", i, ErrCannotSign)
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

// VerifyInputs runs btcd's script engine (StandardVerifyFlags) on every
// input of tx; prevs[i] is the output input i spends.
func (Signer) VerifyInputs(tx *wire.MsgTx, prevs []*wire.TxOut) error {
	if len(prevs) != len(tx.TxIn) {
		return fmt.Errorf("btc: %d prevouts for %d inputs", len(prevs), len(tx.TxIn))
	}
	fetcher := prevFetcher(tx, prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, p := range prevs {
		if p == nil {
			return fmt.Errorf("btc: input %d: previous output unknown", i)
		}
		vm, err := txscript.NewEngine(p.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, p.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("btc: input %d: %w", i, err)
		}
	}
	return nil
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

// KeyMatches reports whether key signs pkScript: a p2pkh of its compressed
// or uncompressed public key, a p2wpkh or a p2wpkh-p2sh of its compressed
// one.
func KeyMatches(key *btcec.PublicKey, pkScript []byte) bool {
	comp := address.Hash160(key.SerializeCompressed())
	switch txscript.GetScriptClass(pkScript) {
	case txscript.PubKeyHashTy:
		return bytes.Equal(pkScript[3:23], comp) || bytes.Equal(pkScript[3:23], address.Hash160(key.SerializeUncompressed()))
	case txscript.WitnessV0PubKeyHashTy:
		return bytes.Equal(pkScript[2:22], comp)
	case txscript.ScriptHashTy:
		return bytes.Equal(pkScript[2:22], address.Hash160(append([]byte{txscript.OP_0, txscript.OP_DATA_20}, comp...)))
	}
	return false
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

// MessageHash is Electrum's (and Bitcoin Core's) signed-message digest:
// double SHA-256 of the magic, varint(len), message.
func MessageHash(magic, message string) []byte {
	var buf bytes.Buffer
	buf.WriteString(magic)
	_ = wire.WriteVarInt(&buf, 0, uint64(len(message)))
	buf.WriteString(message)
	first := sha256.Sum256(buf.Bytes())
	second := sha256.Sum256(first[:])
	return second[:]
}

// SignMessage signs message as Electrum's signmessage does: a 65-byte
// compact recoverable signature (header 27+recid, +4 for a compressed key)
// over the magic-prefixed digest, in base64.
func (s Signer) SignMessage(key *btcec.PrivateKey, compressed bool, message string) (string, error) {
	return base64.StdEncoding.EncodeToString(ecdsa.SignCompact(key, MessageHash(s.Magic, message), compressed)), nil
}

// VerifyMessage checks a base64 compact signature of message as Electrum's
// verifymessage: the public key recovered from the signature must pay
// pkScript as p2pkh, p2wpkh or p2wpkh-p2sh (BIP137 headers 35-42 are
// accepted too, for the segwit types). Surrounding whitespace of the
// signature is ignored; anything malformed is false.
func (s Signer) VerifyMessage(pkScript []byte, signature, message string) bool {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(sig) != 65 {
		return false
	}
	sig = append([]byte(nil), sig...)
	type kind int
	const (
		p2pkh kind = iota
		p2wpkh
		nested
	)
	kinds := []kind{p2pkh, p2wpkh, nested}
	switch h := sig[0]; {
	case h >= 27 && h < 35:
	case h >= 35 && h < 39:
		sig[0] = h - 4
		kinds = []kind{nested}
	case h >= 39 && h < 43:
		sig[0] = h - 8
		kinds = []kind{p2wpkh}
	default:
		return false
	}
	pub, compressed, err := ecdsa.RecoverCompact(sig, MessageHash(s.Magic, message))
	if err != nil {
		return false
	}
	pubBytes := pub.SerializeCompressed()
	if !compressed {
		pubBytes = pub.SerializeUncompressed()
	}
	h := address.Hash160(pubBytes)
	for _, k := range kinds {
		var script []byte
		switch {
		case k == p2pkh:
			script = append(append([]byte{txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20}, h...),
				txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
		case !compressed:
			continue
		case k == p2wpkh:
			script = append([]byte{txscript.OP_0, txscript.OP_DATA_20}, h...)
		default:
			program := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, h...)
			script = append(append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, address.Hash160(program)...),
				txscript.OP_EQUAL)
		}
		if bytes.Equal(script, pkScript) {
			return true
		}
	}
	return false
}
