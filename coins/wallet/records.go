package wallet

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// Buckets of the store (schema 5). Keys are binary and fixed-width where
// they are prefixes, so that prefix scans select exactly one wallet's
// records; a wallet's records are keyed by its number (4 bytes, big
// endian, given in order of tracking), so they sort together and a new
// wallet's records append at the end of their buckets. Values are binary
// records (codec.go), the event log's included.
const (
	bMeta    = "meta" // "version" → uint32 schema; "cursor" → cursorRec; "notified" → uint32 height of the last new_block
	bWallets = "w"    // num → walletRecord
	bAddrs   = "a"    // num|chain(1)|index(4) → addrRecord
	bTxs     = "txs"  // txid(32) → txRecord (with the numbers of the wallets it touches), without its raw bytes
	// bTxRaw holds the raw transactions (schema 5; the txRecord held them
	// before, migration 5 moves them): written once when a transaction is
	// first recorded, while its txRecord is rewritten each time its place
	// in the chain changes (a block rewrites 2,000 of them, ~70 bytes each
	// rather than ~300).
	bTxRaw     = "txraw"  // txid(32) → raw transaction
	bWalletTxs = "x"      // num|txid → walletTx
	bUTXOs     = "u"      // num|outpoint(36) → utxoRecord (spent ones kept, marked)
	bBlocks    = "blocks" // height(4) → blockRecord
	// bTxWallets (txid|num → nil) held the wallets a tx touches up to
	// schema 3; schema 4 keeps them in the txRecord (migration 4 moves
	// them).
	bTxWallets = "tw"
	// bSeen (num|txid → nil) noted, up to schema 3, that new_transaction
	// was logged for the wallet's tx; schema 4 keeps that in the walletTx
	// (Seen), and a row here only for a wallet tx whose record was deleted
	// while its event stays logged (a coinbase of a disconnected block), so
	// that its return is not announced twice.
	bSeen     = "seen"
	bBackfill = "bf"   // num|chain(1)|index(4) → pkScript: addresses whose history is not applied yet
	bNums     = "nums" // its sequence numbers the wallets
	// The event log keeps its keys (events.go): events, wallet and global
	// indexes and get_updates cursors name wallets by id.
	bEvents  = "events"  // seq(8) → eventRecord
	bWEvents = "wevents" // walletID|seq(8) → nil
	bPolls   = "polls"   // walletID → seq(8) drained by get_updates
	bGEvents = "gevents" // seq(8) → nil: the global events (new_block), merged into every get_updates queue
)

// walletIDLen is the length of a wallet id (hex fingerprint).
const walletIDLen = 64

// numLen is the length of a wallet number in keys.
const numLen = 4

// numKey is the key prefix of wallet number n.
func numKey(n uint32) []byte { return u32(n) }

// walletRecord is a tracked wallet's public description.
type walletRecord struct {
	ID string `json:"id"`
	// Num is the wallet's number, the prefix of its records' keys
	// (schema 3; never reused).
	Num        uint32   `json:"-"`
	Kind       string   `json:"kind"`
	ScriptType string   `json:"script_type"`
	MPK        string   `json:"mpk,omitempty"`      // account xpub (public)
	PublicKey  string   `json:"public,omitempty"`   // the key string when it is public (xpub, address list)
	Imported   []string `json:"imported,omitempty"` // addresses of an imported wallet
	NextRecv   uint32   `json:"next_recv"`          // receiving addresses in use (Electrum's visible ones)
	NextChange uint32   `json:"next_change"`        // change addresses derived
	// DerivedRecv counts receiving addresses derived, stored and watched
	// ahead of NextRecv, so a forced request only reveals the next one.
	DerivedRecv uint32    `json:"derived_recv,omitempty"`
	Created     time.Time `json:"created"`
	Birthday    int32     `json:"birthday"` // cursor height when first tracked
	// Pending is set while the history of the wallet's first addresses is
	// not applied yet: such a wallet is not handed to callers until a
	// backfill completes (a crash during a first load leaves it set, and
	// the backfill is retried at start-up).
	Pending bool `json:"pending,omitempty"`
}

// derivedRecv returns how many receiving addresses exist (≥ NextRecv).
func (r *walletRecord) derivedRecv() uint32 {
	if r.DerivedRecv < r.NextRecv {
		return r.NextRecv
	}
	return r.DerivedRecv
}

// scriptRef ties a script to one wallet's address.
type scriptRef struct {
	Wallet string `json:"w"`
	Change bool   `json:"c,omitempty"`
	Index  uint32 `json:"i"`
}

type addrRecord struct {
	Address  string `json:"a"`
	PkScript []byte `json:"s"`
	PubKey   []byte `json:"p,omitempty"`
	// own: Address is the script's own encoding, so the record does not
	// store it (Engine.getAddr derives it again).
	own bool
}

type txRecord struct {
	// Raw is the serialized transaction: in bTxRaw (schema 5), filled in
	// by getTx; a record of bTxs has it only before migration 5.
	Raw       []byte    `json:"raw"`
	Height    int32     `json:"h"`
	BlockHash string    `json:"bh,omitempty"`
	Time      time.Time `json:"t"`
	FirstSeen time.Time `json:"fs"`
	Coinbase  bool      `json:"cb,omitempty"`
	// Wallets are the numbers of the wallets of this store the tx
	// touches, ascending (schema 4; bTxWallets before).
	Wallets []uint32 `json:"-"`
}

// addWallet adds wallet number num to r.Wallets; it reports whether it
// was absent.
func (r *txRecord) addWallet(num uint32) bool {
	i, found := slices.BinarySearch(r.Wallets, num)
	if found {
		return false
	}
	r.Wallets = slices.Insert(r.Wallets, i, num)
	return true
}

