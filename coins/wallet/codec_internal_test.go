package wallet

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestBinaryRecordsRoundTrip: every record kind the store keeps decodes to
// what was encoded, every field set (the event log's typed records of
// each kind, CashTokens coins, non-hex strings where hex is usual), and a
// record cut short or garbled is an error, never a panic.
func TestBinaryRecordsRoundTrip(t *testing.T) {
	txid := strings.Repeat("ab", 32)
	wid := strings.Repeat("0f", 32)
	at := time.Unix(1_700_000_000, 123_456_789)
	cases := []struct {
		in  binRecord
		out interface {
			binDecoder
		}
	}{
		{walletRecord{ID: wid, Num: 7, Kind: "standard", ScriptType: "p2wpkh", MPK: "xpubA", PublicKey: "xpubA",
			Imported: []string{"a", "b"}, NextRecv: 3, NextChange: 2, DerivedRecv: 40, Created: at, Birthday: -1, Pending: true},
			&walletRecord{}},
		{walletRecord{ID: "not hex", MPK: "m", PublicKey: "p"}, &walletRecord{}},
		{addrRecord{Address: "elsewhere", PkScript: []byte{0, 20, 1}, PubKey: []byte{2, 3}}, &addrRecord{}},
		{utxoRecord{Value: 5, PkScript: []byte{0xaa}, Height: 9, Coinbase: true, Change: true, Index: 4,
			SpentBy: txid, SpentHeight: 10, Token: true}, &utxoRecord{}},
		{txRecord{Raw: []byte{1, 2}, Height: -1, BlockHash: txid, Time: at, FirstSeen: at.Add(time.Second), Coinbase: true}, &txRecord{}},
		{txRecord{Raw: []byte{3}, Height: 5, Wallets: []uint32{1, 70_000, 1 << 31}}, &txRecord{}},
		{walletTx{Height: 3, Received: 10, Sent: -4, FirstSeen: at, Verified: true}, &walletTx{}},
		{walletTx{Height: 3, FirstSeen: at, Seen: true}, &walletTx{}},
		{Request{ID: "08da9c2e53", PkScript: []byte{0x51}, Address: "bcrt1q", Index: 2, Amount: 50_000, Memo: "m & co",
			Timestamp: 1, Expiry: 900, Status: StatusPaid, Sent: 50_000, TxHashes: []string{txid, "short"},
			Paid: []paidOut{{Tx: txid, N: 1, V: 50_000}}}, &Request{}},
		{blockRecord{Hash: txid, Prev: wid, Time: 12, Txs: []string{txid}}, &blockRecord{}},
		{eventRecord{Time: 5, Rec: &EventRecord{Kind: EventBlock, Height: 812}}, &eventRecord{}},
		{eventRecord{Wallet: wid, Time: 6, Rec: &EventRecord{Kind: EventTransaction, TxID: txid}}, &eventRecord{}},
		{eventRecord{Wallet: wid, Time: 7, Rec: &EventRecord{Kind: EventVerified, TxID: txid, Height: 3}}, &eventRecord{}},
		{eventRecord{Wallet: wid, Time: 8, Rec: &EventRecord{Kind: EventPayment, RequestID: "08da9c2e53",
			Script: []byte{0, 20, 9}, Status: StatusUnconfirmed, TxHashes: []string{txid}, Sent: 20_000}}, &eventRecord{}},
	}
	for _, c := range cases {
		raw := encodeRec(c.in)
		if err := decodeRec(raw, c.out); err != nil {
			t.Fatalf("%T: %v", c.in, err)
		}
		got := reflect.ValueOf(c.out).Elem().Interface()
		if !reflect.DeepEqual(got, c.in) {
			t.Errorf("%T round trip:\n got %+v\nwant %+v", c.in, got, c.in)
		}
		if ev, ok := got.(eventRecord); ok && !reflect.DeepEqual(*ev.Rec, *c.in.(eventRecord).Rec) {
			t.Errorf("event record:\n got %+v\nwant %+v", *ev.Rec, *c.in.(eventRecord).Rec)
		}
		// Cut short anywhere, garbled anywhere: an error or a value, no panic.
		for i := 1; i < len(raw); i++ {
			_ = decodeRec(raw[:i], reflect.New(reflect.TypeOf(c.out).Elem()).Interface().(binDecoder))
			bad := append([]byte(nil), raw...)
			bad[i] ^= 0xff
			_ = decodeRec(bad, reflect.New(reflect.TypeOf(c.out).Elem()).Interface().(binDecoder))
		}
	}
	if err := decodeRec([]byte(`{"t":1}`), &eventRecord{}); err == nil {
		t.Error("a JSON record decodes as binary")
	}
	var ev eventRecord
	if err := decodeRec(encodeRec(eventRecord{Time: 1}), &ev); err != nil || ev.Rec != nil {
		t.Errorf("an event without its typed record: %+v %v", ev, err)
	}
	if _, err := ev.record(); err == nil {
		t.Error("an event without its typed record reads as one")
	}
}

// TestSchema3TxRecordDecodes: a transaction record as schema 3 wrote it
// (no wallet list at its end) decodes with no wallets, the rest intact.
func TestSchema3TxRecordDecodes(t *testing.T) {
	at := time.Unix(1_700_000_000, 5)
	b := putUvarint([]byte{binTag}, fCoinbase)
	b = putBytes(b, []byte{7, 8})
	b = putVarint(b, 12)
	b = putHex(b, "")
	b = putTime(b, at)
	b = putTime(b, at)
	var r txRecord
	if err := decodeRec(b, &r); err != nil {
		t.Fatal(err)
	}
	want := txRecord{Raw: []byte{7, 8}, Height: 12, Time: at, FirstSeen: at, Coinbase: true}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v, want %+v", r, want)
	}
}

// TestHexStringsRoundTrip: 64 lowercase hex digits are stored as their 32
// raw bytes, anything else (empty, upper case, other lengths, non-hex) as
// itself, and every one reads back as written.
func TestHexStringsRoundTrip(t *testing.T) {
	id := "00ff10a9bcdef0123456789abcdef0123456789abcdef0123456789abcdef0fa"
	for _, c := range []struct {
		s    string
		kind byte
		size int
	}{
		{"", hexEmpty, 1},
		{id, hexRaw, 33},
		{strings.ToUpper(id), hexOther, 66},
		{id[:63] + "g", hexOther, 66},
		{id[:62], hexOther, 64},
		{id + "00", hexOther, 68},
		{"not hex", hexOther, 9},
	} {
		b := putHex(nil, c.s)
		if b[0] != c.kind || len(b) != c.size {
			t.Errorf("%q: kind %d, %d bytes; want kind %d, %d bytes", c.s, b[0], len(b), c.kind, c.size)
		}
		d := decoder{b: b}
		if got := d.hex(); got != c.s || d.err != nil || len(d.b) != 0 {
			t.Errorf("%q read back as %q (err %v, %d bytes left)", c.s, got, d.err, len(d.b))
		}
	}
}
