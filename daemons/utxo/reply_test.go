package utxo

import (
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
	net, _ := params.BTC("regtest")
	d := &Daemon{amountKey: `"amount_BTC":`, net: net}
	for _, r := range []wallet.RequestView{
		{Request: wallet.Request{ID: "08da9c2e53", Address: "bcrt1qxyz", Amount: 50_000, Memo: "plain", Timestamp: 1700000000, Expiry: 3600},
			At: time.Unix(1700000100, 0), TxHashes: []string{}},
		{Request: wallet.Request{ID: "x", Memo: "quotes \" \\ <b>&amp; \n\t\u2028 é 😀 \x01", Expiry: 0}, Status: 3,
			TxHashes: []string{"aa", "bb"}, Confirmations: 6, Sent: -3},
		{Request: wallet.Request{Memo: string([]byte{0xff, 'a'})}, TxHashes: nil},
	} {
		reply := d.requestJSON(&r)
		want, err := base.Marshal(reply)
		if err != nil {
			t.Fatal(err)
		}
		if got := reply.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("request %+v:\n got %s\nwant %s", r, got, want)
		}
	}
}
