package wallet

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// Binary records (schema 3).
//
// Every record value the engine writes (wallets, addresses, coins,
// transactions, wallet transactions, requests, blocks, the cursor, the
// event log's typed records) starts
// with binTag, a byte no JSON text starts with, then its fields in a fixed
// order: unsigned integers as uvarints, signed ones as varints (zig-zag),
// byte strings with a uvarint length, booleans packed in one flags
// uvarint, times as unix nanoseconds (a flag marks the zero time), and
// hex strings (txids, block hashes, wallet ids) as their 32 raw bytes when
// they are 64 lowercase hex digits (anything else as a string, so every
// value round-trips). A record may gain fields at its end: a decoder
// leaves absent trailing fields zero.
const binTag = 0x02

// errRecord is a record that does not decode.
var errRecord = errors.New("wallet: malformed store record")

// binRecord is a record with a binary encoding.
type binRecord interface {
	appendBin(b []byte) []byte
}

// binDecoder is the decoding side of a binRecord.
type binDecoder interface {
	decodeBin(d *decoder)
}

// getRec reads the record at k into v; found is false when it is absent.
func getRec(kv KV, bucket string, k []byte, v binDecoder) (bool, error) {
	raw := kv.Get(bucket, k)
	if raw == nil {
		return false, nil
	}
	return true, decodeRec(raw, v)
}

// decodeRec decodes a binary record.
func decodeRec(raw []byte, v binDecoder) error {
	if len(raw) == 0 || raw[0] != binTag {
		return fmt.Errorf("%w: %d bytes, tag %#x", errRecord, len(raw), firstByte(raw))
	}
	d := decoder{b: raw[1:]}
	v.decodeBin(&d)
	if d.err != nil {
		return d.err
	}
	return nil
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// putRec writes v at k.
func putRec(kv KV, bucket string, k []byte, v binRecord) error {
	return kv.Put(bucket, k, encodeRec(v))
}

// encodeRec encodes v with its tag.
func encodeRec(v binRecord) []byte {
	return v.appendBin(append(make([]byte, 0, 64), binTag))
}

// encoder helpers: each appends one field.

func putUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
func putVarint(b []byte, v int64) []byte   { return binary.AppendVarint(b, v) }

func putBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func putString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// putTime writes t as unix nanoseconds; the zero time (and times outside
// what nanoseconds can hold) as a flag.
func putTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	s := t.Unix()
	if s < math.MinInt64/1_000_000_000+1 || s > math.MaxInt64/1_000_000_000-1 {
		b = append(b, 2)
		b = putVarint(b, s)
		return putUvarint(b, uint64(t.Nanosecond()))
	}
	b = append(b, 1)
	return putVarint(b, t.UnixNano())
}

// hex string kinds.
const (
	hexEmpty = 0
	hexRaw   = 1 // 32 raw bytes: 64 lowercase hex digits
	hexOther = 2 // any other string, as is
)

// putHex writes a hex string (a txid, a block hash, a wallet id): 32 raw
// bytes when it is 64 lowercase hex digits, else the string itself.
func putHex(b []byte, s string) []byte {
	if s == "" {
		return append(b, hexEmpty)
	}
	if len(s) == 64 {
		var raw [32]byte
		if decodeLowerHex(raw[:], s) {
			b = append(b, hexRaw)
			return append(b, raw[:]...)
		}
	}
	b = append(b, hexOther)
	return putString(b, s)
}

// decodeLowerHex decodes s, 2×len(dst) lowercase hex digits, into dst in
// one pass without copying s; false when s is anything else.
func decodeLowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := lowerHexDigit(s[2*i])
		lo, ok2 := lowerHexDigit(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// lowerHexDigit is the value of a lowercase hex digit.
func lowerHexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// putHexes writes a list of hex strings.
func putHexes(b []byte, ss []string) []byte {
	b = putUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = putHex(b, s)
	}
	return b
}

// decoder reads fields in order; the first error sticks and later reads
// return zero values. Reading past the end is not an error: fields a newer
// record added are absent in an older one and read as zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errRecord
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if len(d.b) == 0 {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if len(d.b) == 0 {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	v := d.uvarint()
	if v > math.MaxUint32 {
		d.fail()
		return 0
	}
	return uint32(v)
}

func (d *decoder) i32() int32 {
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int32(v)
}

// take returns the next n bytes (a view into the record).
func (d *decoder) take(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// bytes returns a copy of the next length-prefixed byte string (nil when
// empty).
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	v := d.take(n)
	if v == nil {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n == 0 {
		return ""
	}
	return string(d.take(n))
}

func (d *decoder) time() time.Time {
	if len(d.b) == 0 {
		return time.Time{}
	}
	kind := d.b[0]
	d.b = d.b[1:]
	switch kind {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, d.varint())
	case 2:
		s := d.varint()
		return time.Unix(s, int64(d.uvarint()))
	}
	d.fail()
	return time.Time{}
}

func (d *decoder) hex() string {
	if len(d.b) == 0 {
		return ""
	}
	kind := d.b[0]
	d.b = d.b[1:]
	switch kind {
	case hexEmpty:
		return ""
	case hexRaw:
		raw := d.take(32)
		if raw == nil {
			return ""
		}
		var buf [64]byte
		hex.Encode(buf[:], raw)
		return string(buf[:])
	case hexOther:
		return d.string()
	}
	d.fail()
	return ""
}

func (d *decoder) hexes() []string {
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every entry takes at least a byte
		d.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.hex()
	}
	return out
}

