package bch

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/gcash/bchd/bchec"
	"github.com/gcash/bchd/txscript"
	bchwire "github.com/gcash/bchd/wire"
)

// Signature schemes of Signer.
const (
	// Schnorr signs with BCH Schnorr (64-byte signatures), Electron Cash's
	// default for software wallets (Wallet.is_schnorr_enabled).
	Schnorr = iota
	// ECDSA signs with DER-encoded ECDSA (low S).
	ECDSA
)

// hashType is what Electron Cash signs every input with:
// SIGHASH_ALL|SIGHASH_FORKID (0x41).
const hashType = txscript.SigHashAll | txscript.SigHashForkID

// VerifyFlags are the script flags inputs are checked with: bchd's standard
// flags with every upgrade through May 2026 active (what bchd's mempool uses
// on an up-to-date chain, regtest included).
const VerifyFlags = txscript.StandardVerifyFlags | txscript.ScriptAllowCashTokens |
	txscript.ScriptAllowMay2025 | txscript.ScriptAllowMay2025StandardOnly | txscript.ScriptAllowMay2026

// Signer signs Bitcoin Cash P2PKH inputs with SIGHASH_ALL|SIGHASH_FORKID
// through bchd's txscript and checks them with bchd's script engine. The
// zero value signs with Schnorr, as Electron Cash does by default. It is
// immutable and safe for concurrent use.
type Signer struct {
	// Scheme is Schnorr (the zero value) or ECDSA.
	Scheme int
}

// toBCH converts a btcd transaction to bchd's by serialization (token
// prefixes in output scripts become bchd TokenData). A transaction with
// witness data is not a Bitcoin Cash transaction.
func toBCH(tx *wire.MsgTx) (*bchwire.MsgTx, error) {
	if tx.HasWitness() {
		return nil, errors.New("bch: a transaction with witness data is not a Bitcoin Cash transaction")
	}
	var buf bytes.Buffer
	if err := tx.SerializeNoWitness(&buf); err != nil {
		return nil, fmt.Errorf("bch: serialize: %w", err)
	}
	out := &bchwire.MsgTx{}
	if err := out.Deserialize(&buf); err != nil {
		return nil, fmt.Errorf("bch: deserialize: %w", err)
	}
	return out, nil
}

// toBCHOut converts a btcd output (token prefix inside PkScript) to bchd's.
func toBCHOut(o *wire.TxOut) (bchwire.TxOut, error) {
	var buf bytes.Buffer
	if err := wire.WriteTxOut(&buf, 0, 0, o); err != nil {
		return bchwire.TxOut{}, err
	}
	var out bchwire.TxOut
	if _, err := bchwire.ReadTxOut(&buf, 0, 0, &out); err != nil {
		return bchwire.TxOut{}, err
	}
	return out, nil
}

// prepared is a transaction in bchd form with its sighash midstate and the
// outputs its inputs spend.
type prepared struct {
	tx     *bchwire.MsgTx
	hashes *txscript.TxSigHashes
	utxos  *txscript.UtxoCache
}

func prepare(tx *wire.MsgTx, prevs []*wire.TxOut) (*prepared, error) {
	if len(prevs) != len(tx.TxIn) {
		return nil, fmt.Errorf("bch: %d prevouts for %d inputs", len(prevs), len(tx.TxIn))
	}
	btx, err := toBCH(tx)
	if err != nil {
		return nil, err
	}
	utxos := txscript.NewUtxoCache()
	for i, p := range prevs {
		if p == nil {
			// bchd's cache must hold every input (its lookup of a
			// missing entry leaves a lock taken); an unknown prevout
			// counts as an empty output.
			p = &wire.TxOut{}
		}
		o, err := toBCHOut(p)
		if err != nil {
			return nil, fmt.Errorf("bch: prevout %d: %w", i, err)
		}
		utxos.AddEntry(i, o)
	}
	hashes := txscript.NewTxSigHashes(btx)
	hashes.AddTxSigHashUtxoFromUtxoCache(btx, utxos)
	return &prepared{tx: btx, hashes: hashes, utxos: utxos}, nil
}

