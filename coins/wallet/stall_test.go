package wallet_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/faulttest"
)

// hasScript accepts a Watch or History call naming script.
func hasScript(script []byte) func([][]byte) bool {
	return func(ss [][]byte) bool {
		for _, s := range ss {
			if bytes.Equal(s, script) {
				return true
			}
		}
		return false
	}
}

// TestStalledNodeCallsDelayNoOtherWallet: while the node hangs on one
// wallet's calls (its cold load's history lookup, the backfill of the
// addresses a block revealed, the watch of a forced request's addresses),
// another wallet's payments are detected, in the mempool and in blocks.
func TestStalledNodeCallsDelayNoOtherWallet(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	env := newFaultEnv(t, fc)
	bKey := regtestWallet(t, "standard-account-xpub").KeyMaterial
	aKey := regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial
	b := env.open(bKey)
	seen := 0
	paidB := func(salt byte) {
		t.Helper()
		r, err := b.AddRequest(ctx, 1000, "", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		script, _ := env.net.PkScript(r.Address)
		fc.mempoolAdd(payTx(script, 1000, salt))
		env.rec.waitEvent(t, &seen, func(e evBody) bool {
			return e.Event == "new_payment" && e.Address == r.ID && e.Status == wallet.StatusUnconfirmed
		})
		fc.mine()
		env.rec.waitEvent(t, &seen, func(e evBody) bool {
			return e.Event == "new_payment" && e.Address == r.ID && e.Status == wallet.StatusPaid
		})
	}

	// 1. A's cold load hangs in its history lookup.
	release := make(chan struct{})
	env.backend.Inject(faulttest.Fault{Method: faulttest.History, Scripts: hasScript(deriveScript(t, aKey, false, 0)), Block: release})
	opened := make(chan error, 1)
	go func() {
		_, err := env.eng.Open(ctx, aKey)
		opened <- err
	}()
	waitFor(t, func() bool { return env.backend.Blocked() == 1 })
	paidB(1)
	close(release)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	a := env.open(aKey)

	// 2. A block uses A's address 15: the backfill of the addresses it
	// reveals (16 to 35) hangs.
	release = make(chan struct{})
	env.backend.Inject(faulttest.Fault{Method: faulttest.History, Scripts: hasScript(deriveScript(t, aKey, false, 30)), Block: release})
	fc.mine(payTx(deriveScript(t, aKey, false, 15), 5000, 2))
	waitFor(t, func() bool { return env.backend.Blocked() == 1 })
	paidB(3)
	close(release)

	// 3. A forced request of A derives addresses ahead; the node hangs on
	// watching them.
	release = make(chan struct{})
	env.backend.Inject(faulttest.Fault{Method: faulttest.Watch, Scripts: hasScript(deriveScript(t, aKey, false, 40)), Block: release})
	forced := make(chan error, 1)
	go func() {
		for i := 0; i < 40; i++ {
			if _, err := a.AddRequest(ctx, 1000, "", 0, true); err != nil {
				forced <- err
				return
			}
		}
		forced <- nil
	}()
	waitFor(t, func() bool { return env.backend.Blocked() == 1 })
	// A block paying A's revealed addresses needs A's allocation lock.
	fc.mine(payTx(deriveScript(t, aKey, false, 34), 700, 4))
	paidB(5)
	close(release)
	if err := <-forced; err != nil {
		t.Fatal(err)
	}
	env.keys = []string{aKey, bKey}
	env.checkConverges()
}
