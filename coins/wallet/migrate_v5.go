package wallet

import (
	"context"

	"github.com/walletd/walletd/coins/params"
)

// splitRawTxs (schema 4 → 5) moves the raw bytes of every transaction
// record of bTxs into bTxRaw, so that a block confirming transactions the
// store knows rewrites their small records only (their place in the
// chain), not their raw bytes with them. It runs in transactions of
// migrateChunk records; a record already split is skipped, so a crash in
// between resumes where it stopped.
func splitRawTxs(ctx context.Context, st Store, _ *params.Network) error {
	var start []byte
	for {
		var next []byte
		err := st.Update(ctx, func(kv KV) error {
			next = nil
			type split struct {
				k   []byte
				rec txRecord
			}
			var todo []split
			n := 0
			if err := kv.Scan(bTxs, nil, start, func(k, v []byte) error {
				if n >= migrateChunk {
					next = append([]byte(nil), k...)
					return ErrStopScan
				}
				n++
				var rec txRecord
				if err := decodeRec(v, &rec); err != nil {
					return err
				}
				if len(rec.Raw) > 0 {
					rec.Raw = append([]byte(nil), rec.Raw...)
					todo = append(todo, split{k: append([]byte(nil), k...), rec: rec})
				}
				return nil
			}); err != nil {
				return err
			}
			for _, s := range todo {
				if err := putTxRaw(kv, s.k, s.rec.Raw); err != nil {
					return err
				}
				if err := putTxRec(kv, s.k, s.rec); err != nil {
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
