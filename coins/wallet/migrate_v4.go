package wallet

import (
	"context"
	"encoding/binary"

	"github.com/walletd/walletd/coins/params"
)

// foldIndexRows (schema 3 → 4) folds two index buckets into the records
// they index, so that a payment writes two rows fewer (each on a page of
// its own: the keys of one block's payments are scattered): the bTxWallets
// rows (txid|num) become the wallet lists of the transaction records, and
// the bSeen rows (num|txid) the Seen flag of the wallet transactions. It
// runs in transactions of migrateChunk rows, each deleting the rows it
// folded; folding a row twice changes nothing, so a crash in between
// resumes where it stopped. A row whose record is gone is dropped, except
// a bSeen row without its wallet transaction, which schema 4 keeps (see
// bSeen).
func foldIndexRows(ctx context.Context, st Store, _ *params.Network) error {
	if err := moveBucket(ctx, st, bTxWallets, func(kv KV, k, _ []byte) error {
		if len(k) != 32+numLen {
			return nil
		}
		var rec txRecord
		found, err := getRec(kv, bTxs, k[:32], &rec)
		if err != nil || !found {
			return err
		}
		if !rec.addWallet(binary.BigEndian.Uint32(k[32:])) {
			return nil
		}
		return putRec(kv, bTxs, k[:32], rec)
	}); err != nil {
		return err
	}
	var start []byte
	for {
		var next []byte
		err := st.Update(ctx, func(kv KV) error {
			next = nil
			var ks [][]byte
			if err := kv.Scan(bSeen, nil, start, func(k, _ []byte) error {
				if len(ks) >= migrateChunk {
					next = append([]byte(nil), k...)
					return ErrStopScan
				}
				ks = append(ks, append([]byte(nil), k...))
				return nil
			}); err != nil {
				return err
			}
			for _, k := range ks {
				var wt walletTx
				found, err := getRec(kv, bWalletTxs, k, &wt)
				if err != nil {
					return err
				}
				if !found {
					continue // kept: its event is logged, its record gone
				}
				if !wt.Seen {
					wt.Seen = true
					if err := putRec(kv, bWalletTxs, k, wt); err != nil {
						return err
					}
				}
				if err := kv.Delete(bSeen, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || next == nil {
			return err
		}
		start = next
	}
}
