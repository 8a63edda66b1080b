package wallet

import (
	"math"
	"testing"
	"time"
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

// TestEvaluateConfNeeded: a request paid by several transactions reports
// Electrum's conf_needed (most confirmed payments first until the amount
// is reached), and confirmations only once paid.
func TestEvaluateConfNeeded(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	r := Request{Amount: 100, Timestamp: now.Unix(), Expiry: 0}
	under := []payment{{txid: "a", value: 60, height: 100}}
	v := evaluate(r, under, 110, now)
	if v.Paid || v.Confirmations != 0 || v.Status != StatusUnpaid || v.StatusStr != "Unpaid" {
		t.Fatalf("underpaid: %+v", v)
	}
	// Topped up 10 blocks later: the top-up's 1 confirmation, not the
	// first payment's 11.
	topped := append(under, payment{txid: "b", value: 40, height: 110})
	v = evaluate(r, topped, 110, now)
	if !v.Paid || v.Confirmations != 1 || v.Status != StatusPaid || v.Sent != 100 {
		t.Fatalf("topped up: %+v", v)
	}
	// Most confirmed first: an older payment that alone covers the amount
	// gives its confirmations, whatever a newer one has.
	v = evaluate(r, []payment{{txid: "c", value: 10, height: 0}, {txid: "d", value: 150, height: 100}}, 110, now)
	if !v.Paid || v.Confirmations != 11 || v.Status != StatusPaid {
		t.Fatalf("covered by the older: %+v", v)
	}
	// Mempool top-up: unconfirmed.
	v = evaluate(r, []payment{{txid: "a", value: 60, height: 100}, {txid: "e", value: 40}}, 110, now)
	if !v.Paid || v.Confirmations != 0 || v.Status != StatusUnconfirmed {
		t.Fatalf("mempool top-up: %+v", v)
	}
	// Amount-less: paid by any payment.
	v = evaluate(Request{Timestamp: now.Unix()}, nil, 110, now)
	if v.Paid || v.Status != StatusUnpaid {
		t.Fatalf("amount-less, nothing paid: %+v", v)
	}
	v = evaluate(Request{Timestamp: now.Unix()}, []payment{{txid: "f", value: 1, height: 109}}, 110, now)
	if !v.Paid || v.Status != StatusPaid || v.Confirmations != 2 {
		t.Fatalf("amount-less, paid: %+v", v)
	}
}

// TestEvaluateExpiry: expiry 0 never expires; an expiry so large that the
// expiry time overflows never expires either (it does not wrap into the
// past); Electrum's "Expires in …" wording, and "Unpaid" for its
// LN_EXPIRY_NEVER.
func TestEvaluateExpiry(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	for _, c := range []struct {
		expiry int64
		at     time.Time
		status int
		str    string
	}{
		{0, now.Add(1000 * time.Hour), StatusUnpaid, "Unpaid"},
		{math.MaxInt64, now, StatusUnpaid, "Expires in over 292471208624 years"},
		{math.MaxInt64 - now.Unix() + 1, now.Add(time.Hour), StatusUnpaid, "Expires in over 292471208624 years"},
		{lnExpiryNever, now, StatusUnpaid, "Unpaid"},
		{900, now, StatusUnpaid, "Expires in about 15 minutes"},
		{900, now.Add(900 * time.Second), StatusUnpaid, "Expires in 0 seconds"},
		{900, now.Add(900*time.Second + time.Millisecond), StatusExpired, "Expired"},
		{900, now.Add(870*time.Second + time.Millisecond), StatusUnpaid, "Expires in 29 seconds"},
		{3600, now.Add(1800 * time.Second), StatusUnpaid, "Expires in about 30 minutes"},
		{86400 * 3, now, StatusUnpaid, "Expires in about 3 days"},
	} {
		v := evaluate(Request{Amount: 1, Timestamp: now.Unix(), Expiry: c.expiry}, nil, 1, c.at)
		if v.Status != c.status || v.StatusStr != c.str {
			t.Errorf("expiry %d at +%v: %d %q, want %d %q", c.expiry, c.at.Sub(now), v.Status, v.StatusStr, c.status, c.str)
		}
	}
}