// SignInputs implements wallet.Signer for P2PKH prevouts (compressed or
// uncompressed keys): for every i with keys[i] != nil it sets input i's
// SignatureScript. Every signed input is verified with bchd's engine before
// tx is changed; on an error (a key that does not match its prevout's
// script, a script type not signed here, a coin carrying CashTokens:
// ErrTokenCoin) tx is left unchanged.
func (s Signer) SignInputs(tx *wire.MsgTx, prevs []*wire.TxOut, keys []*btcec.PrivateKey) error {
	if len(keys) != len(tx.TxIn) {
		return fmt.Errorf("bch: %d keys for %d inputs", len(keys), len(tx.TxIn))
	}
	p, err := prepare(tx, prevs)
	if err != nil {
		return err
	}
	for i, key := range keys {
		if key == nil {
			continue
		}
		if prevs[i] == nil {
			return fmt.Errorf("bch: signing input %d: its prevout is unknown", i)
		}
		sigScript, err := s.signInput(p, i, prevs[i], key)
		if err != nil {
			return fmt.Errorf("bch: signing input %d: %w", i, err)
		}
		p.tx.TxIn[i].SignatureScript = sigScript
	}
	for i, key := range keys {
		if key == nil {
			continue
		}
		if err := p.verify(i, prevs[i]); err != nil {
			return fmt.Errorf("bch: signing input %d: signature does not verify: %w", i, err)
		}
	}
	for i, key := range keys {
		if key != nil {
			tx.TxIn[i].SignatureScript = p.tx.TxIn[i].SignatureScript
		}
	}
	return nil
}

// signInput returns the scriptSig <sig||0x41> <pubkey> spending a P2PKH
// prevout with key.
func (s Signer) signInput(p *prepared, i int, prev *wire.TxOut, key *btcec.PrivateKey) ([]byte, error) {
	script := prev.PkScript
	if HasToken(script) {
		return nil, ErrTokenCoin
	}
	if len(script) != 25 || script[0] != txscript.OP_DUP || script[1] != txscript.OP_HASH160 ||
		script[2] != txscript.OP_DATA_20 || script[23] != txscript.OP_EQUALVERIFY || script[24] != txscript.OP_CHECKSIG {
		return nil, errors.New("only P2PKH outputs are signed")
	}
	var pub []byte
	switch h := script[3:23]; {
	case bytes.Equal(h, address.Hash160(key.PubKey().SerializeCompressed())):
		pub = key.PubKey().SerializeCompressed()
	case bytes.Equal(h, address.Hash160(key.PubKey().SerializeUncompressed())):
		pub = key.PubKey().SerializeUncompressed()
	default:
		return nil, errors.New("the key does not match the output script")
	}
	hash, _, err := txscript.CalcSignatureHash(script, p.hashes, hashType, p.tx, i, prev.Value, true)
	if err != nil {
		return nil, err
	}
	secret := key.Serialize()
	bkey, _ := bchec.PrivKeyFromBytes(bchec.S256(), secret)
	clear(secret)
	var sig *bchec.Signature
	if s.Scheme == ECDSA {
		sig, err = bkey.SignECDSA(hash)
	} else {
		sig, err = bkey.SignSchnorr(hash)
	}
	bkey.D.SetInt64(0)
	if err != nil {
		return nil, err
	}
	return txscript.NewScriptBuilder().AddData(append(sig.Serialize(), byte(hashType))).AddData(pub).Script()
}

// verify runs bchd's script engine on input i.
func (p *prepared) verify(i int, prev *wire.TxOut) error {
	if prev == nil {
		return errors.New("prevout unknown")
	}
	o, err := p.utxos.GetEntry(i)
	if err != nil {
		return err
	}
	script := o.PkScript
	vm, err := txscript.NewEngine(script, p.tx, i, VerifyFlags, nil, p.hashes, p.utxos, prev.Value)
	if err != nil {
		return err
	}
	return vm.Execute()
}

// VerifyInputs implements wallet.Signer with bchd's engine and VerifyFlags.
func (Signer) VerifyInputs(tx *wire.MsgTx, prevs []*wire.TxOut) error {
	p, err := prepare(tx, prevs)
	if err != nil {
		return err
	}
	for i := range tx.TxIn {
		if err := p.verify(i, prevs[i]); err != nil {
			return fmt.Errorf("bch: input %d: %w", i, err)
		}
	}
	return nil
}