// removeWallet removes wallet number num from r.Wallets.
func (r *txRecord) removeWallet(num uint32) {
	if i, found := slices.BinarySearch(r.Wallets, num); found {
		r.Wallets = slices.Delete(r.Wallets, i, i+1)
	}
}

type walletTx struct {
	Height    int32     `json:"h"`
	Received  int64     `json:"r"` // sats paid to the wallet by this tx
	Sent      int64     `json:"s"` // sats of the wallet's coins this tx spent
	FirstSeen time.Time `json:"fs"`
	Verified  bool      `json:"v,omitempty"` // verified_tx sent for the current height
	// Seen: new_transaction was logged for the wallet's tx (schema 4;
	// bSeen before).
	Seen bool `json:"-"`
}

type utxoRecord struct {
	Value       int64  `json:"v"`
	PkScript    []byte `json:"s"`
	Height      int32  `json:"h"`
	Coinbase    bool   `json:"cb,omitempty"`
	Change      bool   `json:"c,omitempty"`
	Index       uint32 `json:"i"`
	SpentBy     string `json:"sb,omitempty"`
	SpentHeight int32  `json:"sh,omitempty"`
	// Token: the output carries tokens (BCH's CashTokens); PkScript is its
	// locking script. Never spent as plain coin.
	Token bool `json:"tk,omitempty"`
}

type blockRecord struct {
	Hash string   `json:"h"`
	Prev string   `json:"p"`
	Time int64    `json:"t"`
	Txs  []string `json:"txs,omitempty"`
}

// eventRecord is one stored event. Schema 3 stores it binary (codec.go)
// with its typed record (Rec); schema 2 stored the same as JSON, schema 1
// the wire JSON (Payload), which migration 2 converts.
type eventRecord struct {
	Wallet  string          `json:"w,omitempty"`
	Time    int64           `json:"t"`
	Payload json.RawMessage `json:"p,omitempty"`
	Rec     *EventRecord    `json:"r,omitempty"`
}

func u32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}

// uint32FromBytes decodes a big-endian uint32 (0 unless b has 4 bytes).
func uint32FromBytes(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func outpointKey(op wire.OutPoint) []byte {
	return key(op.Hash[:], u32(op.Index))
}

func outpointFromKey(b []byte) wire.OutPoint {
	var op wire.OutPoint
	copy(op.Hash[:], b[:32])
	op.Index = binary.BigEndian.Uint32(b[32:36])
	return op
}

func chainByte(change bool) []byte {
	if change {
		return []byte{1}
	}
	return []byte{0}
}

func hashKey(h chainhash.Hash) []byte { return append([]byte(nil), h[:]...) }

// getJSON and putJSON read and write the JSON records of schemas 1 and 2
// (the migrations' input; schema 3's records are binary, codec.go).
func getJSON(kv KV, bucket string, k []byte, v any) (bool, error) {
	raw := kv.Get(bucket, k)
	if raw == nil {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

func putJSON(kv KV, bucket string, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return kv.Put(bucket, k, raw)
}

// cursorRec is the stored chain cursor.
type cursorRec chain.BlockRef

func (c cursorRec) appendBin(b []byte) []byte {
	b = putVarint(b, int64(c.Height))
	b = append(b, c.Hash[:]...)
	b = append(b, c.Prev[:]...)
	return putTime(b, c.Time)
}

func (c *cursorRec) decodeBin(d *decoder) {
	c.Height = d.i32()
	copy(c.Hash[:], d.take(32))
	copy(c.Prev[:], d.take(32))
	c.Time = d.time()
}

// getCursor reads the stored cursor (zero when none).
func getCursor(kv KV) (chain.BlockRef, error) {
	var c cursorRec
	_, err := getRec(kv, bMeta, []byte("cursor"), &c)
	return chain.BlockRef(c), err
}

// putCursor stores the cursor.
func putCursor(kv KV, ref chain.BlockRef) error {
	return putRec(kv, bMeta, []byte("cursor"), cursorRec(ref))
}

// chainOrder orders transactions as history shows them: confirmed ones by
// height, then mempool ones (height 0) by first sight.
func chainOrder(hi, hj int32, seenI, seenJ time.Time) bool {
	if (hi == 0) != (hj == 0) {
		return hj == 0
	}
	if hi != hj {
		return hi < hj
	}
	return seenI.Before(seenJ)
}

// getTx reads transaction hk's record with its raw bytes (from bTxRaw).
func getTx(kv KV, hk []byte, rec *txRecord) (bool, error) {
	found, err := getRec(kv, bTxs, hk, rec)
	if err != nil || !found {
		return found, err
	}
	if len(rec.Raw) == 0 {
		raw := kv.Get(bTxRaw, hk)
		if raw == nil {
			return false, fmt.Errorf("wallet: transaction %x has no raw record", hk)
		}
		rec.Raw = append([]byte(nil), raw...)
	}
	return true, nil
}

// putTxRec writes transaction hk's record without its raw bytes (written
// once, by putTxRaw).
func putTxRec(kv KV, hk []byte, rec txRecord) error {
	rec.Raw = nil
	return putRec(kv, bTxs, hk, rec)
}

// putTxRaw writes transaction hk's raw bytes.
func putTxRaw(kv KV, hk, raw []byte) error { return kv.Put(bTxRaw, hk, raw) }

// deleteTx removes transaction hk's record and raw bytes.
func deleteTx(kv KV, hk []byte) error {
	if err := kv.Delete(bTxs, hk); err != nil {
		return err
	}
	return kv.Delete(bTxRaw, hk)
}
