package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/btcutil/v2/txsort"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/btcsuite/btcwallet/wallet/txauthor"
	"github.com/btcsuite/btcwallet/wallet/txrules"
	"github.com/btcsuite/btcwallet/wallet/txsizes"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
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
func (w *Wallet) ref(pkScript []byte) (scriptRef, bool) { return w.e.walletRef(w.t, pkScript) }

// Spendable reports whether u can be spent in the next block: not spent in
// the mempool, and not an immature coinbase (Balance's maturity rule).
func Spendable(u UTXO, tip int32) bool {
	if u.SpentBy != "" {
		return false
	}
	if u.Coinbase && (u.Height <= 0 || u.Height+CoinbaseMaturity > tip+1) {
		return false
	}
	return true
}

// spendableCoins lists the coins that may fund a new transaction, ordered
// for selection: grouped by address (Electrum spends an address's coins
// together), groups with only confirmed coins first, then by value.
// Coins of unconfirmed transactions that conflict with another wallet
// transaction (replaced ones) are left out.
func (w *Wallet) spendableCoins(ctx context.Context, req *SpendRequest, exclude map[wire.OutPoint]bool,
	excludeParent *chainhash.Hash) ([]UTXO, error) {
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return nil, err
	}
	frozen, err := w.frozen(ctx)
	if err != nil {
		return nil, err
	}
	tip := w.e.Height()
	var fromScripts map[string]bool
	if len(req.FromAddrs) > 0 {
		fromScripts = map[string]bool{}
		for _, a := range req.FromAddrs {
			s, err := w.e.cfg.Net.PkScript(strings.TrimSpace(a))
			if err != nil {
				return nil, err
			}
			if _, ok := w.ref(s); !ok {
				return nil, fmt.Errorf("%w: %s is not an address of the wallet", keys.ErrUnknownAddress, a)
			}
			fromScripts[string(s)] = true
		}
	}
	var fromCoins map[wire.OutPoint]bool
	if len(req.FromCoins) > 0 {
		fromCoins = map[wire.OutPoint]bool{}
		for _, op := range req.FromCoins {
			fromCoins[op] = true
		}
	}
	conflicted := map[chainhash.Hash]bool{}
	var out []UTXO
	for _, u := range utxos {
		if !Spendable(u, tip) || exclude[u.OutPoint] || frozen.has(u) {
			continue
		}
		if excludeParent != nil && u.OutPoint.Hash == *excludeParent {
			continue
		}
		if req.ConfirmedOnly && u.Height <= 0 {
			continue
		}
		if fromScripts != nil && !fromScripts[string(u.PkScript)] {
			continue
		}
		if fromCoins != nil && !fromCoins[u.OutPoint] {
			continue
		}
		if u.Height <= 0 {
			c, seen := conflicted[u.OutPoint.Hash]
			if !seen {
				if c, err = w.isConflicted(ctx, u.OutPoint.Hash); err != nil {
					return nil, err
				}
				conflicted[u.OutPoint.Hash] = c
			}
			if c {
				continue
			}
		}
		out = append(out, u)
	}
	if fromCoins != nil && len(out) < len(fromCoins) {
		found := map[wire.OutPoint]bool{}
		for _, u := range out {
			found[u.OutPoint] = true
		}
		for op := range fromCoins {
			if !found[op] {
				return nil, fmt.Errorf("%w: coin %s is not a spendable coin of the wallet", ErrNotEnoughFunds, op)
			}
		}
	}
	return orderCoins(out), nil
}

// orderCoins groups coins by address: groups of confirmed coins first,
// larger groups first; within a group, larger coins first; ties by outpoint.
func orderCoins(coins []UTXO) []UTXO {
	type group struct {
		script  string
		coins   []UTXO
		total   int64
		pending bool
	}
	byScript := map[string]*group{}
	var groups []*group
	for _, u := range coins {
		g := byScript[string(u.PkScript)]
		if g == nil {
			g = &group{script: string(u.PkScript)}
			byScript[g.script] = g
			groups = append(groups, g)
		}
		g.coins = append(g.coins, u)
		g.total += u.Value
		g.pending = g.pending || u.Height <= 0
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].pending != groups[j].pending {
			return !groups[i].pending
		}
		if groups[i].total != groups[j].total {
			return groups[i].total > groups[j].total
		}
		return groups[i].script < groups[j].script
	})
	out := make([]UTXO, 0, len(coins))
	for _, g := range groups {
		sort.SliceStable(g.coins, func(i, j int) bool {
			if g.coins[i].Value != g.coins[j].Value {
				return g.coins[i].Value > g.coins[j].Value
			}
			return outpointLess(g.coins[i].OutPoint, g.coins[j].OutPoint)
		})
		out = append(out, g.coins...)
	}
	return out
}

