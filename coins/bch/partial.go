package bch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Electron Cash's unsigned transactions. Electron Cash has no PSBT: a
// transaction its wallet cannot sign (a watch-only wallet's payto) is
// serialized as a raw transaction whose unsigned P2PKH inputs carry, in
// place of the scriptSig, a placeholder signature (0xff) and an "x_pubkey"
// naming the key that will sign (an extended public key and derivation, an
// Electrum 1.x master public key and derivation, a public key, or the
// output script), followed after the sequence by the input's value (8
// bytes, so that a cold wallet can sign the FORKID sighash). Electron
// Cash's signtransaction reads it back and signs what it can
// (transaction.py: serialize_input, parse_input, parse_scriptSig;
// keystore.py: get_xpubkey, parse_xpubkey).

// ErrNotPartial is returned by ParseUnsigned for bytes that are not a
// transaction (Electron Cash's unsigned format or a plain one).
var ErrNotPartial = errors.New("bch: not a transaction in Electron Cash's format")

// noSignature is Electron Cash's NO_SIGNATURE placeholder.
const noSignature = 0xff

// X_pubkey kinds (their first byte).
const (
	xpubBIP32   = 0xff // ff || 78-byte xpub serialization || path
	xpubOld     = 0xfe // fe || 64-byte old master public key || path
	xpubAddress = 0xfd // fd || output script (an imported address)
)

// XPubKey is the key that signs one input of an unsigned transaction, as
// Electron Cash writes it.
type XPubKey struct {
	// BIP32 is the 78-byte serialization of the wallet's account xpub
	// (version bytes included), for a key at Path below it.
	BIP32 []byte
	// Old is the 64-byte master public key of an Electrum 1.x wallet, for
	// a key at Path below it.
	Old []byte
	// Path is [change, index] below BIP32 or Old.
	Path []uint32
	// PubKey is a public key given as itself (imported keys).
	PubKey []byte
	// Script is the output script of an imported address (no key known).
	Script []byte
}

// Bytes is Electron Cash's x_pubkey of k.
func (k XPubKey) Bytes() []byte {
	switch {
	case k.BIP32 != nil:
		out := append([]byte{xpubBIP32}, k.BIP32...)
		for _, p := range k.Path {
			if p < 0xffff {
				out = binary.LittleEndian.AppendUint16(out, uint16(p))
			} else {
				out = append(out, 0xff, 0xff)
				out = binary.LittleEndian.AppendUint32(out, p)
			}
		}
		return out
	case k.Old != nil:
		out := append([]byte{xpubOld}, k.Old...)
		for _, p := range k.Path {
			out = binary.LittleEndian.AppendUint16(out, uint16(p))
		}
		return out
	case k.Script != nil:
		return append([]byte{xpubAddress}, k.Script...)
	}
	return append([]byte(nil), k.PubKey...)
}

// parseXPubKey reads an x_pubkey.
func parseXPubKey(b []byte) (XPubKey, error) {
	if len(b) == 0 {
		return XPubKey{}, errors.New("empty x_pubkey")
	}
	switch b[0] {
	case xpubBIP32:
		if len(b) < 79 {
			return XPubKey{}, errors.New("short BIP32 x_pubkey")
		}
		k := XPubKey{BIP32: append([]byte(nil), b[1:79]...)}
		rest := b[79:]
		for len(rest) > 0 {
			if len(rest) < 2 {
				return XPubKey{}, errors.New("truncated derivation")
			}
			n := uint32(binary.LittleEndian.Uint16(rest))
			rest = rest[2:]
			if n == 0xffff {
				if len(rest) < 4 {
					return XPubKey{}, errors.New("truncated derivation")
				}
				n, rest = binary.LittleEndian.Uint32(rest), rest[4:]
			}
			k.Path = append(k.Path, n)
		}
		return k, nil
	case xpubOld:
		if len(b) < 65 || (len(b)-65)%2 != 0 {
			return XPubKey{}, errors.New("malformed old x_pubkey")
		}
		k := XPubKey{Old: append([]byte(nil), b[1:65]...)}
		for rest := b[65:]; len(rest) > 0; rest = rest[2:] {
			k.Path = append(k.Path, uint32(binary.LittleEndian.Uint16(rest)))
		}
		return k, nil
	case xpubAddress:
		return XPubKey{Script: append([]byte(nil), b[1:]...)}, nil
	case 0x02, 0x03, 0x04:
		if len(b) != 33 && len(b) != 65 {
			return XPubKey{}, errors.New("malformed public key")
		}
		return XPubKey{PubKey: append([]byte(nil), b...)}, nil
	}
	return XPubKey{}, fmt.Errorf("unknown x_pubkey kind %#x", b[0])
}

// UnsignedInput is what Electron Cash's format carries for an unsigned
// input: its value and the key that will sign it.
type UnsignedInput struct {
	Value int64
	Key   XPubKey
}

