package wallet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// EventKind is the kind of a logged event.
type EventKind uint8

// Event kinds: what happened, in the engine's terms. The daemon renders
// each as its coin's wire event (Bitcart's new_block, new_transaction,
// verified_tx and new_payment).
const (
	// EventBlock: the chain has a new tip at Height (global).
	EventBlock EventKind = iota + 1
	// EventTransaction: a transaction TxID of the wallet appeared (mempool
	// or block).
	EventTransaction
	// EventVerified: the wallet's transaction TxID was mined at Height.
	EventVerified
	// EventPayment: the status, paid amount or paying transactions of a
	// request changed.
	EventPayment
)

// EventRecord is one logged event as the engine knows it: no wire form.
// Which fields are set depends on Kind.
type EventRecord struct {
	Kind EventKind `json:"k"`
	// Height of the tip (EventBlock) or of the block that mined TxID
	// (EventVerified).
	Height int32 `json:"h,omitempty"`
	// TxID (EventTransaction, EventVerified).
	TxID string `json:"tx,omitempty"`
	// RequestID and Script name the request (EventPayment): its id and the
	// output script of its address.
	RequestID string `json:"id,omitempty"`
	Script    []byte `json:"s,omitempty"`
	// Status is the request's new status code, TxHashes the transactions
	// paying it, Sent what they paid its address in satoshis
	// (EventPayment).
	Status   int      `json:"st,omitempty"`
	TxHashes []string `json:"th,omitempty"`
	Sent     int64    `json:"sa,omitempty"`
}

// logEvent appends an event to the log of the wallet's store (and the
// wallet's index, or the global index) inside the caller's transaction.
// The seq always comes from the durable store's sequence, so it is
// strictly increasing across both stores and restarts (a counter names no
// wallet).
func (e *Engine) logEvent(s kvs, wallet string, r EventRecord) (Event, error) {
	return e.logEventIn(s.disk, s.of(wallet), wallet, e.wireKey(wallet), r, true)
}

// logEventIn is logEvent with the wallet's store (kv) and wire key given.
// Without index, a wallet event's get_updates index row is left to the
// caller (the applier writes one row per wallet and commit:
// putWalletEvents).
func (e *Engine) logEventIn(disk, kv KV, wallet, wireKey string, r EventRecord, index bool) (Event, error) {
	seq, err := disk.NextSequence(bEvents)
	if err != nil {
		return Event{}, err
	}
	rec := eventRecord{Wallet: wallet, Time: e.cfg.Now().Unix(), Rec: &r}
	if err := putRec(kv, bEvents, u64(seq), rec); err != nil {
		return Event{}, err
	}
	switch {
	case wallet == "":
		err = kv.Put(bGEvents, u64(seq), []byte{})
	case index:
		err = putWalletEvents(kv, wallet, []uint64{seq})
	}
	if err != nil {
		return Event{}, err
	}
	return Event{Seq: seq, WalletID: wallet, WalletKey: wireKey, Record: r}, nil
}

// putWalletEvents writes the get_updates index row of wallet's events
// seqs (ascending, logged in one transaction): keyed by the wallet id and
// the last seq, its value lists the others as uvarint distances back from
// it (schema 7: one row per wallet and commit, where a block paying 2,000
// requests wrote 4,000 rows; a row of schema 6 or older has an empty value and
// names its key's seq only, which is how a single event is written).
func putWalletEvents(kv KV, wallet string, seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	last := seqs[len(seqs)-1]
	var v []byte
	for _, s := range seqs[:len(seqs)-1] {
		v = putUvarint(v, last-s)
	}
	if v == nil {
		v = []byte{}
	}
	return kv.Put(bWEvents, key([]byte(wallet), u64(last)), v)
}

// walletEventSeqs returns the seqs a get_updates index row names, in
// ascending order: the key's (its last 8 bytes) and those its value
// lists (putWalletEvents).
func walletEventSeqs(k, v []byte) ([]uint64, error) {
	if len(k) < 8 {
		return nil, fmt.Errorf("wallet: get_updates index key of %d bytes", len(k))
	}
	last := binary.BigEndian.Uint64(k[len(k)-8:])
	out := make([]uint64, 0, 1+len(v))
	for len(v) > 0 {
		d, n := binary.Uvarint(v)
		if n <= 0 || d == 0 || d > last {
			return nil, fmt.Errorf("wallet: get_updates index row %x: bad value", k)
		}
		out = append(out, last-d)
		v = v[n:]
	}
	return append(out, last), nil
}

// record returns the typed event of a stored record; a record the
// migration did not convert (it cannot happen after New) is an error.
func (r eventRecord) record() (EventRecord, error) {
	if r.Rec == nil {
		return EventRecord{}, errors.New("wallet: an event of the log has no typed record")
	}
	return *r.Rec, nil
}