func outpointLess(a, b wire.OutPoint) bool {
	if c := bytes.Compare(a.Hash[:], b.Hash[:]); c != 0 {
		return c < 0
	}
	return a.Index < b.Index
}

// isConflicted reports whether the unconfirmed wallet transaction txid
// spends a wallet coin that another transaction spends (it was replaced or
// double-spent), directly or through an unconfirmed parent.
func (w *Wallet) isConflicted(ctx context.Context, txid chainhash.Hash) (bool, error) {
	conflict := false
	err := w.store().View(ctx, func(kv KV) error {
		seen := map[chainhash.Hash]bool{}
		var visit func(id chainhash.Hash, depth int) error
		visit = func(id chainhash.Hash, depth int) error {
			if seen[id] || depth > 25 || conflict {
				return nil
			}
			seen[id] = true
			var rec txRecord
			ok, err := getRec(kv, bTxs, hashKey(id), &rec)
			if err != nil || !ok || rec.Height > 0 || rec.Coinbase {
				return err
			}
			tx := wire.NewMsgTx(0)
			if err := tx.Deserialize(bytes.NewReader(rec.Raw)); err != nil {
				return err
			}
			for _, in := range tx.TxIn {
				var u utxoRecord
				ok, err := getRec(kv, bUTXOs, key(w.t.wk(), outpointKey(in.PreviousOutPoint)), &u)
				if err != nil {
					return err
				}
				if ok && u.SpentBy != "" && u.SpentBy != id.String() {
					conflict = true
					return nil
				}
				if ok && u.Height <= 0 {
					if err := visit(in.PreviousOutPoint.Hash, depth+1); err != nil {
						return err
					}
				}
			}
			return nil
		}
		return visit(txid, 0)
	})
	return conflict, err
}

// changeScript picks the change output script: the requested address, the
// first input's address (imported wallets, use_change off), or the wallet's
// first change address without history; when every derived change address
// has history, the last one is reused (Electrum reuses one of the last
// gap-limit ones).
func (w *Wallet) changeScript(ctx context.Context, req *SpendRequest, mat *keys.Material, firstInput []byte) ([]byte, error) {
	if req.ChangeAddr != "" {
		return w.e.cfg.Net.PkScript(strings.TrimSpace(req.ChangeAddr))
	}
	if !mat.Deterministic() || req.ChangeToInput {
		if firstInput == nil {
			return nil, ErrNotEnoughFunds
		}
		return firstInput, nil
	}
	addrs, err := w.Addresses(ctx)
	if err != nil {
		return nil, err
	}
	var last []byte
	for _, a := range addrs {
		if !a.Change {
			continue
		}
		if !a.Used {
			return a.PkScript, nil
		}
		last = a.PkScript
	}
	if last != nil {
		return last, nil
	}
	k, err := mat.Derive(true, 0)
	if err != nil {
		return nil, err
	}
	return k.PkScript, nil
}

// inputCounts classifies input scripts as txsizes counts them.
func inputCounts(scripts [][]byte) (p2pkh, p2tr, p2wpkh, nested int) {
	for _, s := range scripts {
		switch {
		case txscript.IsPayToScriptHash(s):
			nested++
		case txscript.IsPayToWitnessPubKeyHash(s):
			p2wpkh++
		case txscript.IsPayToTaproot(s):
			p2tr++
		default:
			p2pkh++
		}
	}
	return
}

// estimateVSize is txsizes' worst-case virtual size of a signed transaction
// spending scripts and paying outs (plus a change output of changeSize
// script bytes when changeSize > 0).
func estimateVSize(scripts [][]byte, outs []*wire.TxOut, changeSize int) int {
	a, b, c, d := inputCounts(scripts)
	return txsizes.EstimateVirtualSize(a, b, c, d, outs, changeSize)
}

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