// flag bits of the records' flags fields.
const (
	fPending  = 1 << iota // walletRecord.Pending
	fSameMPK              // walletRecord.PublicKey == MPK (stored once)
	fCoinbase             // utxoRecord.Coinbase, txRecord.Coinbase
	fChange               // utxoRecord.Change
	fVerified             // walletTx.Verified
	fAddress              // addrRecord / Request: the address is stored (not the script's own encoding)
	fToken                // utxoRecord.Token
	fSeen                 // walletTx.Seen (schema 4)
)

func flag(on bool, bit uint64) uint64 {
	if on {
		return bit
	}
	return 0
}

// walletRecord: num, id, kind, script type, mpk, public key, imported
// addresses, counters, created, birthday, flags.
func (r walletRecord) appendBin(b []byte) []byte {
	same := r.PublicKey != "" && r.PublicKey == r.MPK
	b = putUvarint(b, flag(r.Pending, fPending)|flag(same, fSameMPK))
	b = putUvarint(b, uint64(r.Num))
	b = putHex(b, r.ID)
	b = putString(b, r.Kind)
	b = putString(b, r.ScriptType)
	b = putString(b, r.MPK)
	if !same {
		b = putString(b, r.PublicKey)
	}
	b = putUvarint(b, uint64(len(r.Imported)))
	for _, a := range r.Imported {
		b = putString(b, a)
	}
	b = putUvarint(b, uint64(r.NextRecv))
	b = putUvarint(b, uint64(r.NextChange))
	b = putUvarint(b, uint64(r.DerivedRecv))
	b = putTime(b, r.Created)
	return putVarint(b, int64(r.Birthday))
}

func (r *walletRecord) decodeBin(d *decoder) {
	flags := d.uvarint()
	r.Pending = flags&fPending != 0
	r.Num = d.u32()
	r.ID = d.hex()
	r.Kind = d.string()
	r.ScriptType = d.string()
	r.MPK = d.string()
	if flags&fSameMPK != 0 {
		r.PublicKey = r.MPK
	} else {
		r.PublicKey = d.string()
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return
	}
	r.Imported = nil
	for i := uint64(0); i < n; i++ {
		r.Imported = append(r.Imported, d.string())
	}
	r.NextRecv = d.u32()
	r.NextChange = d.u32()
	r.DerivedRecv = d.u32()
	r.Created = d.time()
	r.Birthday = d.i32()
}

// addrRecord: flags, script, public key, and the address unless it is the
// script's own encoding (own: the reader derives it, see Engine.getAddr).
func (a addrRecord) appendBin(b []byte) []byte {
	own := a.own || a.Address == ""
	b = putUvarint(b, flag(!own, fAddress))
	b = putBytes(b, a.PkScript)
	b = putBytes(b, a.PubKey)
	if !own {
		b = putString(b, a.Address)
	}
	return b
}

func (a *addrRecord) decodeBin(d *decoder) {
	flags := d.uvarint()
	a.PkScript = d.bytes()
	a.PubKey = d.bytes()
	a.Address, a.own = "", flags&fAddress == 0
	if !a.own {
		a.Address = d.string()
	}
}

// utxoRecord: flags, value, script, height, index, spender, spent height.
func (u utxoRecord) appendBin(b []byte) []byte {
	b = putUvarint(b, flag(u.Coinbase, fCoinbase)|flag(u.Change, fChange)|flag(u.Token, fToken))
	b = putVarint(b, u.Value)
	b = putBytes(b, u.PkScript)
	b = putVarint(b, int64(u.Height))
	b = putUvarint(b, uint64(u.Index))
	b = putHex(b, u.SpentBy)
	return putVarint(b, int64(u.SpentHeight))
}

func (u *utxoRecord) decodeBin(d *decoder) {
	flags := d.uvarint()
	u.Coinbase, u.Change, u.Token = flags&fCoinbase != 0, flags&fChange != 0, flags&fToken != 0
	u.Value = d.varint()
	u.PkScript = d.bytes()
	u.Height = d.i32()
	u.Index = d.u32()
	u.SpentBy = d.hex()
	u.SpentHeight = d.i32()
}

// txRecord: flags, raw, height, block hash, time, first seen, then
// (schema 4) the count of wallet numbers and the numbers (a schema 3
// record ends before them: no wallets).
func (r txRecord) appendBin(b []byte) []byte {
	b = putUvarint(b, flag(r.Coinbase, fCoinbase))
	b = putBytes(b, r.Raw)
	b = putVarint(b, int64(r.Height))
	b = putHex(b, r.BlockHash)
	b = putTime(b, r.Time)
	b = putTime(b, r.FirstSeen)
	b = putUvarint(b, uint64(len(r.Wallets)))
	for _, n := range r.Wallets {
		b = putUvarint(b, uint64(n))
	}
	return b
}

