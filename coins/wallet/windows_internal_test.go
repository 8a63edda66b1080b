package wallet

import (
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// TestWindowsShareTheirTxs: the backfill windows a block opens for the
// wallets it pays hold one copy of its transactions, not one per wallet,
// and grow together; a window that grows never writes into what another
// window shares.
func TestWindowsShareTheirTxs(t *testing.T) {
	e := &Engine{windows: map[*tracked]struct{}{}}
	seed := shareWindow([]txAt{{tx: wire.NewMsgTx(2), height: 5}, {tx: wire.NewMsgTx(2), height: 5}})
	var ts []*tracked
	for range 3 {
		tr := &tracked{win: seed}
		e.windows[tr] = struct{}{}
		ts = append(ts, tr)
	}
	other := &tracked{win: shareWindow([]txAt{{tx: wire.NewMsgTx(2), height: 4}})} // opened earlier, alone
	e.windows[other] = struct{}{}

	next := []txAt{{tx: wire.NewMsgTx(2), height: 6}}
	e.windowsApplied(next, nil)
	for _, tr := range ts {
		if len(tr.win) != 3 || tr.win[0].tx != seed[0].tx || tr.win[2].tx != next[0].tx {
			t.Fatalf("window %v, want the seed then the new tx", tr.win)
		}
		if &tr.win[0] != &ts[0].win[0] {
			t.Fatal("windows opened together hold separate copies of their txs")
		}
	}
	if len(other.win) != 2 || other.win[1].tx != next[0].tx || &other.win[0] == &ts[0].win[0] {
		t.Fatalf("the other window: %v", other.win)
	}
	// One window closes and reopens alone: growing it leaves the shared
	// ones as they were.
	ts[2].win = shareWindow(ts[2].win[:2])
	e.windowsApplied([]txAt{{tx: wire.NewMsgTx(2), height: 7}}, nil)
	if len(ts[0].win) != 4 || ts[0].win[3].height != 7 || len(ts[2].win) != 3 || ts[2].win[2].height != 7 {
		t.Fatalf("after a second block: %d and %d txs", len(ts[0].win), len(ts[2].win))
	}
	if ts[0].win[2].tx != next[0].tx {
		t.Fatal("a window's growth overwrote another's txs")
	}
}
