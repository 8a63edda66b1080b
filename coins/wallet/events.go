package wallet

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"
)

// logEvent appends an event to the log of the wallet's store (and the
// wallet's index) inside the caller's transaction. The seq always comes
// from the durable store's sequence, so it is strictly increasing across
// both stores and restarts (a counter names no wallet). The payload gets the
// seq as its "seq" member.
func (e *Engine) logEvent(s kvs, wallet string, payload map[string]any) (Event, error) {
	seq, err := s.disk.NextSequence(bEvents)
	if err != nil {
		return Event{}, err
	}
	payload["seq"] = seq
	raw, err := json.Marshal(payload)
	if err != nil {
		return Event{}, err
	}
	rec := eventRecord{Wallet: wallet, Time: e.cfg.Now().Unix(), Payload: raw}
	kv := s.of(wallet)
	if err := putJSON(kv, bEvents, u64(seq), rec); err != nil {
		return Event{}, err
	}
	if wallet != "" {
		if err := kv.Put(bWEvents, key([]byte(wallet), u64(seq)), []byte{}); err != nil {
			return Event{}, err
		}
	}
	return Event{Seq: seq, WalletID: wallet, WalletKey: e.wireKey(wallet), Payload: raw}, nil
}

// EventsAfter returns up to limit logged events with seq > after, in
// order, each named by its wallet's current wire key.
func (e *Engine) EventsAfter(ctx context.Context, after uint64, limit int) ([]Event, error) {
	var out []Event
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			n := 0
			if err := kv.Scan(bEvents, nil, u64(after+1), func(k, v []byte) error {
				if n >= limit {
					return ErrStopScan
				}
				n++
				var rec eventRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				ev := Event{Seq: binary.BigEndian.Uint64(k), Payload: append([]byte(nil), rec.Payload...)}
				if rec.Wallet != "" {
					ev.WalletID = rec.Wallet
					ev.WalletKey = e.wireKey(rec.Wallet)
				}
				out = append(out, ev)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	// Merge the stores' runs by seq and keep the first limit.
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// Updates drains the wallet's get_updates queue: the wallet's events since
// the last drain, at most PollingCap of the newest, oldest first.
func (w *Wallet) Updates(ctx context.Context) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := w.store().Update(ctx, func(kv KV) error {
		out = out[:0]
		var last uint64
		if raw := kv.Get(bPolls, []byte(w.ID)); len(raw) == 8 {
			last = binary.BigEndian.Uint64(raw)
		}
		var seqs []uint64
		prefix := []byte(w.ID)
		if err := kv.Scan(bWEvents, prefix, key(prefix, u64(last+1)), func(k, _ []byte) error {
			seqs = append(seqs, binary.BigEndian.Uint64(k[len(prefix):]))
			return nil
		}); err != nil {
			return err
		}
		if len(seqs) == 0 {
			return nil
		}
		if n := w.e.cfg.PollingCap; len(seqs) > n {
			seqs = seqs[len(seqs)-n:]
		}
		for _, s := range seqs {
			var rec eventRecord
			if ok, err := getJSON(kv, bEvents, u64(s), &rec); err != nil {
				return err
			} else if ok {
				out = append(out, rec.Payload)
			}
		}
		return kv.Put(bPolls, []byte(w.ID), u64(seqs[len(seqs)-1]))
	})
	return out, err
}

// pruneEvents drops the oldest events beyond EventRetention and those
// older than EventMaxAge, with their per-wallet index entries.
func (e *Engine) pruneEvents(ctx context.Context) error {
	cutTime := e.cfg.Now().Add(-e.cfg.EventMaxAge).Unix()
	for _, st := range []Store{e.cfg.Store, e.cfg.Volatile} {
		if st == nil {
			continue
		}
		if err := st.Update(ctx, func(kv KV) error { return e.pruneIn(kv, cutTime) }); err != nil {
			return err
		}
	}
	return nil
}

// pruneIn prunes one store's event log.
func (e *Engine) pruneIn(kv KV, cutTime int64) error {
	var count int
	var cut uint64
	if err := kv.ScanReverse(bEvents, nil, func(k, _ []byte) error {
		count++
		if count > e.cfg.EventRetention {
			cut = binary.BigEndian.Uint64(k)
			return ErrStopScan
		}
		return nil
	}); err != nil {
		return err
	}
	var ks, wks [][]byte
	if err := kv.Scan(bEvents, nil, nil, func(k, v []byte) error {
		var rec eventRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if binary.BigEndian.Uint64(k) > cut && rec.Time >= cutTime {
			return ErrStopScan
		}
		ks = append(ks, append([]byte(nil), k...))
		if rec.Wallet != "" {
			wks = append(wks, key([]byte(rec.Wallet), k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range ks {
		if err := kv.Delete(bEvents, k); err != nil {
			return err
		}
	}
	for _, k := range wks {
		if err := kv.Delete(bWEvents, k); err != nil {
			return err
		}
	}
	return nil
}