func (r *txRecord) decodeBin(d *decoder) {
	r.Coinbase = d.uvarint()&fCoinbase != 0
	r.Raw = d.bytes()
	r.Height = d.i32()
	r.BlockHash = d.hex()
	r.Time = d.time()
	r.FirstSeen = d.time()
	r.Wallets = nil
	if len(d.b) == 0 {
		return // schema 3
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return
	}
	if n > 0 {
		r.Wallets = make([]uint32, n)
		for i := range r.Wallets {
			r.Wallets[i] = d.u32()
		}
	}
}

// walletTx: flags, height, received, sent, first seen.
func (w walletTx) appendBin(b []byte) []byte {
	b = putUvarint(b, flag(w.Verified, fVerified)|flag(w.Seen, fSeen))
	b = putVarint(b, int64(w.Height))
	b = putVarint(b, w.Received)
	b = putVarint(b, w.Sent)
	return putTime(b, w.FirstSeen)
}

func (w *walletTx) decodeBin(d *decoder) {
	flags := d.uvarint()
	w.Verified, w.Seen = flags&fVerified != 0, flags&fSeen != 0
	w.Height = d.i32()
	w.Received = d.varint()
	w.Sent = d.varint()
	w.FirstSeen = d.time()
}

// Request: flags (none yet), id, script, address, index, amount, memo,
// timestamp, expiry, status, sent, tx hashes, paid outputs.
func (r Request) appendBin(b []byte) []byte {
	b = putUvarint(b, 0)
	b = putString(b, r.ID)
	b = putBytes(b, r.PkScript)
	b = putString(b, r.Address)
	b = putUvarint(b, uint64(r.Index))
	b = putVarint(b, r.Amount)
	b = putString(b, r.Memo)
	b = putVarint(b, r.Timestamp)
	b = putVarint(b, r.Expiry)
	b = putVarint(b, int64(r.Status))
	b = putVarint(b, r.Sent)
	b = putHexes(b, r.TxHashes)
	b = putUvarint(b, uint64(len(r.Paid)))
	for _, p := range r.Paid {
		b = putHex(b, p.Tx)
		b = putUvarint(b, uint64(p.N))
		b = putVarint(b, p.V)
	}
	return b
}

func (r *Request) decodeBin(d *decoder) {
	d.uvarint() // flags
	r.ID = d.string()
	r.PkScript = d.bytes()
	r.Address = d.string()
	r.Index = d.u32()
	r.Amount = d.varint()
	r.Memo = d.string()
	r.Timestamp = d.varint()
	r.Expiry = d.varint()
	r.Status = int(d.varint())
	r.Sent = d.varint()
	r.TxHashes = d.hexes()
	if r.TxHashes == nil {
		r.TxHashes = []string{}
	}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return
	}
	r.Paid = nil
	for i := uint64(0); i < n; i++ {
		r.Paid = append(r.Paid, paidOut{Tx: d.hex(), N: d.u32(), V: d.varint()})
	}
}

// blockRecord: hash, prev, time, txids.
func (r blockRecord) appendBin(b []byte) []byte {
	b = putHex(b, r.Hash)
	b = putHex(b, r.Prev)
	b = putVarint(b, r.Time)
	return putHexes(b, r.Txs)
}

func (r *blockRecord) decodeBin(d *decoder) {
	r.Hash = d.hex()
	r.Prev = d.hex()
	r.Time = d.varint()
	r.Txs = d.hexes()
}

// eventRecord: flags (none yet), wallet id, time, then the typed record:
// kind, height, txid, request id, script, status, tx hashes, sent. A
// record without its typed form (schema 1's wire JSON, which migration 2
// converts) cannot be encoded: it encodes as kind 0, which decodes to no
// record.
func (r eventRecord) appendBin(b []byte) []byte {
	b = putUvarint(b, 0)
	b = putHex(b, r.Wallet)
	b = putVarint(b, r.Time)
	var e EventRecord
	if r.Rec != nil {
		e = *r.Rec
	}
	b = putUvarint(b, uint64(e.Kind))
	b = putVarint(b, int64(e.Height))
	b = putHex(b, e.TxID)
	b = putString(b, e.RequestID)
	b = putBytes(b, e.Script)
	b = putVarint(b, int64(e.Status))
	b = putHexes(b, e.TxHashes)
	return putVarint(b, e.Sent)
}

func (r *eventRecord) decodeBin(d *decoder) {
	d.uvarint() // flags
	r.Wallet = d.hex()
	r.Time = d.varint()
	r.Payload, r.Rec = nil, nil
	kind := d.uvarint()
	if kind == 0 || kind > math.MaxUint8 {
		if kind != 0 {
			d.fail()
		}
		return
	}
	e := EventRecord{Kind: EventKind(kind)}
	e.Height = d.i32()
	e.TxID = d.hex()
	e.RequestID = d.string()
	e.Script = d.bytes()
	e.Status = int(d.varint())
	e.TxHashes = d.hexes()
	e.Sent = d.varint()
	r.Rec = &e
}
