package wallet

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/btc"
)

// Bounds of the send side's arithmetic. Policy caps (a maximum fee, a
// maximum fee rate a client may ask without confirming) belong to the
// daemon; these only keep every product in range: a fee rate times the
// largest possible transaction (MaxTxVSize) stays far below MaxInt64.
const (
	// MaxFeeRate is the largest fee rate accepted, in sat/kvB (1 BTC per
	// virtual byte).
	MaxFeeRate = 100_000_000_000
	// MaxTxVSize is the largest virtual size of a transaction (a whole
	// block's weight).
	MaxTxVSize = 1_000_000
)

// checkFeeRate range-checks a fee rate (sat/kvB).
func checkFeeRate(rate int64) error {
	if rate < 0 || rate > MaxFeeRate {
		return fmt.Errorf("%w: fee rate %d sat/kvB is out of range (0 to %d)", ErrInvalidAmount, rate, int64(MaxFeeRate))
	}
	return nil
}

// checkFee range-checks an absolute fee (satoshis).
func checkFee(fee int64) error {
	if fee < 0 || fee > MaxAmount {
		return fmt.Errorf("%w: fee %d sat is out of range (0 to %d)", ErrInvalidAmount, fee, int64(MaxAmount))
	}
	return nil
}

// FeeForVSize returns the fee of vsize virtual bytes at rate sat/kvB with
// the Bitcoin family's rounding: down, as txrules does (never zero for a positive rate), or
// ErrInvalidAmount when rate or vsize is out of range (so the product
// cannot overflow).
func FeeForVSize(rate int64, vsize int64) (int64, error) {
	if err := checkFeeRate(rate); err != nil {
		return 0, err
	}
	if vsize < 0 || vsize > MaxTxVSize {
		return 0, fmt.Errorf("%w: size %d vbytes is out of range (0 to %d)", ErrInvalidAmount, vsize, MaxTxVSize)
	}
	return btc.FeeForSize(rate, int(vsize)), nil
}

// VSize returns the virtual size of a signed transaction (its size on a
// coin without segwit).
func VSize(tx *wire.MsgTx) int { return btc.VSize(tx) }

// inputSigned reports whether an input carries signature data.
func inputSigned(in *wire.TxIn) bool { return len(in.SignatureScript) > 0 || len(in.Witness) > 0 }

// EstimateVSize returns the size a transaction pays fees on (its virtual
// size; bytes on a coin without segwit) as Electrum's estimated_size does:
// the real size when every input is signed, else the coin's estimate of the
// signed transaction, each input counted by its previous output script
// (from the PSBT, the engine's stored transactions, or the node; the
// coin's usual kind when unknown).
func (e *Engine) EstimateVSize(ctx context.Context, tx *wire.MsgTx, p *psbt.Packet) int {
	signer := e.cfg.Coin.Signer
	if p != nil {
		if p.IsComplete() {
			if ftx, err := psbt.Extract(p); err == nil {
				return VSize(ftx)
			}
		}
		tx = p.UnsignedTx
	}
	all := true
	for _, in := range tx.TxIn {
		all = all && inputSigned(in)
	}
	if all && p == nil {
		return signer.EstimateSize(tx, nil, nil)
	}
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		if p != nil {
			prevs[i] = psbtPrevOut(p, i)
		}
		if prevs[i] == nil {
			prevs[i] = e.prevOut(ctx, in.PreviousOutPoint)
		}
	}
	if p != nil {
		// The estimate is of the signed transaction: the PSBT's unsigned
		// one carries no signatures to count as they are.
		tx = tx.Copy()
		for _, in := range tx.TxIn {
			in.SignatureScript, in.Witness = nil, nil
		}
	}
	return signer.EstimateSize(tx, prevs, nil)
}

// psbtPrevOut returns the previous output of PSBT input i, if given.
func psbtPrevOut(p *psbt.Packet, i int) *wire.TxOut {
	in := p.Inputs[i]
	if in.WitnessUtxo != nil {
		return in.WitnessUtxo
	}
	op := p.UnsignedTx.TxIn[i].PreviousOutPoint
	if in.NonWitnessUtxo != nil && in.NonWitnessUtxo.TxHash() == op.Hash && int(op.Index) < len(in.NonWitnessUtxo.TxOut) {
		return in.NonWitnessUtxo.TxOut[op.Index]
	}
	return nil
}

// prevOut looks up a previous output in the engine's stored transactions,
// then at the node; nil when unknown.
func (e *Engine) prevOut(ctx context.Context, op wire.OutPoint) *wire.TxOut {
	ptx, _, found, err := e.Transaction(ctx, op.Hash)
	if err == nil && !found && e.cfg.Backend != nil {
		if info, berr := e.cfg.Backend.Transaction(ctx, op.Hash); berr == nil {
			ptx, found = info.Tx, true
		}
	}
	if err != nil || !found || int(op.Index) >= len(ptx.TxOut) {
		return nil
	}
	return ptx.TxOut[op.Index]
}

// TxFee returns the fee of one of the wallet's transactions (inputs minus
// outputs), with previous outputs from the stored transactions or the
// node. ErrTxNotFound when the wallet does not know txid.
func (w *Wallet) TxFee(ctx context.Context, txid chainhash.Hash) (int64, error) {
	if _, err := w.TxStatus(ctx, txid); err != nil {
		return 0, err
	}
	tx, _, found, err := w.e.Transaction(ctx, txid)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, ErrTxNotFound
	}
	if isCoinbase(tx) {
		return 0, nil
	}
	var in, out int64
	for _, txin := range tx.TxIn {
		prev := w.e.prevOut(ctx, txin.PreviousOutPoint)
		if prev == nil {
			return 0, fmt.Errorf("%w: previous output %s of %s", ErrTxNotFound, txin.PreviousOutPoint, txid)
		}
		in += prev.Value
	}
	for _, o := range tx.TxOut {
		out += o.Value
	}
	return in - out, nil
}