// lastSeq returns the seq of the newest logged event (0 when none).
func lastSeq(s kvs) (uint64, error) {
	var last uint64
	for _, kv := range s.all() {
		if err := kv.ScanReverse(bEvents, nil, func(k, _ []byte) error {
			last = max(last, binary.BigEndian.Uint64(k))
			return ErrStopScan
		}); err != nil {
			return 0, err
		}
	}
	return last, nil
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
				if err := decodeRec(v, &rec); err != nil {
					return err
				}
				r, err := rec.record()
				if err != nil {
					return err
				}
				ev := Event{Seq: binary.BigEndian.Uint64(k), Record: r}
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

// Updates drains the wallet's get_updates queue: the wallet's events and
// the global ones (EventBlock) since the last drain, at most PollingCap of
// the newest, oldest first. A PollingCap of 0 disables the queue. A poll
// with nothing new writes nothing.
func (w *Wallet) Updates(ctx context.Context) ([]Event, error) {
	out := []Event{}
	if w.e.cfg.PollingCap == 0 {
		return out, nil
	}
	var last uint64
	err := w.e.view(ctx, func(s kvs) error {
		var err error
		last, out, err = w.pending(s)
		return err
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	err = w.e.update(ctx, func(s kvs) error {
		var err error
		if last, out, err = w.pending(s); err != nil || len(out) == 0 {
			return err
		}
		return s.of(w.ID).Put(bPolls, []byte(w.ID), u64(last))
	})
	return out, err
}

// pending returns the events get_updates would drain now and the seq of
// the newest.
func (w *Wallet) pending(s kvs) (uint64, []Event, error) {
	kv := s.of(w.ID)
	var from uint64
	if raw := kv.Get(bPolls, []byte(w.ID)); len(raw) == 8 {
		from = binary.BigEndian.Uint64(raw)
	}
	type ref struct {
		seq    uint64
		global bool
	}
	var refs []ref
	prefix := []byte(w.ID)
	if err := kv.Scan(bWEvents, prefix, key(prefix, u64(from+1)), func(k, v []byte) error {
		seqs, err := walletEventSeqs(k, v)
		if err != nil {
			return err
		}
		for _, s := range seqs {
			if s > from {
				refs = append(refs, ref{seq: s})
			}
		}
		return nil
	}); err != nil {
		return 0, nil, err
	}
	if err := s.disk.Scan(bGEvents, nil, u64(from+1), func(k, _ []byte) error {
		refs = append(refs, ref{seq: binary.BigEndian.Uint64(k), global: true})
		return nil
	}); err != nil {
		return 0, nil, err
	}
	if len(refs) == 0 {
		return from, []Event{}, nil
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].seq < refs[j].seq })
	if n := w.e.cfg.PollingCap; len(refs) > n {
		refs = refs[len(refs)-n:]
	}
	out := make([]Event, 0, len(refs))
	for _, r := range refs {
		src := kv
		if r.global {
			src = s.disk
		}
		var rec eventRecord
		if ok, err := getRec(src, bEvents, u64(r.seq), &rec); err != nil {
			return 0, nil, err
		} else if ok {
			typed, err := rec.record()
			if err != nil {
				return 0, nil, err
			}
			ev := Event{Seq: r.seq, Record: typed}
			if !r.global {
				ev.WalletID = w.ID
			}
			out = append(out, ev)
		}
	}
	return refs[len(refs)-1].seq, out, nil
}

// pruneChunk bounds the events one pruning transaction deletes.
const pruneChunk = 1000

// pruneEvents drops the oldest events beyond EventRetention and those
// older than EventMaxAge, with their index entries. The cut is found in
// read transactions (which do not block writers) and the deletion runs in
// transactions of at most pruneChunk events.
func (e *Engine) pruneEvents(ctx context.Context) error {
	cutTime := e.cfg.Now().Add(-e.cfg.EventMaxAge).Unix()
	for _, st := range []Store{e.cfg.Store, e.cfg.Volatile} {
		if st == nil {
			continue
		}
		var cut uint64
		if err := st.View(ctx, func(kv KV) error {
			count := 0
			return kv.ScanReverse(bEvents, nil, func(k, _ []byte) error {
				count++
				if count > e.cfg.EventRetention {
					cut = binary.BigEndian.Uint64(k)
					return ErrStopScan
				}
				return nil
			})
		}); err != nil {
			return err
		}
		for {
			var ks, idx [][]byte
			var idxBucket []string
			if err := st.View(ctx, func(kv KV) error {
				return kv.Scan(bEvents, nil, nil, func(k, v []byte) error {
					if len(ks) >= pruneChunk {
						return ErrStopScan
					}
					var rec eventRecord
					if err := decodeRec(v, &rec); err != nil {
						return err
					}
					if binary.BigEndian.Uint64(k) > cut && rec.Time >= cutTime {
						return ErrStopScan
					}
					ks = append(ks, append([]byte(nil), k...))
					if rec.Wallet != "" {
						idx, idxBucket = append(idx, key([]byte(rec.Wallet), k)), append(idxBucket, bWEvents)
					} else {
						idx, idxBucket = append(idx, append([]byte(nil), k...)), append(idxBucket, bGEvents)
					}
					return nil
				})
			}); err != nil {
				return err
			}
			if len(ks) == 0 {
				break
			}
			if err := st.Update(ctx, func(kv KV) error {
				for i, k := range ks {
					if err := kv.Delete(bEvents, k); err != nil {
						return err
					}
					if err := kv.Delete(idxBucket[i], idx[i]); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return err
			}
			if len(ks) < pruneChunk {
				break
			}
		}
	}
	return nil
}
