package harness

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/chaintest"
)

// Control adapts a harness node to chaintest.NodeControl (and
// chaintest.Invalidator), for backend conformance tests. Scripts are P2WPKH
// keys the harness holds.
type Control struct{ N *Node }

var (
	_ chaintest.NodeControl = Control{}
	_ chaintest.Invalidator = Control{}
)

// NewScript returns a fresh P2WPKH script of a harness key.
func (c Control) NewScript(t testing.TB) []byte {
	s, _ := c.N.For(t).NewScript(P2WPKH)
	return s
}

// Fund pays amount to pkScript from the harness's coins.
func (c Control) Fund(t testing.TB, pkScript []byte, amount int64) *wire.MsgTx {
	return c.N.For(t).FundTx(pkScript, amount)
}

// SpendTx signs a spend of prev (not broadcast).
func (c Control) SpendTx(t testing.TB, prev wire.OutPoint, prevScript []byte, v int64, to []byte) *wire.MsgTx {
	return c.N.For(t).SpendTx(prev, prevScript, v, to)
}

// Generate mines n blocks.
func (c Control) Generate(t testing.TB, n int) []chainhash.Hash { return c.N.For(t).Generate(n) }

// Stop stops the node.
func (c Control) Stop(t testing.TB) { c.N.For(t).Stop() }

// Start starts it again.
func (c Control) Start(t testing.TB) { c.N.For(t).Start() }

// InvalidateBlock invalidates a block (a one-node reorg).
func (c Control) InvalidateBlock(t testing.TB, h chainhash.Hash) { c.N.For(t).InvalidateBlock(h) }
