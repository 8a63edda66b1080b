package utxo

import (
	"math"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
)

// TestDeltaTimeStr: Electrum 4.6's util.delta_time_str(…, include_seconds=
// True), with Python's round half to even; the expected strings were
// printed by that function.
func TestDeltaTimeStr(t *testing.T) {
	for _, c := range []struct {
		secs int64
		want string
	}{
		{0, "0 seconds"},
		{1, "1 seconds"},
		{29, "29 seconds"},
		{30, "30 seconds"},
		{31, "about 1 minutes"},
		{89, "about 1 minutes"},
		{90, "about 2 minutes"},
		{91, "about 2 minutes"},
		{149, "about 2 minutes"},
		{150, "about 2 minutes"},
		{151, "about 3 minutes"},
		{2669, "about 44 minutes"},
		{2670, "about 44 minutes"},
		{2700, "about 1 hour"},
		{5399, "about 2 hours"},
		{5400, "about 2 hours"},
		{5401, "about 2 hours"},
		{86369, "about 24 hours"},
		{86370, "about 1 day"},
		{86399, "about 1 day"},
		{86400, "about 1 day"},
		{88199, "about 1 day"},
		{172799, "about 2 days"},
		{172800, "about 2 days"},
		{1295999, "about 15 days"},
		{1296000, "about 15 days"},
		{1350000, "about 16 days"},
		{2593199, "about 1 month"},
		{2593200, "about 1 month"},
		{3000000, "about 1 month"},
		{5183999, "about 2 months"},
		{5184000, "about 2 months"},
		{7775999, "about 3 months"},
		{7776000, "about 3 months"},
		{31535999, "about 1 year"},
		{31536000, "about 1 year"},
		{63071999, "over 2 years"},
		{63072000, "over 2 years"},
		{94607999, "over 3 years"},
		{94608000, "over 3 years"},
		{3153600000, "over 100 years"},
	} {
		if got := deltaTimeStr(c.secs); got != c.want {
			t.Errorf("%d s: %q, Electrum %q", c.secs, got, c.want)
		}
		if got := deltaTimeStr(-c.secs); got != c.want {
			t.Errorf("-%d s: %q, Electrum %q", c.secs, got, c.want)
		}
	}
}

// TestPyQuote: Python's urllib.parse.quote, as Electrum encodes a BIP21
// message (expected strings printed by Python).
func TestPyQuote(t *testing.T) {
	for in, want := range map[string]string{
		"Salt & Pepper":       "Salt%20%26%20Pepper",
		"a/b c?d=e#f+g$h:i@j": "a/b%20c%3Fd%3De%23f%2Bg%24h%3Ai%40j",
		"ünïcødé ✓":           "%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E2%9C%93",
		"~_.-!*'()":           "~_.-%21%2A%27%28%29",
		"100%":                "100%25",
	} {
		if got := pyQuote(in); got != want {
			t.Errorf("quote(%q) = %q, Python %q", in, got, want)
		}
	}
}

// TestElectrumStatusStr: get_request's status_str of an unpaid request is
// Electrum's "Expires in …" measured from when the view was evaluated,
// "Unpaid" for a request that never expires (expiry 0, one past the end of
// time, Electrum's LN_EXPIRY_NEVER), and the tooltip otherwise.
func TestElectrumStatusStr(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	for _, c := range []struct {
		expiry int64
		at     time.Time
		status int
		str    string
	}{
		{0, now.Add(1000 * time.Hour), wallet.StatusUnpaid, "Unpaid"},
		{math.MaxInt64, now, wallet.StatusUnpaid, "Expires in over 292471208624 years"},
		{math.MaxInt64 - now.Unix() + 1, now.Add(time.Hour), wallet.StatusUnpaid, "Expires in over 292471208624 years"},
		{lnExpiryNever, now, wallet.StatusUnpaid, "Unpaid"},
		{900, now, wallet.StatusUnpaid, "Expires in about 15 minutes"},
		{900, now.Add(900 * time.Second), wallet.StatusUnpaid, "Expires in 0 seconds"},
		{900, now.Add(900*time.Second + time.Millisecond), wallet.StatusExpired, "Expired"},
		{900, now.Add(870*time.Second + time.Millisecond), wallet.StatusUnpaid, "Expires in 29 seconds"},
		{3600, now.Add(1800 * time.Second), wallet.StatusUnpaid, "Expires in about 30 minutes"},
		{86400 * 3, now, wallet.StatusUnpaid, "Expires in about 3 days"},
	} {
		v := &wallet.RequestView{Request: wallet.Request{Amount: 1, Timestamp: now.Unix(), Expiry: c.expiry},
			Status: c.status, At: c.at}
		if got := electrumStatusStr(v); got != c.str {
			t.Errorf("expiry %d at +%v: %q, want %q", c.expiry, c.at.Sub(now), got, c.str)
		}
	}
	for status, want := range map[int]string{wallet.StatusPaid: "Paid", wallet.StatusUnconfirmed: "Unconfirmed",
		wallet.StatusExpired: "Expired", wallet.StatusUnknown: "Unknown", wallet.StatusUnpaid: "Unpaid"} {
		if got := statusTooltip(status); got != want {
			t.Errorf("tooltip of %d = %q, want %q", status, got, want)
		}
	}
}

// TestElectrumURI: Electrum 4.6's BIP21 URI: the memo percent-encoded as
// Python's quote, time and exp only when the request expires, none without
// amount and memo.
func TestElectrumURI(t *testing.T) {
	net, _ := params.BTC("regtest")
	for _, c := range []struct {
		amount, expiry int64
		memo, want     string
	}{
		{150_000_000, 0, "Salt & Pepper", "bitcoin:A?amount=1.5&message=Salt%20%26%20Pepper"},
		{1000, 600, "", "bitcoin:A?amount=0.00001&time=1700000000&exp=600"},
		{0, 0, "", ""},
		{0, 0, "tip jar", "bitcoin:A?message=tip%20jar"},
	} {
		v := &wallet.RequestView{Request: wallet.Request{Address: "A", Amount: c.amount, Memo: c.memo,
			Timestamp: 1_700_000_000, Expiry: c.expiry}}
		if got := electrumURI(net, v); got != c.want {
			t.Errorf("URI %q, want %q", got, c.want)
		}
	}
}
