package wallet

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/btcsuite/btcwallet/wallet/txauthor"

	"github.com/walletd/walletd/coins/params"
)

// txauthorRun is the selection walletd ran before the family refactor:
// btcwallet's txauthor with btcd's size, fee and dust rules.
func txauthorRun(p *buildPlan) (*selected, error) {
	byOp := map[wire.OutPoint]UTXO{}
	all := append(append([]UTXO{}, p.must...), p.candidates...)
	for _, u := range all {
		byOp[u.OutPoint] = u
	}
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
	change := &txauthor.ChangeSource{NewScript: func() ([]byte, error) { return p.change, nil }, ScriptSize: len(p.change)}
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

// TestSelectionIsTxauthorForBitcoin: the family's coin selection, given the
// Bitcoin description, picks the same inputs, change and fee as txauthor
// did, over random wallets of every script type, rates and absolute fees.
func TestSelectionIsTxauthorForBitcoin(t *testing.T) {
	net, _ := params.BTC("regtest")
	coin := Bitcoin(net)
	scripts := [][]byte{
		append(append([]byte{0x76, 0xa9, 20}, make([]byte, 20)...), 0x88, 0xac), // p2pkh
		append([]byte{0x00, 20}, make([]byte, 20)...),                           // p2wpkh
		append(append([]byte{0xa9, 20}, make([]byte, 20)...), 0x87),             // p2sh
		append([]byte{0x51, 32}, make([]byte, 32)...),                           // p2tr
	}
	rng := rand.New(rand.NewPCG(1, 2))
	same, enough := 0, 0
	for n := 0; n < 3000; n++ {
		p := &buildPlan{coin: &coin, pubKeyLen: func([]byte) int { return 0 }}
		for i := 0; i < 1+rng.IntN(8); i++ {
			u := UTXO{Value: 300 + rng.Int64N(200_000), PkScript: scripts[rng.IntN(len(scripts))]}
			u.OutPoint = wire.OutPoint{Hash: chainhash.Hash{byte(n), byte(n >> 8), byte(i)}, Index: uint32(i)}
			if i == 0 && rng.IntN(4) == 0 {
				p.must = append(p.must, u)
			} else {
				p.candidates = append(p.candidates, u)
			}
		}
		for i := 0; i < 1+rng.IntN(3); i++ {
			p.outputs = append(p.outputs, wire.NewTxOut(546+rng.Int64N(150_000), scripts[rng.IntN(len(scripts))]))
		}
		p.change = scripts[rng.IntN(len(scripts))]
		if rng.IntN(3) == 0 {
			fee := rng.Int64N(5000)
			p.fee = &fee
		} else {
			rate := rng.Int64N(60_000)
			p.rate = &rate
		}
		got, err1 := p.run()
		want, err2 := txauthorRun(p)
		if !errors.Is(err1, err2) && (err1 != nil || err2 != nil) {
			t.Fatalf("case %d: run %v, txauthor %v", n, err1, err2)
		}
		if err1 != nil {
			continue
		}
		enough++
		if got.fee != want.fee || got.changeIndex != want.changeIndex || len(got.inputs) != len(want.inputs) ||
			len(got.tx.TxOut) != len(want.tx.TxOut) {
			t.Fatalf("case %d: run fee %d change %d inputs %d outs %d; txauthor %d %d %d %d", n, got.fee, got.changeIndex,
				len(got.inputs), len(got.tx.TxOut), want.fee, want.changeIndex, len(want.inputs), len(want.tx.TxOut))
		}
		for i, o := range got.tx.TxOut {
			if o.Value != want.tx.TxOut[i].Value {
				t.Fatalf("case %d: output %d is %d, txauthor %d", n, i, o.Value, want.tx.TxOut[i].Value)
			}
		}
		same++
	}
	if enough < 1000 {
		t.Fatalf("only %d of 3000 cases could pay: the test is too weak", enough)
	}
	t.Logf("%d selections agree", same)
}
