package electrumx_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

func TestStartProbeRestart(t *testing.T) {
	n := harness.StartBtcd(t)
	n.Generate(101)
	t0 := time.Now()
	x := electrumx.Start(t, electrumx.BtcdURL(n))
	t.Logf("ElectrumX ready in %v", time.Since(t0))
	x.WaitTip(n.BestHash())
	s, _ := n.NewScript(harness.P2WPKH)
	tx := n.FundTx(s, 10_000)
	x.WaitTx(tx.TxHash())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var verbose json.RawMessage
	err := x.Call(ctx, &verbose, "blockchain.transaction.get", tx.TxIn[0].PreviousOutPoint.Hash.String(), true)
	t.Logf("verbose get: %s %v", verbose, err)
	x.Stop()
	if x.Running() {
		t.Fatal("running after Stop")
	}
	h := n.Generate(1)[0]
	x.Start()
	x.WaitTip(h)
}
