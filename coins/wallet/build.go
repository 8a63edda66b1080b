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

	"github.com/walletd/walletd/coins/amount"
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
	// ErrRBFUnsupported: bumpfee on a coin without replace-by-fee (BCH).
	ErrRBFUnsupported = errors.New("this coin has no replace-by-fee: a transaction cannot be bumped")
	// ErrPSBTUnsupported: a PSBT was given to a coin without BIP174.
	ErrPSBTUnsupported = errors.New("this coin has no PSBT: give a raw transaction in hex")
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
	// RBF signals BIP125 replaceability (nSequence 0xfffffffd) on a coin
	// with Caps.RBF; elsewhere it is ignored.
	RBF bool
	// LockTime overrides nLockTime (default: the current height).
	LockTime *uint32
	// Unsigned asks for an unsigned transaction (a PSBT on a coin with
	// Caps.PSBT) even when the wallet can sign.
	Unsigned bool
	// ConfirmedOnly spends only confirmed coins.
	ConfirmedOnly bool
}

// BuiltTx is a transaction built (and signed when possible) by the wallet.
type BuiltTx struct {
	// Tx is the transaction: signed when Complete, else unsigned.
	Tx *wire.MsgTx
	// Packet is the PSBT of an incomplete transaction on a coin with
	// Caps.PSBT (nil when Complete).
	Packet *psbt.Packet
	// Inputs say, on a coin without Caps.PSBT, what spends each input of
	// an incomplete transaction (nil when Complete), for the coin's own
	// unsigned-transaction format.
	Inputs []InputOrigin
	// Fee is the fee in satoshis.
	Fee int64
	// Complete reports whether every input is signed.
	Complete bool
	// ChangeIndex is the change output's index, -1 without change.
	ChangeIndex int
}

// InputOrigin is one input of an unsigned transaction: the output it spends
// and the wallet key that will sign it.
type InputOrigin struct {
	// Prev is the output the input spends.
	Prev *wire.TxOut
	// PubKey is the public key that signs it (nil for an imported address
	// without keys).
	PubKey []byte
	// Derived is true for a key of a deterministic wallet, at Change/Index
	// below the account key (MPK).
	Derived bool
	Change  bool
	Index   uint32
	// MPK is the wallet's master public key (xpub, or an old wallet's
	// 128 hex digits); Old is true for an Electrum 1.x wallet.
	MPK string
	Old bool
}

// Serialize renders the transaction as Electrum does: the raw transaction
// in hex when it is complete, else the PSBT in base64. On a coin without
// PSBT an incomplete transaction is its unsigned raw transaction in hex (the
// daemon renders the coin's own format from Inputs).
func (b *BuiltTx) Serialize() (string, error) {
	if b.Complete || b.Packet == nil {
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

// origins says what signs each input of an unsigned transaction.
func (w *Wallet) origins(mat *keys.Material, prevs []*wire.TxOut) []InputOrigin {
	out := make([]InputOrigin, len(prevs))
	for i, p := range prevs {
		o := InputOrigin{Prev: p, MPK: mat.MasterPublicKey(), Old: mat.Old()}
		if p != nil {
			if pub, path, ok := w.keyInfo(mat, p.PkScript); ok {
				o.PubKey = pub
				if path != nil {
					o.Derived, o.Change, o.Index = true, path[0] == 1, path[1]
				}
			}
		}
		out[i] = o
	}
	return out
}

// ref returns the wallet's script reference for pkScript.
func (w *Wallet) ref(pkScript []byte) (scriptRef, bool) { return w.e.walletRef(w.t, pkScript) }

// finish sets the coin's version, locktime and sequences, sorts the
// transaction as BIP69 says (tracking the change output), and signs it, or
// makes a PSBT (Caps.PSBT) or lists its inputs' origins.
func (w *Wallet) finish(ctx context.Context, mat *keys.Material, s *selected, seq uint32, lockTime uint32,
	sortIt, unsigned bool) (*BuiltTx, error) {
	tx := s.tx
	tx.Version = w.e.cfg.Coin.Policy.TxVersion
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
	if !w.e.cfg.Coin.Caps.PSBT {
		b.Inputs = w.origins(mat, prevs)
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
// signalling when req.RBF on a coin with RBF. A wallet with private keys
// signs it (unless req.Unsigned); otherwise the result is an unsigned PSBT
// with UTXO and BIP32 derivation information (on a coin without PSBT, the
// unsigned transaction and its inputs' origins). Errors: ErrFeeAndFeerate, ErrNoFee,
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
	mat, err := w.material()
	if err != nil {
		return nil, err
	}
	p := w.newPlan(mat)
	p.fee, p.rate = req.Fee, req.FeeRate
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
		} else if w.e.cfg.Coin.Policy.Dust(out) {
			return nil, fmt.Errorf("%w: %s to %s", ErrDustOutput, amount.Fixed(o.Amount.Sats), o.Address)
		}
		p.outputs = append(p.outputs, out)
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
	seq := w.e.cfg.Coin.Policy.Sequence
	if req.RBF && w.e.cfg.Coin.Caps.RBF {
		seq = SequenceRBF
	}
	lock := uint32(max(w.e.Height(), 0))
	if req.LockTime != nil {
		lock = *req.LockTime
	}
	return w.finish(ctx, mat, s, seq, lock, true, req.Unsigned)
}