// bumpAttempts is how many fee rates BumpFee tries (a variable for
// tests).
var bumpAttempts = 4

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

// FeeForVSize returns the fee of vsize virtual bytes at rate sat/kvB,
// rounded down as txrules does (never zero for a positive rate), or
// ErrInvalidAmount when rate or vsize is out of range (so the product
// cannot overflow).
func FeeForVSize(rate int64, vsize int64) (int64, error) {
	if err := checkFeeRate(rate); err != nil {
		return 0, err
	}
	if vsize < 0 || vsize > MaxTxVSize {
		return 0, fmt.Errorf("%w: size %d vbytes is out of range (0 to %d)", ErrInvalidAmount, vsize, MaxTxVSize)
	}
	return feeFor(rate, int(vsize)), nil
}

// feeFor returns the fee of vsize virtual bytes at rate sat/kvB, rounded
// down as txrules does (never zero for a positive rate). rate is checked
// (checkFeeRate) and vsize is a built transaction's: the product fits.
func feeFor(rate int64, vsize int) int64 {
	return int64(txrules.FeeForSerializeSize(btcutil.Amount(rate), vsize))
}

// buildPlan is the coin-selection part of a build.
type buildPlan struct {
	outputs    []*wire.TxOut // fixed outputs (Max ones with value 0)
	maxIdx     []int         // indexes of Max outputs
	must       []UTXO        // inputs that are always spent (bumpfee)
	candidates []UTXO        // coins that may be added
	fee        *int64
	rate       *int64
	change     []byte
}

// selected is the result of selection.
type selected struct {
	tx          *wire.MsgTx
	inputs      []UTXO
	fee         int64
	changeIndex int
}

// run runs coin selection with txauthor (fee rate or absolute fee), or
// spends every candidate for Max outputs.
func (p *buildPlan) run() (*selected, error) {
	if len(p.maxIdx) > 0 {
		return p.runMax()
	}
	byOp := map[wire.OutPoint]UTXO{}
	all := append(append([]UTXO{}, p.must...), p.candidates...)
	for _, u := range all {
		byOp[u.OutPoint] = u
	}
	// An absolute fee runs txauthor at rate 0 with the fee taken out of
	// the inputs' value, so its change (and dust rule) already net it.
	var extra int64
	rate := int64(0)
	if p.fee != nil {
		extra = *p.fee
	} else {
		rate = *p.rate
	}
	source := func(target btcutil.Amount) (btcutil.Amount, []*wire.TxIn, []btcutil.Amount, [][]byte, error) {
		var total btcutil.Amount
		var ins []*wire.TxIn
		var vals []btcutil.Amount
		var scripts [][]byte
		need := target + btcutil.Amount(extra)
		for i, u := range all {
			if i >= len(p.must) && total >= need {
				break
			}
			op := u.OutPoint
			ins = append(ins, wire.NewTxIn(&op, nil, nil))
			vals = append(vals, btcutil.Amount(u.Value))
			scripts = append(scripts, u.PkScript)
			total += btcutil.Amount(u.Value)
		}
		return total - btcutil.Amount(extra), ins, vals, scripts, nil
	}
	change := &txauthor.ChangeSource{
		NewScript:  func() ([]byte, error) { return p.change, nil },
		ScriptSize: len(p.change),
	}
	outs := make([]*wire.TxOut, len(p.outputs))
	for i, o := range p.outputs {
		outs[i] = wire.NewTxOut(o.Value, o.PkScript)
	}
	atx, err := txauthor.NewUnsignedTransaction(outs, btcutil.Amount(rate), source, change)
	if err != nil {
		var ise txauthor.InputSourceError
		if errors.As(err, &ise) {
			return nil, ErrNotEnoughFunds
		}
		return nil, err
	}
	s := &selected{tx: atx.Tx, changeIndex: atx.ChangeIndex}
	var in, out int64
	for _, txin := range atx.Tx.TxIn {
		u := byOp[txin.PreviousOutPoint]
		s.inputs = append(s.inputs, u)
		in += u.Value
	}
	for _, o := range atx.Tx.TxOut {
		out += o.Value
	}
	s.fee = in - out
	return s, nil
}

