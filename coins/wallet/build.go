package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/v2/txsort"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/btcsuite/btcwallet/wallet/txrules"

	"github.com/walletd/walletd/coins/keys"
)

// Errors of the send side. Their texts never contain key material; the
// daemon maps them to contract codes.
var (
	// ErrNotEnoughFunds: the spendable coins cannot pay the outputs and the
	// fee. The text matches Electrum's, which Bitcart's electrum_map knows.
	ErrNotEnoughFunds = errors.New("Insufficient funds")
	// ErrFeeAndFeerate: both an absolute fee and a fee rate were given.
	ErrFeeAndFeerate = errors.New("Cannot specify both 'fee' and 'feerate' at the same time!")
	// ErrNoFee: neither an absolute fee nor a fee rate was given.
	ErrNoFee = errors.New("no fee and no fee rate given")
	// ErrInvalidTx: a string is neither a raw transaction in hex nor a PSBT
	// (base64 or hex).
	ErrInvalidTx = errors.New("invalid transaction: expected a raw transaction in hex or a PSBT in base64")
	// ErrDustOutput: an output is too small to be relayed.
	ErrDustOutput = errors.New("output amount is too small (dust)")
	// ErrNoOutputs: a transaction to build has no outputs.
	ErrNoOutputs = errors.New("no outputs given")
	// ErrCannotBump: bumpfee cannot replace the transaction; the wrapping
	// error says why.
	ErrCannotBump = errors.New("Cannot bump fee")
	// ErrNotLocal: removelocaltx was asked to remove a transaction that the
	// node knows (in its mempool or mined).
	ErrNotLocal = errors.New("Only local transactions can be removed")
	// ErrWatchOnly: an operation needs private keys the wallet does not have.
	ErrWatchOnly = errors.New("This is a watching-only wallet")
	// ErrIncomplete: a transaction to broadcast or add is not fully signed.
	ErrIncomplete = errors.New("transaction is not complete (not all inputs are signed)")
)

// nSequence values of new transactions: BIP125 opt-in replace-by-fee, or
// final but with nLockTime enabled (Electrum's choice when rbf is off).
const (
	SequenceRBF   = wire.MaxTxInSequenceNum - 2 // 0xfffffffd
	SequenceNoRBF = wire.MaxTxInSequenceNum - 1 // 0xfffffffe
)

// Fee policy constants (sat/kvB).
const (
	// MinRelayFeeRate is the default minimum relay fee rate of nodes, which
	// is also BIP125's incremental relay fee rate.
	MinRelayFeeRate = int64(txrules.DefaultRelayFeePerKb)
)

// Payment is one output of a transaction to build.
type Payment struct {
	// Address receives the payment; it must be valid on the wallet's network.
	Address string
	// Amount is the value; Amount.Max ("!") takes what is left after the
	// other outputs and the fee (several Max outputs share it equally).
	Amount Amount
}

// SpendRequest describes a transaction to build. Exactly one of Fee and
// FeeRate must be set.
type SpendRequest struct {
	Outputs []Payment
	// Fee is an absolute fee in satoshis.
	Fee *int64
	// FeeRate is a fee rate in satoshis per 1000 virtual bytes.
	FeeRate *int64
	// FromAddrs restricts the coins to those of these wallet addresses.
	FromAddrs []string
	// FromCoins restricts the coins to these outpoints of the wallet.
	FromCoins []wire.OutPoint
	// ChangeAddr overrides the change address.
	ChangeAddr string
	// ChangeToInput sends change back to the first input's address
	// (Electrum's use_change=false) instead of the change chain.
	ChangeToInput bool
	// RBF signals BIP125 replaceability (nSequence 0xfffffffd).
	RBF bool
	// LockTime overrides nLockTime (default: the current height).
	LockTime *uint32
	// Unsigned asks for an unsigned PSBT even when the wallet can sign.
	Unsigned bool
	// ConfirmedOnly spends only confirmed coins.
	ConfirmedOnly bool
}

// BuiltTx is a transaction built (and signed when possible) by the wallet.
type BuiltTx struct {
	// Tx is the transaction: signed when Complete, else unsigned.
	Tx *wire.MsgTx
	// Packet is the PSBT of an incomplete transaction (nil when Complete).
	Packet *psbt.Packet
	// Fee is the fee in satoshis.
	Fee int64
	// Complete reports whether every input is signed.
	Complete bool
	// ChangeIndex is the change output's index, -1 without change.
	ChangeIndex int
}

// Serialize renders the transaction as Electrum does: the raw transaction
// in hex when it is complete, else the PSBT in base64.
func (b *BuiltTx) Serialize() (string, error) {
	if b.Complete {
		return txHex(b.Tx)
	}
	return b.Packet.B64Encode()
}

func txHex(tx *wire.MsgTx) (string, error) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf.Bytes()), nil
}

// material returns the key material of this call: the engine signs with
// it only when the call's own key string held private keys (see Wallet).
func (w *Wallet) material() (*keys.Material, error) { return w.mat, nil }

