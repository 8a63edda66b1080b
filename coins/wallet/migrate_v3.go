package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
)

// The buckets of schemas 1 and 2 (the same layout: schema 2 only changed
// the event log's JSON records) whose records schema 3 moves (keys with the 64-hex
// wallet id become keys with the wallet's number; JSON values become
// binary records).
const (
	v1Wallets   = "wallets"  // walletID → walletRecord JSON
	v1Addrs     = "addrs"    // walletID|chain|index → addrRecord JSON
	v1WalletTxs = "wtx"      // walletID|txid → walletTx JSON
	v1UTXOs     = "utxos"    // walletID|outpoint → utxoRecord JSON
	v1Requests  = "requests" // walletID|requestID → Request JSON
	v1ReqAddr   = "reqaddr"  // walletID|pkScript → request id
	v1TxWallets = "txw"      // txid|walletID → nil
	v1Backfill  = "backfill" // walletID|chain|index → pkScript
	v1Frozen    = "frozen"   // walletID|… → nil
	v1Labels    = "labels"   // walletID|key → text
	v1GapLimit  = "gaplimit" // walletID → uint32
	v1SeenKey   = "seen:"    // meta: "seen:"|walletID|txid → 1
)

// migrateChunk bounds the records one migration transaction converts
// (tests lower it).
var migrateChunk = 20_000

// binaryRecords (schema 2 → 3) numbers the wallets and rewrites every
// record: wallet-keyed records move to buckets keyed by the wallet's
// number, and JSON values become binary records (the event log keeps its
// keys, its typed records become binary). It runs in
// transactions of migrateChunk records; each moves its records out of the
// old buckets (or marks them converted in place: a binary value starts
// with binTag, a JSON one with '{'), so a crash in between resumes where
// it stopped.
func binaryRecords(ctx context.Context, st Store, net *params.Network) error {
	nums := map[string]uint32{}
	if err := st.View(ctx, func(kv KV) error {
		return kv.Scan(bWallets, nil, nil, func(_, v []byte) error {
			var r walletRecord
			if err := decodeRec(v, &r); err != nil {
				return err
			}
			nums[r.ID] = r.Num
			return nil
		})
	}); err != nil {
		return err
	}
	// Wallets first: every other record needs its wallet's number.
	if err := moveBucket(ctx, st, v1Wallets, func(kv KV, k, v []byte) error {
		var r walletRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("wallet %q: %w", k, err)
		}
		num, ok := nums[r.ID]
		if !ok {
			n, err := kv.NextSequence(bNums)
			if err != nil {
				return err
			}
			if n > maxWalletNum {
				return ErrTooManyWallets
			}
			num = uint32(n)
		}
		r.Num = num
		if err := putRec(kv, bWallets, numKey(num), r); err != nil {
			return err
		}
		nums[r.ID] = num
		return nil
	}); err != nil {
		return err
	}
	// rekey maps a key starting with a wallet id to the same key starting
	// with its number; ok is false for a wallet that has no record (its
	// records are dropped).
	rekey := func(k []byte) ([]byte, bool) {
		if len(k) < walletIDLen {
			return nil, false
		}
		num, ok := nums[string(k[:walletIDLen])]
		if !ok {
			return nil, false
		}
		return key(numKey(num), k[walletIDLen:]), true
	}
	type conv func(v []byte) ([]byte, error)
	asIs := func(v []byte) ([]byte, error) { return append([]byte(nil), v...), nil }
	moves := []struct {
		from, to string
		conv     conv
	}{
		{v1Addrs, bAddrs, func(v []byte) ([]byte, error) {
			var a addrRecord
			if err := json.Unmarshal(v, &a); err != nil {
				return nil, err
			}
			if net != nil {
				if own, ok := net.AddressFromScript(a.PkScript); ok && own == a.Address {
					a.own = true
				}
			}
			return encodeRec(a), nil
		}},
		{v1WalletTxs, bWalletTxs, func(v []byte) ([]byte, error) {
			var w walletTx
			if err := json.Unmarshal(v, &w); err != nil {
				return nil, err
			}
			return encodeRec(w), nil
		}},
		{v1UTXOs, bUTXOs, func(v []byte) ([]byte, error) {
			var u utxoRecord
			if err := json.Unmarshal(v, &u); err != nil {
				return nil, err
			}
			return encodeRec(u), nil
		}},
		{v1Requests, v5Requests, func(v []byte) ([]byte, error) {
			var r Request
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, err
			}
			return encodeRec(r), nil
		}},
		{v1ReqAddr, v5ReqAddr, asIs},
		{v1Backfill, bBackfill, asIs},
		{v1Frozen, bFrozen, asIs},
		{v1Labels, bLabels, asIs},
		{v1GapLimit, bGapLimit, asIs},
	}
	for _, m := range moves {
		if err := moveBucket(ctx, st, m.from, func(kv KV, k, v []byte) error {
			nk, ok := rekey(k)
			if !ok {
				return nil
			}
			nv, err := m.conv(v)
			if err != nil {
				return fmt.Errorf("%s record %x: %w", m.from, k, err)
			}
			return kv.Put(m.to, nk, nv)
		}); err != nil {
			return err
		}
	}
	// txid|walletID → txid|num.
	if err := moveBucket(ctx, st, v1TxWallets, func(kv KV, k, _ []byte) error {
		if len(k) != 32+walletIDLen {
			return nil
		}
		num, ok := nums[string(k[32:])]
		if !ok {
			return nil
		}
		return kv.Put(bTxWallets, key(k[:32], numKey(num)), []byte{})
	}); err != nil {
		return err
	}
	// meta "seen:"|walletID|txid → seen num|txid.
	if err := moveKeys(ctx, st, bMeta, []byte(v1SeenKey), func(kv KV, k, _ []byte) error {
		nk, ok := rekey(k[len(v1SeenKey):])
		if !ok {
			return nil
		}
		return kv.Put(bSeen, nk, []byte{})
	}); err != nil {
		return err
	}
	// Same keys, binary values.
	for _, b := range []struct {
		bucket string
		conv   func(v []byte) ([]byte, error)
	}{
		{bTxs, func(v []byte) ([]byte, error) {
			var r txRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, err
			}
			return encodeRec(r), nil
		}},
		{bBlocks, func(v []byte) ([]byte, error) {
			var r blockRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, err
			}
			return encodeRec(r), nil
		}},
		{bEvents, func(v []byte) ([]byte, error) {
			var r eventRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, err
			}
			if r.Rec == nil {
				return nil, errors.New("an event without its typed record (schema 2 converts them all)")
			}
			r.Payload = nil
			return encodeRec(r), nil
		}},
	} {
		if err := convertInPlace(ctx, st, b.bucket, b.conv); err != nil {
			return err
		}
	}
	return st.Update(ctx, func(kv KV) error {
		raw := kv.Get(bMeta, []byte("cursor"))
		if len(raw) == 0 || raw[0] == binTag {
			return nil
		}
		var ref chain.BlockRef
		if err := json.Unmarshal(raw, &ref); err != nil {
			return fmt.Errorf("cursor: %w", err)
		}
		return putCursor(kv, ref)
	})
}

