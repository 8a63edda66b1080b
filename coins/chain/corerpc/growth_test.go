package corerpc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// payTx returns a transaction spending prev (zero: a fresh coin) and paying
// value to each of scripts.
func payTx(prev wire.OutPoint, value int64, scripts ...[]byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&prev, nil, nil))
	for _, s := range scripts {
		tx.AddTxOut(wire.NewTxOut(value, s))
	}
	return tx
}

// p2wpkh returns a P2WPKH script of a made-up key hash ending in tag.
func p2wpkh(tag byte) []byte {
	s := make([]byte, 22)
	s[0], s[1], s[21] = 0x00, 0x14, tag
	return s
}

// TestOutpointsPruned: an outpoint learned from an output paying a watched
// script stays watched while unspent, and once spent until the spend is
// depth blocks deep, then leaves the set; a disconnected block undoes the
// spends recorded in it (the outpoint is watched again, and not pruned).
func TestOutpointsPruned(t *testing.T) {
	watched := p2wpkh(0x01)
	other := p2wpkh(0x02)
	m := newMatcher()
	m.scripts[string(watched)] = struct{}{}
	const depth = 3

	fund := payTx(wire.OutPoint{Hash: chainhash.Hash{9}}, 1000, watched, watched)
	op0 := wire.OutPoint{Hash: fund.TxHash(), Index: 0}
	op1 := wire.OutPoint{Hash: fund.TxHash(), Index: 1}
	m.spentIn(10, m.matchAll([]*wire.MsgTx{fund}), depth)
	if len(m.outpoints) != 2 {
		t.Fatalf("%d outpoints learned, want 2", len(m.outpoints))
	}
	spend := payTx(op0, 900, other)
	if rel := m.matchAll([]*wire.MsgTx{spend}); len(rel) != 1 {
		t.Fatalf("the spend of a watched outpoint is not relevant")
	}
	m.spentIn(11, []*wire.MsgTx{spend}, depth)
	block := func(h int32) { m.spentIn(h, nil, depth) }
	block(12)
	block(13)
	if _, ok := m.outpoints[op0]; !ok {
		t.Fatal("pruned before the spend is 3 blocks deep")
	}
	// Block 13 is replaced, and so is 12 and 11: the spend is undone.
	m.unspentFrom(11)
	block(11)
	block(12)
	block(13)
	block(14)
	if _, ok := m.outpoints[op0]; !ok {
		t.Fatal("an outpoint whose spend was disconnected left the set")
	}
	// Mined again at 15, pruned once 18 is connected.
	m.spentIn(15, []*wire.MsgTx{spend}, depth)
	block(16)
	block(17)
	if _, ok := m.outpoints[op0]; !ok {
		t.Fatal("pruned too early")
	}
	block(18)
	if _, ok := m.outpoints[op0]; ok {
		t.Fatal("a spent outpoint 3 blocks deep is still watched")
	}
	if _, ok := m.outpoints[op1]; !ok || len(m.outpoints) != 1 || len(m.spent) != 0 {
		t.Fatalf("outpoints %v spent %v: want only the unspent one", m.outpoints, m.spent)
	}
}

