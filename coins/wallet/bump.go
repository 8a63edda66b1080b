package wallet

import (
	"bytes"
	"context"
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"
)

// bumpAttempts is how many fee rates BumpFee tries (a variable for
// tests).
var bumpAttempts = 4

// BumpOptions are bumpfee's options.
type BumpOptions struct {
	// FromCoins restricts the extra coins that may be added.
	FromCoins []wire.OutPoint
	// Unsigned asks for an unsigned PSBT even when the wallet can sign.
	Unsigned bool
}

// BumpFee builds a BIP125 replacement of tx, an unconfirmed transaction
// spending only the wallet's coins, paying feeRate (sat/kvB): the same
// inputs and non-change outputs, the change recomputed (more coins added
// when it is not enough), and at least the old fee plus the incremental
// relay fee for the new size. Errors wrap ErrCannotBump (mined, final,
// foreign inputs, rate not higher) or are ErrNotEnoughFunds; a coin
// without RBF answers ErrRBFUnsupported.
func (w *Wallet) BumpFee(ctx context.Context, tx *wire.MsgTx, feeRate int64, opt BumpOptions) (*BuiltTx, error) {
	if !w.e.cfg.Coin.Caps.RBF {
		return nil, ErrRBFUnsupported
	}
	if err := checkFeeRate(feeRate); err != nil {
		return nil, err
	}
	txid := tx.TxHash()
	if conf, err := w.TxStatus(ctx, txid); err == nil && conf > 0 {
		return nil, fmt.Errorf("%w: transaction is already mined", ErrCannotBump)
	}
	rbf := false
	for _, in := range tx.TxIn {
		rbf = rbf || in.Sequence < SequenceNoRBF
	}
	if !rbf {
		return nil, fmt.Errorf("%w: transaction is final (it does not signal replaceability)", ErrCannotBump)
	}
	mat, err := w.material()
	if err != nil {
		return nil, err
	}
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return nil, err
	}
	byOp := map[wire.OutPoint]UTXO{}
	for _, u := range utxos {
		byOp[u.OutPoint] = u
	}
	p := w.newPlan(mat)
	p.rate = &feeRate
	exclude := map[wire.OutPoint]bool{}
	var oldIn int64
	for _, in := range tx.TxIn {
		u, ok := byOp[in.PreviousOutPoint]
		if !ok || u.SpentBy != "" && u.SpentBy != txid.String() {
			return nil, fmt.Errorf("%w: input %s is not an unspent coin of the wallet", ErrCannotBump, in.PreviousOutPoint)
		}
		p.must = append(p.must, u)
		exclude[u.OutPoint] = true
		oldIn += u.Value
	}
	var oldOut int64
	for _, o := range tx.TxOut {
		oldOut += o.Value
		if r, ok := w.ref(o.PkScript); ok && (r.Change || !mat.Deterministic() && isInputScript(p.must, o.PkScript)) && p.change == nil {
			p.change = o.PkScript
			continue
		}
		p.outputs = append(p.outputs, wire.NewTxOut(o.Value, o.PkScript))
	}
	oldFee := oldIn - oldOut
	oldSize := w.e.EstimateVSize(ctx, tx, nil)
	if oldSize > 0 && feeRate*int64(oldSize) <= oldFee*1000 {
		return nil, fmt.Errorf("%w: the new fee rate needs to be higher than the old fee rate (%d sat/kvB)", ErrCannotBump, oldFee*1000/int64(oldSize))
	}
	if p.change == nil {
		req := &SpendRequest{}
		if p.change, err = w.changeScript(ctx, req, mat, p.must[0].PkScript); err != nil {
			return nil, err
		}
	}
	req := &SpendRequest{FromCoins: opt.FromCoins}
	if p.candidates, err = w.spendableCoins(ctx, req, exclude, &txid); err != nil {
		return nil, err
	}
	var s *selected
	for attempt := 0; ; attempt++ {
		if s, err = p.run(); err != nil {
			return nil, err
		}
		// BIP125 rule 4: pay for the replacement's own bandwidth.
		vs := int64(p.size(scriptsOf(s.inputs), s.tx.TxOut, 0))
		minFee := oldFee + w.e.cfg.Coin.Policy.MinRelayPerKB*vs/1000
		if s.fee >= minFee {
			break
		}
		if attempt == bumpAttempts-1 {
			// Signing this would give a replacement the node rejects.
			return nil, fmt.Errorf("%w: no fee rate tried pays the old fee plus the relay fee of the replacement (%d sat)", ErrCannotBump, minFee)
		}
		need := (minFee*1000 + vs - 1) / vs
		if need <= *p.rate {
			need = *p.rate + 1
		}
		if need > MaxFeeRate {
			return nil, fmt.Errorf("%w: the replacement needs a fee rate above %d sat/kvB", ErrCannotBump, int64(MaxFeeRate))
		}
		p.rate = &need
	}
	return w.finish(ctx, mat, s, tx.TxIn[0].Sequence, tx.LockTime, true, opt.Unsigned)
}

func isInputScript(ins []UTXO, script []byte) bool {
	for _, u := range ins {
		if bytes.Equal(u.PkScript, script) {
			return true
		}
	}
	return false
}

func scriptsOf(us []UTXO) [][]byte {
	out := make([][]byte, len(us))
	for i, u := range us {
		out[i] = u.PkScript
	}
	return out
}