// SerializeUnsigned writes tx in Electron Cash's unsigned format: every
// input with ins[i] != nil is written unsigned (placeholder signature, its
// x_pubkey, its value after the sequence); the others as they are (signed).
func SerializeUnsigned(tx *wire.MsgTx, ins []*UnsignedInput) ([]byte, error) {
	if len(ins) != len(tx.TxIn) {
		return nil, fmt.Errorf("bch: %d unsigned inputs for %d inputs", len(ins), len(tx.TxIn))
	}
	var buf bytes.Buffer
	var scratch [8]byte
	binary.LittleEndian.PutUint32(scratch[:4], uint32(tx.Version))
	buf.Write(scratch[:4])
	if err := wire.WriteVarInt(&buf, 0, uint64(len(tx.TxIn))); err != nil {
		return nil, err
	}
	for i, in := range tx.TxIn {
		buf.Write(in.PreviousOutPoint.Hash[:])
		binary.LittleEndian.PutUint32(scratch[:4], in.PreviousOutPoint.Index)
		buf.Write(scratch[:4])
		script := in.SignatureScript
		if ins[i] != nil {
			var err error
			script, err = txscript.NewScriptBuilder().AddData([]byte{noSignature}).AddData(ins[i].Key.Bytes()).Script()
			if err != nil {
				return nil, err
			}
		}
		if err := wire.WriteVarBytes(&buf, 0, script); err != nil {
			return nil, err
		}
		binary.LittleEndian.PutUint32(scratch[:4], in.Sequence)
		buf.Write(scratch[:4])
		if ins[i] != nil {
			binary.LittleEndian.PutUint64(scratch[:], uint64(ins[i].Value))
			buf.Write(scratch[:])
		}
	}
	if err := wire.WriteVarInt(&buf, 0, uint64(len(tx.TxOut))); err != nil {
		return nil, err
	}
	for _, o := range tx.TxOut {
		if err := wire.WriteTxOut(&buf, 0, 0, o); err != nil {
			return nil, err
		}
	}
	binary.LittleEndian.PutUint32(scratch[:4], tx.LockTime)
	buf.Write(scratch[:4])
	return buf.Bytes(), nil
}

// unsignedScript reports whether a scriptSig is Electron Cash's unsigned
// placeholder (a 0xff push then an x_pubkey push) and returns the x_pubkey.
func unsignedScript(s []byte) ([]byte, bool) {
	pushes, err := txscript.PushedData(s)
	if err != nil || len(pushes) != 2 || !bytes.Equal(pushes[0], []byte{noSignature}) {
		return nil, false
	}
	return pushes[1], true
}

// ParseUnsigned reads a transaction in Electron Cash's unsigned format (a
// plain, fully signed transaction is read too): the transaction, with
// empty scriptSigs on its unsigned inputs, and for each input its
// UnsignedInput (nil for a signed one). Anything else is ErrNotPartial.
func ParseUnsigned(raw []byte) (*wire.MsgTx, []*UnsignedInput, error) {
	r := bytes.NewReader(raw)
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrNotPartial, why) }
	var u32 [4]byte
	if _, err := io.ReadFull(r, u32[:]); err != nil {
		return nil, nil, bad("no version")
	}
	tx := &wire.MsgTx{Version: int32(binary.LittleEndian.Uint32(u32[:]))}
	n, err := wire.ReadVarInt(r, 0)
	if err != nil || n == 0 || n > uint64(len(raw)/41) {
		return nil, nil, bad("input count")
	}
	ins := make([]*UnsignedInput, n)
	for i := range ins {
		in := &wire.TxIn{}
		if _, err := io.ReadFull(r, in.PreviousOutPoint.Hash[:]); err != nil {
			return nil, nil, bad("outpoint")
		}
		if _, err := io.ReadFull(r, u32[:]); err != nil {
			return nil, nil, bad("outpoint")
		}
		in.PreviousOutPoint.Index = binary.LittleEndian.Uint32(u32[:])
		script, err := wire.ReadVarBytes(r, 0, 10_000, "scriptSig")
		if err != nil {
			return nil, nil, bad("scriptSig")
		}
		if _, err := io.ReadFull(r, u32[:]); err != nil {
			return nil, nil, bad("sequence")
		}
		in.Sequence = binary.LittleEndian.Uint32(u32[:])
		if xpub, ok := unsignedScript(script); ok {
			var v [8]byte
			if _, err := io.ReadFull(r, v[:]); err != nil {
				return nil, nil, bad("input value")
			}
			value := binary.LittleEndian.Uint64(v[:])
			if value >= 0xffff_ffff_ffff_fff0 {
				return nil, nil, bad("extended input format (token inputs) is not read")
			}
			k, err := parseXPubKey(xpub)
			if err != nil {
				return nil, nil, bad(err.Error())
			}
			ins[i] = &UnsignedInput{Value: int64(value), Key: k}
		} else {
			in.SignatureScript = script
		}
		tx.TxIn = append(tx.TxIn, in)
	}
	nout, err := wire.ReadVarInt(r, 0)
	if err != nil || nout > uint64(len(raw)/9) {
		return nil, nil, bad("output count")
	}
	for j := uint64(0); j < nout; j++ {
		o := &wire.TxOut{}
		if err := wire.ReadTxOut(r, 0, 0, o); err != nil {
			return nil, nil, bad("output")
		}
		tx.TxOut = append(tx.TxOut, o)
	}
	if _, err := io.ReadFull(r, u32[:]); err != nil {
		return nil, nil, bad("locktime")
	}
	tx.LockTime = binary.LittleEndian.Uint32(u32[:])
	if r.Len() != 0 {
		return nil, nil, bad("trailing bytes")
	}
	return tx, ins, nil
}