// runMax spends every candidate (and must input): the Max outputs share
// what is left after the fixed outputs and the fee; there is no change.
func (p *buildPlan) runMax() (*selected, error) {
	inputs := append(append([]UTXO{}, p.must...), p.candidates...)
	if len(inputs) == 0 {
		return nil, ErrNotEnoughFunds
	}
	tx := wire.NewMsgTx(2)
	var total int64
	scripts := make([][]byte, 0, len(inputs))
	for _, u := range inputs {
		op := u.OutPoint
		tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
		total += u.Value
		scripts = append(scripts, u.PkScript)
	}
	var fixed int64
	for _, o := range p.outputs {
		tx.AddTxOut(wire.NewTxOut(o.Value, o.PkScript))
		fixed += o.Value
	}
	var fee int64
	if p.fee != nil {
		fee = *p.fee
	} else {
		fee = feeFor(*p.rate, estimateVSize(scripts, tx.TxOut, 0))
	}
	left := total - fixed - fee
	n := int64(len(p.maxIdx))
	if left <= 0 || left/n <= 0 {
		return nil, ErrNotEnoughFunds
	}
	share := left / n
	for k, i := range p.maxIdx {
		v := share
		if k == 0 {
			v += left - share*n
		}
		tx.TxOut[i].Value = v
		if txrules.IsDustOutput(tx.TxOut[i], txrules.DefaultRelayFeePerKb) {
			return nil, ErrNotEnoughFunds
		}
	}
	return &selected{tx: tx, inputs: inputs, fee: fee, changeIndex: -1}, nil
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

// keyForScript returns the private key that spends pkScript in this
// wallet (the caller zeroes it), or nil when the script is not the
// wallet's. Only p2pkh, p2wpkh-p2sh and p2wpkh scripts are signed.
func (w *Wallet) keyForScript(mat *keys.Material, pkScript []byte) (*btcec.PrivateKey, error) {
	r, ok := w.ref(pkScript)
	if !ok {
		return nil, nil
	}
	if mat.Deterministic() {
		return mat.PrivKey(r.Change, r.Index)
	}
	addr, ok := w.e.cfg.Net.AddressFromScript(pkScript)
	if !ok {
		return nil, nil
	}
	return mat.ImportedPrivKey(addr)
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

// signInputs signs every input of tx whose prevout (prevs[i], nil when
// unknown) is the wallet's and, when only is non-nil, only[i] is true. Every
// signed input is verified with the script engine. It returns an error when
// an input of the wallet cannot be signed.
func (w *Wallet) signInputs(tx *wire.MsgTx, prevs []*wire.TxOut, mat *keys.Material, only []bool) error {
	fetcher := prevFetcher(tx, prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i := range tx.TxIn {
		if prevs[i] == nil || only != nil && !only[i] {
			continue
		}
		key, err := w.keyForScript(mat, prevs[i].PkScript)
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if key == nil {
			if only != nil {
				continue
			}
			return fmt.Errorf("signing input %d: not a key of the wallet", i)
		}
		sig, wit, ok, err := signInput(tx, i, prevs[i], key, hashes)
		key.Zero()
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if !ok {
			return fmt.Errorf("signing input %d: unsupported script type", i)
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

// VSize returns the virtual size of a signed transaction.
func VSize(tx *wire.MsgTx) int {
	weight := tx.SerializeSizeStripped()*3 + tx.SerializeSize()
	return (weight + 3) / 4
}

// inputSigned reports whether an input carries signature data.
func inputSigned(in *wire.TxIn) bool { return len(in.SignatureScript) > 0 || len(in.Witness) > 0 }

// EstimateVSize returns the virtual size of a transaction as Electrum's
// estimated_size does: the real size when every input is signed, else
// txsizes' estimate of the signed transaction, classifying each input by
// its previous output script (from the PSBT, the engine's stored
// transactions, or the node; p2wpkh when unknown).
func (e *Engine) EstimateVSize(ctx context.Context, tx *wire.MsgTx, p *psbt.Packet) int {
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
		return VSize(tx)
	}
	p2wpkh := wire.NewTxOut(0, append([]byte{txscript.OP_0, txscript.OP_DATA_20}, make([]byte, 20)...))
	scripts := make([][]byte, len(tx.TxIn))
	for i, in := range tx.TxIn {
		var prev *wire.TxOut
		if p != nil {
			prev = psbtPrevOut(p, i)
		}
		if prev == nil {
			prev = e.prevOut(ctx, in.PreviousOutPoint)
		}
		if prev == nil {
			prev = p2wpkh
		}
		scripts[i] = prev.PkScript
	}
	return estimateVSize(scripts, tx.TxOut, 0)
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

// SignTransaction signs what it can of a PSBT (base64 or hex) or a raw
// transaction (hex) with the wallet's keys, as Electrum's signtransaction:
// the result is the raw transaction in hex when every input is signed,
// else the PSBT in base64 (a raw transaction stays hex). Inputs are
// matched to the wallet by their previous output script (from the PSBT,
// the stored transactions or the node), or by a BIP32 derivation from the
// wallet's account key. A watch-only wallet returns the transaction as it
// came. Errors: ErrInvalidTx.
func (w *Wallet) SignTransaction(ctx context.Context, s string) (string, error) {
	tx, p, err := DecodeTransaction(s)
	if err != nil {
		return "", err
	}
	mat, err := w.material()
	if err != nil {
		return "", err
	}
	if p == nil {
		if !mat.HasPrivateKeys() {
			return txHex(tx)
		}
		prevs := make([]*wire.TxOut, len(tx.TxIn))
		only := make([]bool, len(tx.TxIn))
		for i, in := range tx.TxIn {
			if inputSigned(in) {
				continue
			}
			prevs[i] = w.e.prevOut(ctx, in.PreviousOutPoint)
			only[i] = true
		}
		if err := w.signInputs(tx, prevs, mat, only); err != nil {
			return "", err
		}
		return txHex(tx)
	}
	if mat.HasPrivateKeys() {
		if err := w.signPSBT(ctx, p, mat); err != nil {
			return "", err
		}
	}
	if p.IsComplete() {
		ftx, err := psbt.Extract(p)
		if err != nil {
			return "", err
		}
		return txHex(ftx)
	}
	return p.B64Encode()
}

// signPSBT signs and finalizes every input of p the wallet can sign.
func (w *Wallet) signPSBT(ctx context.Context, p *psbt.Packet, mat *keys.Material) error {
	tx := p.UnsignedTx.Copy()
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	for i, in := range tx.TxIn {
		prevs[i] = psbtPrevOut(p, i)
		if prevs[i] == nil {
			prevs[i] = w.e.prevOut(ctx, in.PreviousOutPoint)
		}
	}
	fetcher := prevFetcher(tx, prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	fp, haveFP := accountFingerprint(w.t.rec.MPK)
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
		sig, wit, ok, err := signInput(tx, i, prevs[i], key, hashes)
		key.Zero()
		if err != nil {
			return fmt.Errorf("signing input %d: %w", i, err)
		}
		if !ok {
			continue
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
		pin.FinalScriptSig = sig
		if len(wit) > 0 {
			var buf bytes.Buffer
			if err := psbtWitness(&buf, wit); err != nil {
				return err
			}
			pin.FinalScriptWitness = buf.Bytes()
		}
		pin.PartialSigs, pin.SighashType, pin.RedeemScript, pin.WitnessScript, pin.Bip32Derivation = nil, 0, nil, nil, nil
	}
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
// foreign inputs, rate not higher) or are ErrNotEnoughFunds.
func (w *Wallet) BumpFee(ctx context.Context, tx *wire.MsgTx, feeRate int64, opt BumpOptions) (*BuiltTx, error) {
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
	p := &buildPlan{rate: &feeRate}
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
		vs := int64(estimateVSize(scriptsOf(s.inputs), s.tx.TxOut, 0))
		minFee := oldFee + MinRelayFeeRate*vs/1000
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

// RemoveLocalTransaction removes a local transaction (one the node does not
// know: never broadcast, or dropped) and the wallet transactions that
// depend on it from every wallet: their outputs disappear, the coins they
// spent are unspent again, and requests they paid are re-evaluated (with
// events). A transaction the node knows, or a mined one, is ErrNotLocal;
// an unknown one ErrTxNotFound.
func (e *Engine) RemoveLocalTransaction(ctx context.Context, txid chainhash.Hash) error {
	if e.cfg.Backend != nil {
		if _, err := e.cfg.Backend.Transaction(ctx, txid); err == nil {
			return fmt.Errorf("%w: the node knows transaction %s", ErrNotLocal, txid)
		} else if !errors.Is(err, chain.ErrNotFound) {
			return err
		}
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	var ap *applier
	err := e.update(ctx, func(s kvs) error {
		ap = newApplier(e, s)
		known := false
		// Each store (durable, and volatile for diskless wallets) holds its
		// own copy of the transaction and its wallets' records.
		for _, kv := range s.all() {
			found, err := ap.removeTx(kv, txid, true)
			if err != nil {
				return err
			}
			known = known || found
		}
		if !known {
			return ErrTxNotFound
		}
		var err error
		ap.logged, err = ap.finish(e.cursorRef().Height)
		return err
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	ap.installOwned()
	e.mu.Unlock()
	e.publish(ap.logged)
	return nil
}

// messageHash is Electrum's (and Bitcoin Core's) signed-message digest:
// double SHA-256 of the network's magic ("\x18Bitcoin Signed Message:\n"),
// varint(len), message.
func messageHash(n *params.Network, message string) []byte {
	var buf bytes.Buffer
	buf.WriteString(n.MessageMagic)
	_ = wire.WriteVarInt(&buf, 0, uint64(len(message)))
	buf.WriteString(message)
	first := sha256.Sum256(buf.Bytes())
	second := sha256.Sum256(first[:])
	return second[:]
}

// SignMessage signs message with the key of one of the wallet's addresses
// as Electrum's signmessage does: a 65-byte compact recoverable signature
// (header 27+recid, +4 for a compressed key) over messageHash, in base64.
// keys.ErrUnknownAddress when the address is not the wallet's,
// ErrWatchOnly without private keys.
func (w *Wallet) SignMessage(ctx context.Context, addr, message string) (string, error) {
	script, err := w.e.cfg.Net.PkScript(strings.TrimSpace(addr))
	if err != nil {
		return "", err
	}
	mat, err := w.material()
	if err != nil {
		return "", err
	}
	if !mat.HasPrivateKeys() {
		return "", ErrWatchOnly
	}
	if _, ok := w.ref(script); !ok {
		return "", keys.ErrUnknownAddress
	}
	key, err := w.keyForScript(mat, script)
	if err != nil {
		return "", err
	}
	if key == nil {
		return "", keys.ErrUnknownAddress
	}
	defer key.Zero()
	compressed := true
	if txscript.IsPayToPubKeyHash(script) {
		compressed = bytes.Equal(script[3:23], address.Hash160(key.PubKey().SerializeCompressed()))
	}
	sig := ecdsa.SignCompact(key, messageHash(w.e.cfg.Net, message), compressed)
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyMessage checks a base64 compact signature of message by address
// as Electrum's verifymessage: the public key recovered from the signature
// must give address as p2pkh, p2wpkh or p2wpkh-p2sh (BIP137 headers 35-42
// are accepted too). Anything malformed is false.
func VerifyMessage(n *params.Network, addr, signature, message string) bool {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(sig) != 65 {
		return false
	}
	want, err := n.PkScript(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	sig = append([]byte(nil), sig...)
	types := []params.ScriptType{params.P2PKH, params.P2WPKH, params.P2WPKHP2SH}
	switch h := sig[0]; {
	case h >= 27 && h < 35:
	case h >= 35 && h < 39:
		sig[0] = h - 4
		types = []params.ScriptType{params.P2WPKHP2SH}
	case h >= 39 && h < 43:
		sig[0] = h - 8
		types = []params.ScriptType{params.P2WPKH}
	default:
		return false
	}
	pub, compressed, err := ecdsa.RecoverCompact(sig, messageHash(n, message))
	if err != nil {
		return false
	}
	pubBytes := pub.SerializeCompressed()
	if !compressed {
		pubBytes = pub.SerializeUncompressed()
	}
	for _, t := range types {
		if !compressed && t != params.P2PKH {
			continue
		}
		if _, script, err := n.PubKeyAddress(t, pubBytes); err == nil && bytes.Equal(script, want) {
			return true
		}
	}
	return false
}
