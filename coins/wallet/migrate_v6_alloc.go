package wallet

import (
	"context"
	"fmt"

	"github.com/walletd/walletd/coins/params"
)

// The request buckets of schemas 3 to 5, merged into bReqs by migration 6.
const (
	v5Requests = "r"  // num|requestID → Request
	v5ReqAddr  = "ra" // num|pkScript → request id
)

// mergeRequestRows (schema 5 → 6) moves every row of v5Requests and
// v5ReqAddr into bReqs, tagged (reqKey, reqAddrKey), so that a wallet's
// request and the address row naming it sit side by side: an add_request
// then dirties one path of B-tree pages instead of one in each bucket
// (bbolt materializes every page it writes: ~20 KB per request at 100,000
// wallets, BENCHMARKS.md round six). It runs in transactions of
// migrateChunk rows, each moving its rows (written anew, deleted from the
// old bucket) at once, so a crash in between resumes with the rows left.
func mergeRequestRows(ctx context.Context, st Store, _ *params.Network) error {
	for _, b := range []struct {
		from string
		tag  byte
	}{{v5Requests, reqTagID}, {v5ReqAddr, reqTagAddr}} {
		for {
			more := false
			err := st.Update(ctx, func(kv KV) error {
				more = false
				type row struct{ k, v []byte }
				var rows []row
				if err := kv.Scan(b.from, nil, nil, func(k, v []byte) error {
					if len(rows) == migrateChunk {
						more = true
						return ErrStopScan
					}
					rows = append(rows, row{append([]byte(nil), k...), append([]byte(nil), v...)})
					return nil
				}); err != nil {
					return err
				}
				for _, r := range rows {
					if len(r.k) <= numLen {
						return fmt.Errorf("migration 6: bucket %s: key %x is not a wallet's row", b.from, r.k)
					}
					nk := make([]byte, 0, len(r.k)+1)
					nk = append(append(append(nk, r.k[:numLen]...), b.tag), r.k[numLen:]...)
					if err := kv.Put(bReqs, nk, r.v); err != nil {
						return err
					}
					if err := kv.Delete(b.from, r.k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if !more {
				break
			}
		}
	}
	return nil
}
