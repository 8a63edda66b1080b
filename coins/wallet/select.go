package wallet

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
)

// Spendable reports whether u can be spent in the next block as plain
// coin: not spent in the mempool, not an immature coinbase (Balance's
// maturity rule), and carrying no tokens.
func Spendable(u UTXO, tip int32) bool {
	if u.SpentBy != "" || u.Token {
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
			ok, err := getTx(kv, hashKey(id), &rec)
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

// buildPlan is the coin-selection part of a build.
type buildPlan struct {
	outputs    []*wire.TxOut // fixed outputs (Max ones with value 0)
	maxIdx     []int         // indexes of Max outputs
	must       []UTXO        // inputs that are always spent (bumpfee)
	candidates []UTXO        // coins that may be added
	fee        *int64
	rate       *int64
	change     []byte

	coin      *Coin
	pubKeyLen func(pkScript []byte) int // the signing key's length (0: compressed)
}

// newPlan starts a build with the wallet's coin and key material.
func (w *Wallet) newPlan(mat *keys.Material) *buildPlan {
	return &buildPlan{coin: &w.e.cfg.Coin, pubKeyLen: func(pkScript []byte) int { return w.pubKeyLen(mat, pkScript) }}
}

// pubKeyLen returns the length of the public key that signs pkScript in
// the wallet: 65 for an Electrum 1.x wallet and uncompressed imported keys,
// else 0 (compressed).
func (w *Wallet) pubKeyLen(mat *keys.Material, pkScript []byte) int {
	if mat == nil {
		return 0
	}
	if mat.Old() {
		return 65
	}
	if mat.Deterministic() {
		return 0
	}
	if r, ok := w.ref(pkScript); ok {
		if imp := mat.Imported(); int(r.Index) < len(imp) && bytes.Equal(imp[r.Index].PkScript, pkScript) {
			return len(imp[r.Index].PubKey)
		}
	}
	return 0
}

// selected is the result of selection.
type selected struct {
	tx          *wire.MsgTx
	inputs      []UTXO
	fee         int64
	changeIndex int
}

// size is the coin's estimate of the signed size of a transaction spending
// scripts (nil: a script of the coin's usual kind) and paying outs, plus a
// change output of changeLen script bytes when changeLen > 0.
func (p *buildPlan) size(scripts [][]byte, outs []*wire.TxOut, changeLen int) int {
	tx := &wire.MsgTx{Version: 1, TxIn: make([]*wire.TxIn, len(scripts)), TxOut: outs}
	prevs := make([]*wire.TxOut, len(scripts))
	lens := make([]int, len(scripts))
	for i, s := range scripts {
		tx.TxIn[i] = &wire.TxIn{}
		if s != nil {
			prevs[i] = &wire.TxOut{PkScript: s}
			lens[i] = p.pubKeyLen(s)
		}
	}
	if changeLen > 0 {
		tx.TxOut = append(outs[:len(outs):len(outs)], &wire.TxOut{PkScript: make([]byte, changeLen)})
	}
	return p.coin.Signer.EstimateSize(tx, prevs, lens)
}

// run selects coins for a fee rate or an absolute fee, or spends every
// candidate for Max outputs. The selection is btcwallet's txauthor with
// the coin's size, fee and dust rules: take coins in order until they pay
// the outputs and the fee of a transaction spending them (with a change
// output), and add the change unless it is zero or dust (then it goes to
// the fee). For Bitcoin it gives exactly what txauthor gives.
func (p *buildPlan) run() (*selected, error) {
	if len(p.maxIdx) > 0 {
		return p.runMax()
	}
	all := append(append([]UTXO{}, p.must...), p.candidates...)
	// An absolute fee runs at rate 0 with the fee taken out of the
	// inputs' value, so its change (and dust rule) already net it.
	var extra int64
	rate := int64(0)
	if p.fee != nil {
		extra = *p.fee
	} else {
		rate = *p.rate
	}
	outs := make([]*wire.TxOut, len(p.outputs))
	var target int64
	for i, o := range p.outputs {
		outs[i] = wire.NewTxOut(o.Value, o.PkScript)
		target += o.Value
	}
	feeFor := p.coin.Policy.FeeFor
	targetFee := feeFor(rate, p.size([][]byte{nil}, outs, len(p.change)))
	for {
		var total int64
		n := 0
		for i, u := range all {
			if i >= len(p.must) && total >= target+targetFee+extra {
				break
			}
			total += u.Value
			n++
		}
		inputAmount := total - extra
		if inputAmount < target+targetFee {
			return nil, ErrNotEnoughFunds
		}
		scripts := make([][]byte, n)
		for i, u := range all[:n] {
			scripts[i] = u.PkScript
		}
		required := feeFor(rate, p.size(scripts, outs, len(p.change)))
		if inputAmount-target < required {
			targetFee = required
			continue
		}
		tx := &wire.MsgTx{Version: wire.TxVersion, TxOut: outs}
		s := &selected{tx: tx, changeIndex: -1, inputs: all[:n:n]}
		for _, u := range s.inputs {
			op := u.OutPoint
			tx.TxIn = append(tx.TxIn, wire.NewTxIn(&op, nil, nil))
		}
		changeAmount := inputAmount - target - required
		change := wire.NewTxOut(changeAmount, p.change)
		if changeAmount != 0 && !p.coin.Policy.Dust(change) {
			tx.TxOut = append(outs[:len(outs):len(outs)], change)
			s.changeIndex = len(outs)
		}
		var out int64
		for _, o := range tx.TxOut {
			out += o.Value
		}
		s.fee = total - out
		return s, nil
	}
}

// runMax spends every candidate (and must input): the Max outputs share
// what is left after the fixed outputs and the fee; there is no change.
func (p *buildPlan) runMax() (*selected, error) {
	inputs := append(append([]UTXO{}, p.must...), p.candidates...)
	if len(inputs) == 0 {
		return nil, ErrNotEnoughFunds
	}
	tx := wire.NewMsgTx(p.coin.Policy.TxVersion)
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
		fee = p.coin.Policy.FeeFor(*p.rate, p.size(scripts, tx.TxOut, 0))
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
		if p.coin.Policy.Dust(tx.TxOut[i]) {
			return nil, ErrNotEnoughFunds
		}
	}
	return &selected{tx: tx, inputs: inputs, fee: fee, changeIndex: -1}, nil
}
