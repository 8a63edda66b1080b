package utxo

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
)

// TestRepliesWriteWhatEncodingJSONWrites: the hand-written replies are
// byte for byte what encoding/json writes for the same values (the map
// getbalance used to return, the request reply's MarshalJSON).
func TestRepliesWriteWhatMarshalWrites(t *testing.T) {
	for _, b := range []wallet.Balance{{}, {Confirmed: 1}, {Confirmed: -5, Unconfirmed: 2_100_000_000_000_000},
		{Unmatured: 50_0000_0000}, {Confirmed: 123_456_789, Unconfirmed: -1, Unmatured: 7}} {
		m := map[string]string{"confirmed": FormatFixed(b.Confirmed)}
		if b.Unconfirmed != 0 {
			m["unconfirmed"] = FormatFixed(b.Unconfirmed)
		}
		if b.Unmatured != 0 {
			m["unmatured"] = FormatFixed(b.Unmatured)
		}
		want, _ := base.Marshal(m)
		if got := balanceReply(b).AppendJSON(nil); string(got) != string(want) {
			t.Errorf("balance %+v:\n got %s\nwant %s", b, got, want)
		}
	}
}

// requestVarieties are request views covering every member's varieties:
// with and without an amount (and a negative one), memos plain, escaped
// (quotes, backslash, control characters, HTML characters, U+2028, non-
// ASCII, invalid UTF-8) and empty, every status, expiring or not (never,
// Electrum's LN_EXPIRY_NEVER, past the end of int64 time), seconds to
// years ahead and behind, fractional evaluation times, tx hashes absent,
// empty and several, confirmations, sent amounts of both signs.
func requestVarieties() []wallet.RequestView {
	now := time.Unix(1_700_000_000, 0)
	base := wallet.Request{ID: "08da9c2e53", Address: "bcrt1qxyz0", Amount: 50_000, Memo: "plain", Timestamp: now.Unix(), Expiry: 3600}
	var out []wallet.RequestView
	for _, memo := range []string{"", "plain", "order #42 & <b>", "quotes \" \\ \n\t\x01\x7f", "\u2028\u2029 é 😀", string([]byte{0xff, 'a'}), "/path_.-~"} {
		r := base
		r.Memo = memo
		out = append(out, wallet.RequestView{Request: r, At: now, TxHashes: []string{}})
	}
	for _, amt := range []int64{0, 1, 100_000_000, 150_000_000, -5, 2_100_000_000_000_000, math.MaxInt64, math.MinInt64 + 1} {
		for _, memo := range []string{"", "m"} {
			r := base
			r.Amount, r.Memo = amt, memo
			out = append(out, wallet.RequestView{Request: r, At: now})
		}
	}
	for _, exp := range []int64{0, -1, 1, 59, 90, 3600, 86400 * 3, 86400 * 40, 86400 * 400, lnExpiryNever, math.MaxInt64} {
		for _, dt := range []time.Duration{0, 500 * time.Millisecond, 30 * time.Second, 45 * time.Minute, 3 * time.Hour, 50 * time.Hour, -time.Hour} {
			r := base
			r.Expiry = exp
			out = append(out, wallet.RequestView{Request: r, At: now.Add(dt)})
		}
	}
	for _, st := range []int{wallet.StatusUnpaid, wallet.StatusExpired, wallet.StatusUnknown, wallet.StatusPaid, wallet.StatusUnconfirmed, 99} {
		r := base
		r.Timestamp = 0
		out = append(out, wallet.RequestView{Request: r, Status: st, At: now, Paid: true, Confirmations: 6, Sent: -3,
			TxHashes: []string{"aa", "bb\"", "cc"}})
	}
	// Addresses are the node's, plain ASCII; the writer does not count on
	// it (the URI carries the address raw).
	for _, addr := range []string{"addr<&>\"\\é\x00", "a\\b", "aé", "a\"", "a\x7f", "a\x1f"} {
		r := base
		r.ID, r.Address = "id \"quoted\" é", addr
		out = append(out, wallet.RequestView{Request: r, At: now, Sent: 123_456_789, Confirmations: -1})
	}
	return out
}

// TestRequestReplyMatchesEncodingJSON: the request reply written in place
// is byte for byte the reply encoding/json wrote for the struct it
// replaced (refRequestJSON), with sent_amount and without (getinvoice),
// alone and in a list (list_requests: encoding/json around MarshalJSON).
func TestRequestReplyMatchesEncodingJSON(t *testing.T) {
	net, _ := params.BTC("regtest")
	d := &Daemon{amountKey: `"amount_BTC":`, net: net}
	var list []requestReply
	var want [][]byte
	for _, r := range requestVarieties() {
		checkRequestReply(t, d, &r)
		list = append(list, d.requestJSON(&r))
		w, _ := refRequestJSON(d.amountKey, net, &r, true)
		want = append(want, w)
	}
	got, err := base.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if w := "[" + string(bytes.Join(want, []byte(","))) + "]"; string(got) != w {
		t.Errorf("list:\n got %s\nwant %s", got, w)
	}
}

// checkRequestReply compares the reply of r with the oracle's, with and
// without sent_amount.
func checkRequestReply(t *testing.T, d *Daemon, r *wallet.RequestView) {
	t.Helper()
	for _, withSent := range []bool{true, false} {
		want, err := refRequestJSON(d.amountKey, d.net, r, withSent)
		if err != nil {
			t.Fatal(err)
		}
		reply := d.requestJSON(r)
		reply.noSent = !withSent
		if got := reply.AppendJSON([]byte("prefix")); string(got) != "prefix"+string(want) {
			t.Fatalf("request %+v (sent %v):\n got %s\nwant %s", *r, withSent, got[len("prefix"):], want)
		}
		if got, _ := base.Marshal(reply); string(got) != string(want) {
			t.Fatalf("request %+v through base.Marshal:\n got %s\nwant %s", *r, got, want)
		}
	}
}

// FuzzRequestReply checks TestRequestReplyMatchesEncodingJSON's property on
// any request view.
func FuzzRequestReply(f *testing.F) {
	for _, r := range requestVarieties() {
		f.Add(r.ID, r.Address, r.Memo, r.Amount, r.Timestamp, r.Expiry, r.Status, r.At.Unix(), int64(r.At.Nanosecond()),
			r.Confirmations, r.Sent, len(r.TxHashes), r.TxHashes == nil)
	}
	net, _ := params.BTC("regtest")
	d := &Daemon{amountKey: `"amount_BTC":`, net: net}
	f.Fuzz(func(t *testing.T, id, addr, memo string, amt, ts, exp int64, status int, at, atNanos, conf, sent int64,
		ntx int, nilTx bool) {
		if at < 0 || at > 1<<40 || ts < 0 {
			return // the engine's clock and timestamps are after 1970 (expiresAt's premise)
		}
		r := wallet.RequestView{Request: wallet.Request{ID: id, Address: addr, Memo: memo, Amount: amt, Timestamp: ts,
			Expiry: exp}, Status: status, At: time.Unix(at, atNanos%1e9), Confirmations: conf, Sent: sent}
		if !nilTx {
			r.TxHashes = []string{}
			for i := range ntx % 4 {
				r.TxHashes = append(r.TxHashes, memo[:min(len(memo), i*3)]+id)
			}
		}
		checkRequestReply(t, d, &r)
	})
}