// TestLearnFromSkipsDeepSpends: History's results add to the watched set
// the outputs paying a watched script, except those it shows spent
// PruneDepth blocks deep or more; one spent less deep is recorded as spent
// and pruned in turn.
func TestLearnFromSkipsDeepSpends(t *testing.T) {
	b, err := New(Config{URL: "http://u:p@127.0.0.1:1", PruneDepth: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	watched := p2wpkh(0x01)
	b.watch.scripts[string(watched)] = struct{}{}
	oldFund := payTx(wire.OutPoint{Hash: chainhash.Hash{1}}, 1000, watched)
	oldSpend := payTx(wire.OutPoint{Hash: oldFund.TxHash()}, 900, p2wpkh(0x02))
	newFund := payTx(wire.OutPoint{Hash: chainhash.Hash{2}}, 1000, watched)
	newSpend := payTx(wire.OutPoint{Hash: newFund.TxHash()}, 900, p2wpkh(0x02))
	unspent := payTx(wire.OutPoint{Hash: chainhash.Hash{3}}, 1000, watched)
	b.learnFrom(historyOf(
		infoAt(oldFund, 100, 150), infoAt(oldSpend, 120, 150), // spent 31 deep
		infoAt(newFund, 140, 150), infoAt(newSpend, 145, 150), // spent 6 deep
		infoAt(unspent, 149, 150),
	))
	if len(b.watch.outpoints) != 2 {
		t.Fatalf("%d outpoints learned, want the recently spent and the unspent one", len(b.watch.outpoints))
	}
	if _, ok := b.watch.outpoints[wire.OutPoint{Hash: oldFund.TxHash()}]; ok {
		t.Fatal("an outpoint spent 31 blocks deep was learned")
	}
	b.watch.spentIn(155, nil, 10) // the spend at 145 is now 10 deep
	if _, ok := b.watch.outpoints[wire.OutPoint{Hash: newFund.TxHash()}]; ok || len(b.watch.outpoints) != 1 {
		t.Fatalf("outpoints %v: the spend at 145 is 10 blocks deep", b.watch.outpoints)
	}
}

func infoAt(tx *wire.MsgTx, height, tip int32) chain.TxInfo {
	return chain.TxInfo{Tx: tx, Height: height, Confirmations: int64(tip-height) + 1}
}

func historyOf(infos ...chain.TxInfo) []chain.TxInfo { return infos }

// TestTxidList decodes getrawmempool's answer straight into hashes.
func TestTxidList(t *testing.T) {
	a, b := chainhash.Hash{1, 2, 3}, chainhash.Hash{0xff, 0xee}
	raw := fmt.Sprintf("[ %q,\n\t%q ]", a.String(), b.String())
	var l txidList
	if err := json.Unmarshal([]byte(raw), &l); err != nil || len(l) != 2 || l[0] != a || l[1] != b {
		t.Fatalf("%s → %v, %v", raw, l, err)
	}
	if err := json.Unmarshal([]byte("[]"), &l); err != nil || len(l) != 0 {
		t.Fatalf("[] → %v, %v", l, err)
	}
	for _, bad := range []string{`{}`, `["00"]`, `[1]`, `["` + strings.Repeat("zz", 32) + `"]`, `null`, `["` + a.String() + `x"]`} {
		if err := json.Unmarshal([]byte(bad), &l); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestMempoolViewKeepsTxids: the view keeps a txid and the summary of its
// transaction, never the transaction; a poll forgets what left the
// mempool; candidates are the transactions whose summary may pay a script
// or spend an outpoint, and those without a summary.
func TestMempoolViewKeepsTxids(t *testing.T) {
	sums := newSummaries(0)
	v := newMPView(1 << 20)
	watched := p2wpkh(0x01)
	pay := payTx(wire.OutPoint{Hash: chainhash.Hash{1}}, 1000, watched)
	spendOp := wire.OutPoint{Hash: chainhash.Hash{7}, Index: 3}
	spend := payTx(spendOp, 1000, p2wpkh(0x03))
	unrelated := payTx(wire.OutPoint{Hash: chainhash.Hash{2}}, 1000, p2wpkh(0x02))
	var noSummary chainhash.Hash
	noSummary[0] = 0xaa
	ids := []chainhash.Hash{pay.TxHash(), spend.TxHash(), unrelated.TxHash(), noSummary}
	if missing := v.mark(ids); len(missing) != 4 {
		t.Fatalf("%d missing on the first poll", len(missing))
	}
	v.add(pay.TxHash(), pay, sums)
	v.add(spend.TxHash(), spend, sums)
	v.add(unrelated.TxHash(), unrelated, sums)
	v.add(noSummary, nil, sums)
	v.sweep(len(ids))
	scriptKeys := map[uint64]struct{}{sums.scriptKey(watched): {}}
	opKeys := map[uint64]struct{}{sums.outpointKey(spendOp): {}}
	got := v.candidates(ids, scriptKeys, opKeys, nil)
	want := []chainhash.Hash{pay.TxHash(), spend.TxHash(), noSummary}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	// Next poll: only two remain, nothing to fetch.
	if missing := v.mark(ids[:2]); len(missing) != 0 {
		t.Fatalf("%d missing", len(missing))
	}
	v.sweep(2)
	if len(v.txs) != 2 || !v.has(pay.TxHash()) || v.has(unrelated.TxHash()) || v.keyed != 8*4 {
		t.Fatalf("view %v (%d summary bytes)", v.txs, v.keyed)
	}
	// Past the summaries' bound a txid is kept without one.
	small := newMPView(8)
	small.mark(ids[:1])
	small.add(pay.TxHash(), pay, sums)
	if small.txs[pay.TxHash()].keys != nil {
		t.Fatal("a summary past the bound")
	}
}

// TestFeeRateFromNode: estimatesmartfee's feerate (coins per kvB, as the
// node writes it) to satoshis per kvB, exact, a fraction of a satoshi
// rounded up; no estimate for -1 and other non-positive rates; an error for
// a non-number and for a rate above MaxFeeRate (1 coin per kvB).
func TestFeeRateFromNode(t *testing.T) {
	for in, want := range map[string]int64{
		"0.00001":      1_000,
		"1e-05":        1_000, // Core writes small rates so
		"1E-5":         1_000,
		"0.00012345":   12_345,
		"0.000123451":  12_346,
		"0.0000000001": 1, // positive stays positive
		"0.5":          50_000_000,
		"1":            MaxFeeRate,
		"1.00000000":   MaxFeeRate,
	} {
		got, ok, err := feeRateFromNode(json.Number(in))
		if err != nil || !ok || got != want {
			t.Errorf("%s → %d %v %v, want %d", in, got, ok, err, want)
		}
	}
	for _, none := range []string{"-1", "0", "0.0", "-0.00001", "-1e-05"} {
		if got, ok, err := feeRateFromNode(json.Number(none)); ok || err != nil || got != 0 {
			t.Errorf("%s → %d %v %v, want no estimate", none, got, ok, err)
		}
	}
	for _, bad := range []string{"", "abc", "1/2", "0x10", `"1"`, "1.00000001", "21000000", "1e300", "1e-300", "1e99999999999"} {
		if got, ok, err := feeRateFromNode(json.Number(bad)); err == nil || ok || got != 0 {
			t.Errorf("%s → %d %v %v, want an error", bad, got, ok, err)
		}
	}
}

// TestEstimateFeeAnswers: what EstimateFee makes of a node's answers, over
// HTTP, for Core (estimatesmartfee) and btcd (estimatefee, estimatesmartfee
// unknown).
func TestEstimateFeeAnswers(t *testing.T) {
	for _, c := range []struct {
		name, smart, plain string // JSON-RPC replies ("" = method not found)
		want               int64
		ok, err            bool
	}{
		{"core", `{"feerate":0.00001,"blocks":2}`, "", 1_000, true, false},
		{"core exponent", `{"feerate":1e-05,"blocks":2}`, "", 1_000, true, false},
		{"core no data", `{"errors":["Insufficient data or no feerate found"],"blocks":0}`, "", 0, false, false},
		{"core zero", `{"feerate":0,"blocks":2}`, "", 0, false, false},
		{"core absurd", `{"feerate":50,"blocks":2}`, "", 0, false, true},
		{"core huge", `{"feerate":1e300,"blocks":2}`, "", 0, false, true},
		{"btcd", "", `0.00012`, 12_000, true, false},
		{"btcd no data", "", `-1`, 0, false, false},
		{"btcd absurd", "", `1000`, 0, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				data, _ := io.ReadAll(r.Body)
				var req struct {
					ID     uint64 `json:"id"`
					Method string `json:"method"`
				}
				_ = json.Unmarshal(data, &req)
				res := map[string]string{"estimatesmartfee": c.smart, "estimatefee": c.plain}[req.Method]
				if req.Method == "getbestblockhash" {
					res = `"` + strings.Repeat("0", 64) + `"`
				}
				if res == "" {
					w.WriteHeader(http.StatusNotFound)
					fmt.Fprintf(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":%d}`, req.ID)
					return
				}
				fmt.Fprintf(w, `{"result":%s,"error":null,"id":%d}`, res, req.ID)
			}))
			defer srv.Close()
			b, err := New(Config{URL: "http://u:p@" + srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			b.connected.Store(true)
			got, ok, err := b.EstimateFee(context.Background(), 2)
			if got != c.want || ok != c.ok || (err != nil) != c.err {
				t.Fatalf("EstimateFee = %d, %v, %v; want %d, %v, error %v", got, ok, err, c.want, c.ok, c.err)
			}
		})
	}
}
