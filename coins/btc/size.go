package btc

import (
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/btcsuite/btcwallet/wallet/txrules"
	"github.com/btcsuite/btcwallet/wallet/txsizes"
)

// Relay policy of Bitcoin Core (and btcd) for ordinary sends, in sat/kvB.
const (
	// MinRelayFeePerKB is the default minimum relay fee rate
	// (txrules.DefaultRelayFeePerKb), also BIP125's incremental relay fee.
	MinRelayFeePerKB = int64(txrules.DefaultRelayFeePerKb)
	// DustRelayFeePerKB is the relay fee rate txrules' dust rule is
	// written for: with it, IsDust gives Bitcoin Core's dust threshold at
	// its -dustrelayfee of 3000 sat/kvB (546 sat for p2pkh).
	DustRelayFeePerKB = int64(txrules.DefaultRelayFeePerKb)
	// LTCDustRelayFeePerKB gives Litecoin Core's dust threshold: its
	// -dustrelayfee is 30000 sat/kvB, ten times Bitcoin's (5460 litoshis
	// for p2pkh, 2940 for p2wpkh).
	LTCDustRelayFeePerKB = 10 * DustRelayFeePerKB
)

// IsDust reports whether out is dust for a node whose dust rule is
// txrules' at relayPerKB (DustRelayFeePerKB for Bitcoin,
// LTCDustRelayFeePerKB for Litecoin): spending it would cost more than a
// third of its value.
func IsDust(out *wire.TxOut, relayPerKB int64) bool {
	return txrules.IsDustOutput(out, btcutil.Amount(relayPerKB))
}

// FeeForSize returns the fee of size virtual bytes at ratePerKB sat/kvB,
// rounded down as txrules does (never zero for a positive rate). The
// caller keeps the product in range.
func FeeForSize(ratePerKB int64, size int) int64 {
	return int64(txrules.FeeForSerializeSize(btcutil.Amount(ratePerKB), size))
}

// VSize returns the virtual size of a transaction as it is.
func VSize(tx *wire.MsgTx) int {
	weight := tx.SerializeSizeStripped()*3 + tx.SerializeSize()
	return (weight + 3) / 4
}

// inputSigned reports whether an input carries signature data.
func inputSigned(in *wire.TxIn) bool { return len(in.SignatureScript) > 0 || len(in.Witness) > 0 }

// EstimateSize returns the virtual size of tx once signed, as Electrum's
// estimated_size: the real size when every input is signed, else txsizes'
// worst-case estimate with each input counted by the script it spends
// (prevs[i]; p2sh counts as p2wpkh-p2sh, anything else not segwit as
// p2pkh; an unknown prevout as p2wpkh). Public key lengths are not used:
// txsizes assumes compressed keys.
func (Signer) EstimateSize(tx *wire.MsgTx, prevs []*wire.TxOut, _ []int) int {
	all := true
	for _, in := range tx.TxIn {
		all = all && inputSigned(in)
	}
	if all {
		return VSize(tx)
	}
	var p2pkh, p2tr, p2wpkh, nested int
	for i := range tx.TxIn {
		var script []byte
		if i < len(prevs) && prevs[i] != nil {
			script = prevs[i].PkScript
		}
		switch {
		case script == nil:
			p2wpkh++
		case txscript.IsPayToScriptHash(script):
			nested++
		case txscript.IsPayToWitnessPubKeyHash(script):
			p2wpkh++
		case txscript.IsPayToTaproot(script):
			p2tr++
		default:
			p2pkh++
		}
	}
	return txsizes.EstimateVirtualSize(p2pkh, p2tr, p2wpkh, nested, tx.TxOut, 0)
}