// moveBucket runs fn on every record of bucket and deletes it there, in
// transactions of migrateChunk records, until the bucket is empty.
func moveBucket(ctx context.Context, st Store, bucket string, fn func(kv KV, k, v []byte) error) error {
	return moveKeys(ctx, st, bucket, nil, fn)
}

// moveKeys is moveBucket for the keys with prefix.
func moveKeys(ctx context.Context, st Store, bucket string, prefix []byte, fn func(kv KV, k, v []byte) error) error {
	for {
		n := 0
		err := st.Update(ctx, func(kv KV) error {
			n = 0
			var ks, vs [][]byte
			if err := kv.Scan(bucket, prefix, nil, func(k, v []byte) error {
				if len(ks) >= migrateChunk {
					return ErrStopScan
				}
				ks = append(ks, append([]byte(nil), k...))
				vs = append(vs, append([]byte(nil), v...))
				return nil
			}); err != nil {
				return err
			}
			for i, k := range ks {
				if err := fn(kv, k, vs[i]); err != nil {
					return err
				}
				if err := kv.Delete(bucket, k); err != nil {
					return err
				}
			}
			n = len(ks)
			return nil
		})
		if err != nil {
			return err
		}
		if n < migrateChunk {
			return nil
		}
	}
}

// convertInPlace rewrites the JSON values of bucket with conv, keeping
// their keys, in transactions of migrateChunk records (binary values are
// already converted and skipped).
func convertInPlace(ctx context.Context, st Store, bucket string, conv func(v []byte) ([]byte, error)) error {
	var start []byte
	for {
		var next []byte
		err := st.Update(ctx, func(kv KV) error {
			next = nil
			var ks, vs [][]byte
			if err := kv.Scan(bucket, nil, start, func(k, v []byte) error {
				if len(ks) >= migrateChunk {
					next = append([]byte(nil), k...)
					return ErrStopScan
				}
				if len(v) > 0 && v[0] == binTag {
					return nil
				}
				ks = append(ks, append([]byte(nil), k...))
				vs = append(vs, append([]byte(nil), v...))
				return nil
			}); err != nil {
				return err
			}
			for i, k := range ks {
				nv, err := conv(vs[i])
				if err != nil {
					return fmt.Errorf("%s record %x: %w", bucket, k, err)
				}
				if err := kv.Put(bucket, k, nv); err != nil {
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
