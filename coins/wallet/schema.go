package wallet

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/params"
)

// SchemaVersion is the version of the record layout this engine reads and
// writes (the "version" key of the meta bucket). A store without the key
// is either new (it gets this version) or was written before versions
// existed (schema 0) and is migrated.
const SchemaVersion = 7

// ErrStoreVersion is returned by New for a store written by a newer
// engine (a schema version this one does not know): the store is left
// untouched rather than misread. The daemon maps it to the contract's
// WalletVersionMismatchError.
var ErrStoreVersion = errors.New("wallet store was written by a newer version of walletd")

// migration upgrades a store from schema to-1 to schema to: run inside one
// transaction that also records the new version, or, for a migration too
// large for one transaction, runStore in transactions of its own (it must
// be resumable: a crash between two of them runs it again on the store as
// it left it), followed by the transaction recording the version.
type migration struct {
	to       uint32
	name     string
	run      func(kv KV) error
	runStore func(ctx context.Context, st Store, net *params.Network) error
}

// migrations are run in order at start-up from the store's version up to
// SchemaVersion. Append only.
var migrations = []migration{
	{to: 1, name: "index the global events for get_updates", run: indexGlobalEvents},
	{to: 2, name: "store events as typed records", run: typedEvents},
	{to: 3, name: "binary records keyed by wallet number", runStore: binaryRecords},
	{to: 4, name: "wallets of a transaction and seen flags in their records", runStore: foldIndexRows},
	{to: 5, name: "raw transactions in a bucket of their own", runStore: splitRawTxs},
	{to: 6, name: "a request and its address row side by side", runStore: mergeRequestRows},
	{to: 7, name: "one get_updates index row per wallet and commit", run: walletEventRows},
}

// v1Payload is the wire JSON schema 1 stored for every event (Bitcart's
// BTC-family events with "seq").
type v1Payload struct {
	Event     string   `json:"event"`
	Height    int32    `json:"height"`
	Tx        string   `json:"tx"`
	Address   string   `json:"address"` // new_payment: the request id
	Status    int      `json:"status"`
	TxHashes  []string `json:"tx_hashes"`
	SentAmout string   `json:"sent_amount"`
}

// typedEvents (schema 1 → 2) rewrites every stored event from the wire
// JSON schema 1 stored into its typed record. Schema 1 only ever logged the
// four BTC-family shapes: new_block, new_transaction, verified_tx, and
// new_payment whose "address" is the request id (its output script is
// taken from the request when it is still stored). An event of another
// shape is an error: the migration does not guess.
func typedEvents(kv KV) error {
	const chunk = 10_000 // converted records held at once
	type conv struct {
		k   []byte
		rec eventRecord
	}
	var start []byte
	for {
		var out []conv
		var next []byte
		if err := kv.Scan(bEvents, nil, start, func(k, v []byte) error {
			if len(out) == chunk {
				next = append([]byte(nil), k...)
				return ErrStopScan
			}
			var rec eventRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Rec != nil {
				return nil
			}
			r, err := v1Record(kv, rec)
			if err != nil {
				return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			rec.Rec, rec.Payload = &r, nil
			out = append(out, conv{k: append([]byte(nil), k...), rec: rec})
			return nil
		}); err != nil {
			return err
		}
		for _, c := range out {
			if err := putJSON(kv, bEvents, c.k, c.rec); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		start = next
	}
}

// v1Record converts one schema-1 payload.
func v1Record(kv KV, rec eventRecord) (EventRecord, error) {
	var p v1Payload
	if err := json.Unmarshal(rec.Payload, &p); err != nil {
		return EventRecord{}, err
	}
	switch p.Event {
	case "new_block":
		return EventRecord{Kind: EventBlock, Height: p.Height}, nil
	case "new_transaction":
		return EventRecord{Kind: EventTransaction, TxID: p.Tx}, nil
	case "verified_tx":
		return EventRecord{Kind: EventVerified, TxID: p.Tx, Height: p.Height}, nil
	case "new_payment":
		sent, err := amount.Parse(p.SentAmout)
		if err != nil {
			return EventRecord{}, fmt.Errorf("sent_amount: %w", err)
		}
		r := EventRecord{Kind: EventPayment, RequestID: p.Address, Status: p.Status, TxHashes: p.TxHashes, Sent: sent}
		if rec.Wallet != "" {
			var req Request
			if ok, err := getJSON(kv, v1Requests, key([]byte(rec.Wallet), []byte(p.Address)), &req); err == nil && ok {
				r.Script = req.PkScript
			}
		}
		return r, nil
	}
	return EventRecord{}, fmt.Errorf("unknown event %q", p.Event)
}

// indexGlobalEvents (schema 0 → 1) adds the bGEvents entry of every logged
// global event (new_block), which get_updates merges into each queue.
func indexGlobalEvents(kv KV) error {
	var seqs [][]byte
	if err := kv.Scan(bEvents, nil, nil, func(k, v []byte) error {
		var rec eventRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		if rec.Wallet == "" {
			seqs = append(seqs, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range seqs {
		if err := kv.Put(bGEvents, k, []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// migrate brings the durable store to SchemaVersion: a new store gets the
// version key, an older one runs the missing migrations, a newer one is
// ErrStoreVersion. It reports the version the store had.
func migrate(ctx context.Context, st Store, net *params.Network) (uint32, error) {
	var version uint32
	var versioned, empty bool
	err := st.View(ctx, func(kv KV) error {
		if raw := kv.Get(bMeta, []byte("version")); raw != nil {
			if len(raw) != 4 {
				return fmt.Errorf("wallet: store version key has %d bytes", len(raw))
			}
			version, versioned = binary.BigEndian.Uint32(raw), true
			return nil
		}
		empty = kv.Get(bMeta, []byte("cursor")) == nil
		for _, b := range []string{bWallets, v1Wallets} {
			if err := kv.Scan(b, nil, nil, func(_, _ []byte) error {
				empty = false
				return ErrStopScan
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if !versioned && empty {
		return 0, st.Update(ctx, func(kv KV) error { return kv.Put(bMeta, []byte("version"), u32(SchemaVersion)) })
	}
	if version > SchemaVersion {
		return version, fmt.Errorf("%w: schema %d, this walletd reads up to %d", ErrStoreVersion, version, SchemaVersion)
	}
	from := version
	for _, m := range migrations {
		if m.to <= version {
			continue
		}
		if m.runStore != nil {
			if err := m.runStore(ctx, st, net); err != nil {
				return from, fmt.Errorf("wallet: migrating the store to schema %d (%s): %w", m.to, m.name, err)
			}
		}
		if err := st.Update(ctx, func(kv KV) error {
			if m.run != nil {
				if err := m.run(kv); err != nil {
					return err
				}
			}
			return kv.Put(bMeta, []byte("version"), u32(m.to))
		}); err != nil {
			return from, fmt.Errorf("wallet: migrating the store to schema %d (%s): %w", m.to, m.name, err)
		}
		version = m.to
	}
	return from, nil
}