// ref returns the wallet's script reference for pkScript.
func (w *Wallet) ref(pkScript []byte) (scriptRef, bool) {
	w.e.mu.RLock()
	defer w.e.mu.RUnlock()
	for _, r := range w.e.index[string(pkScript)] {
		if r.Wallet == w.ID {
			return r, true
		}
	}
	return scriptRef{}, false
}

// finish sets version, locktime and sequences, sorts the transaction as
// BIP69 says (tracking the change output), and signs it or makes a PSBT.
func (w *Wallet) finish(ctx context.Context, mat *keys.Material, s *selected, seq uint32, lockTime uint32,
	sortIt, unsigned bool) (*BuiltTx, error) {
	tx := s.tx
	tx.Version = 2
	tx.LockTime = lockTime
	for _, in := range tx.TxIn {
		in.Sequence = seq
	}
	var change *wire.TxOut
	if s.changeIndex >= 0 {
		change = tx.TxOut[s.changeIndex]
	}
	if sortIt {
		byOp := map[wire.OutPoint]UTXO{}
		for _, u := range s.inputs {
			byOp[u.OutPoint] = u
		}
		txsort.InPlaceSort(tx)
		s.inputs = s.inputs[:0]
		for _, in := range tx.TxIn {
			s.inputs = append(s.inputs, byOp[in.PreviousOutPoint])
		}
	}
	b := &BuiltTx{Tx: tx, Fee: s.fee, ChangeIndex: -1}
	for i, o := range tx.TxOut {
		if o == change {
			b.ChangeIndex = i
		}
	}
	prevs := make([]*wire.TxOut, len(s.inputs))
	for i, u := range s.inputs {
		prevs[i] = wire.NewTxOut(u.Value, u.PkScript)
	}
	if !unsigned && mat.HasPrivateKeys() {
		if err := w.signInputs(tx, prevs, mat, nil); err != nil {
			return nil, err
		}
		b.Complete = true
		return b, nil
	}
	p, err := w.makePSBT(ctx, tx, prevs, mat)
	if err != nil {
		return nil, err
	}
	b.Packet = p
	return b, nil
}

// CreateTransaction builds a transaction paying req.Outputs from the
// wallet's spendable coins (never an immature coinbase output nor a coin
// spent in the mempool), with change to the wallet's first unused change
// address, BIP69 order, nLockTime at the current height and BIP125
// signalling when req.RBF. A wallet with private keys signs it (unless
// req.Unsigned); otherwise the result is an unsigned PSBT with UTXO and
// BIP32 derivation information. Errors: ErrFeeAndFeerate, ErrNoFee,
// ErrNoOutputs, params.ErrInvalidAddress (a bad destination), ErrDustOutput,
// ErrNotEnoughFunds.
func (w *Wallet) CreateTransaction(ctx context.Context, req SpendRequest) (*BuiltTx, error) {
	if req.Fee != nil && req.FeeRate != nil {
		return nil, ErrFeeAndFeerate
	}
	if req.Fee == nil && req.FeeRate == nil {
		return nil, ErrNoFee
	}
	if req.Fee != nil {
		if err := checkFee(*req.Fee); err != nil {
			return nil, err
		}
	}
	if req.FeeRate != nil {
		if err := checkFeeRate(*req.FeeRate); err != nil {
			return nil, err
		}
	}
	if len(req.Outputs) == 0 {
		return nil, ErrNoOutputs
	}
	p := &buildPlan{fee: req.Fee, rate: req.FeeRate}
	var total int64
	for i, o := range req.Outputs {
		if o.Amount.Sats < 0 || o.Amount.Sats > MaxAmount || total+o.Amount.Sats > MaxAmount {
			return nil, fmt.Errorf("%w: the outputs total more than %d satoshis", ErrInvalidAmount, int64(MaxAmount))
		}
		total += o.Amount.Sats
		script, err := w.e.cfg.Net.PkScript(strings.TrimSpace(o.Address))
		if err != nil {
			return nil, err
		}
		out := wire.NewTxOut(o.Amount.Sats, script)
		if o.Amount.Max {
			out.Value = 0
			p.maxIdx = append(p.maxIdx, i)
		} else if txrules.IsDustOutput(out, txrules.DefaultRelayFeePerKb) {
			return nil, fmt.Errorf("%w: %s to %s", ErrDustOutput, FormatFixed(o.Amount.Sats), o.Address)
		}
		p.outputs = append(p.outputs, out)
	}
	mat, err := w.material()
	if err != nil {
		return nil, err
	}
	if p.candidates, err = w.spendableCoins(ctx, &req, nil, nil); err != nil {
		return nil, err
	}
	var first []byte
	if len(p.candidates) > 0 {
		first = p.candidates[0].PkScript
	}
	if len(p.maxIdx) == 0 {
		if p.change, err = w.changeScript(ctx, &req, mat, first); err != nil {
			return nil, err
		}
	}
	s, err := p.run()
	if err != nil {
		return nil, err
	}
	seq := uint32(SequenceNoRBF)
	if req.RBF {
		seq = SequenceRBF
	}
	lock := uint32(max(w.e.Height(), 0))
	if req.LockTime != nil {
		lock = *req.LockTime
	}
	return w.finish(ctx, mat, s, seq, lock, true, req.Unsigned)
}
