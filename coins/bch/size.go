package bch

import (
	"github.com/btcsuite/btcd/wire/v2"
)

// Signature lengths Electron Cash estimates with (Transaction.get_siglist):
// 0x41 for Schnorr (64 bytes and the sighash byte, exact) and 0x48 for
// ECDSA (an upper bound of DER plus the sighash byte).
const (
	schnorrSigLen = 0x41
	ecdsaSigLen   = 0x48
)

// Public key lengths.
const (
	compressedPubKeyLen   = 33
	uncompressedPubKeyLen = 65
)

// sigLen returns the estimated signature push of the signer's scheme.
func (s Signer) sigLen() int {
	if s.Scheme == ECDSA {
		return ecdsaSigLen
	}
	return schnorrSigLen
}

// InputSize returns the serialized size of a P2PKH input once signed with
// the signer's scheme by a public key of pubKeyLen bytes (0 means
// compressed): outpoint, script length, <sig> <pubkey>, sequence.
func (s Signer) InputSize(pubKeyLen int) int {
	if pubKeyLen == 0 {
		pubKeyLen = compressedPubKeyLen
	}
	script := 1 + s.sigLen() + 1 + pubKeyLen
	return 32 + 4 + wire.VarIntSerializeSize(uint64(script)) + script + 4
}

// EstimateSize implements wallet.Signer as Electron Cash's estimated_size: the
// exact serialized size of tx (Bitcoin Cash has no witness, so size is
// what fees are paid on), where every unsigned input counts as a P2PKH
// input signed with the signer's scheme by a key of pubKeyLens[i] bytes
// (0, or a nil slice, means compressed; Electrum 1.x wallets have
// uncompressed ones). An unknown or non-P2PKH prevout is counted as P2PKH,
// the only kind this wallet signs. The prevouts do not change the size.
func (s Signer) EstimateSize(tx *wire.MsgTx, _ []*wire.TxOut, pubKeyLens []int) int {
	n := 4 + wire.VarIntSerializeSize(uint64(len(tx.TxIn))) + wire.VarIntSerializeSize(uint64(len(tx.TxOut))) + 4
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > 0 {
			n += in.SerializeSize()
			continue
		}
		pk := 0
		if i < len(pubKeyLens) {
			pk = pubKeyLens[i]
		}
		n += s.InputSize(pk)
	}
	for _, out := range tx.TxOut {
		n += out.SerializeSize()
	}
	return n
}

// FeeForSize is Electron Cash's estimate_fee_for_feerate: feePerKB
// satoshis per 1000 bytes, rounded down. bchd's minimum relay fee is the
// same formula at MinRelayFeePerKB.
func FeeForSize(feePerKB int64, size int) int64 {
	if feePerKB <= 0 || size <= 0 {
		return 0
	}
	return feePerKB * int64(size) / 1000
}
