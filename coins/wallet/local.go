package wallet

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
)

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
