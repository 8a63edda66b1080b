package wallet

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEvaluateConfNeeded: a request paid by several transactions reports
// Electrum's conf_needed (most confirmed payments first until the amount
// is reached), and confirmations only once paid.
func TestEvaluateConfNeeded(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	r := Request{Amount: 100, Timestamp: now.Unix(), Expiry: 0}
	under := []payment{{txid: "a", value: 60, height: 100}}
	v := evaluate(r, under, 110, now, false)
	if v.Paid || v.Confirmations != 0 || v.Status != StatusUnpaid {
		t.Fatalf("underpaid: %+v", v)
	}
	// Topped up 10 blocks later: the top-up's 1 confirmation, not the
	// first payment's 11.
	topped := append(under, payment{txid: "b", value: 40, height: 110})
	v = evaluate(r, topped, 110, now, false)
	if !v.Paid || v.Confirmations != 1 || v.Status != StatusPaid || v.Sent != 100 {
		t.Fatalf("topped up: %+v", v)
	}
	// Most confirmed first: an older payment that alone covers the amount
	// gives its confirmations, whatever a newer one has.
	v = evaluate(r, []payment{{txid: "c", value: 10, height: 0}, {txid: "d", value: 150, height: 100}}, 110, now, false)
	if !v.Paid || v.Confirmations != 11 || v.Status != StatusPaid {
		t.Fatalf("covered by the older: %+v", v)
	}
	// Mempool top-up: unconfirmed.
	v = evaluate(r, []payment{{txid: "a", value: 60, height: 100}, {txid: "e", value: 40}}, 110, now, false)
	if !v.Paid || v.Confirmations != 0 || v.Status != StatusUnconfirmed {
		t.Fatalf("mempool top-up: %+v", v)
	}
	// Amount-less: paid by any payment.
	v = evaluate(Request{Timestamp: now.Unix()}, nil, 110, now, false)
	if v.Paid || v.Status != StatusUnpaid {
		t.Fatalf("amount-less, nothing paid: %+v", v)
	}
	v = evaluate(Request{Timestamp: now.Unix()}, []payment{{txid: "f", value: 1, height: 109}}, 110, now, false)
	if !v.Paid || v.Status != StatusPaid || v.Confirmations != 2 {
		t.Fatalf("amount-less, paid: %+v", v)
	}
}

// TestEvaluateExpiry: expiry 0 never expires; an expiry so large that the
// expiry time overflows never expires either (it does not wrap into the
// past); a request expires the instant after its expiry time. (The
// daemon's Electrum wording of the same cases: TestElectrumStatusStr.)
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
		{100 * 365 * 24 * 60 * 60, now, StatusUnpaid, "Unpaid"},
		{900, now, StatusUnpaid, "Expires in about 15 minutes"},
		{900, now.Add(900 * time.Second), StatusUnpaid, "Expires in 0 seconds"},
		{900, now.Add(900*time.Second + time.Millisecond), StatusExpired, "Expired"},
		{900, now.Add(870*time.Second + time.Millisecond), StatusUnpaid, "Expires in 29 seconds"},
		{3600, now.Add(1800 * time.Second), StatusUnpaid, "Expires in about 30 minutes"},
		{86400 * 3, now, StatusUnpaid, "Expires in about 3 days"},
	} {
		v := evaluate(Request{Amount: 1, Timestamp: now.Unix(), Expiry: c.expiry}, nil, 1, c.at, false)
		if v.Status != c.status || !v.At.Equal(c.at) {
			t.Errorf("expiry %d at +%v: %d, want %d (%q)", c.expiry, c.at.Sub(now), v.Status, c.status, c.str)
		}
	}
}

// TestEvaluateMinConfirmations: with Electron Cash's rule a paid request
// has the confirmations of its least confirmed payment (a later mempool
// payment to a paid address makes it Unconfirmed again), where Electrum
// 4.6 stops at the payments needed for the amount.
func TestEvaluateMinConfirmations(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	r := Request{Amount: 100, Timestamp: now.Unix()}
	pays := []payment{{txid: "a", value: 150, height: 100}, {txid: "b", value: 5}}
	if v := evaluate(r, pays, 110, now, false); v.Status != StatusPaid || v.Confirmations != 11 {
		t.Fatalf("Electrum: %+v", v)
	}
	if v := evaluate(r, pays, 110, now, true); v.Status != StatusUnconfirmed || v.Confirmations != 0 || !v.Paid {
		t.Fatalf("Electron Cash: %+v", v)
	}
	pays[1].height = 105
	if v := evaluate(r, pays, 110, now, true); v.Status != StatusPaid || v.Confirmations != 6 {
		t.Fatalf("Electron Cash, both mined: %+v", v)
	}
}

// TestElectrumRequestIDUnchanged: the id written without building its
// input string or the whole digest's hex is the one walletd always gave
// (the first 10 hex digits of sha256(address "|" nanoseconds)), for
// addresses short and long (past the stack buffer) and any time.
func TestElectrumRequestIDUnchanged(t *testing.T) {
	old := func(addr string, now time.Time) string {
		sum := sha256.Sum256([]byte(addr + "|" + strconv.FormatInt(now.UnixNano(), 10)))
		return hex.EncodeToString(sum[:])[:10]
	}
	for _, addr := range []string{"", "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", strings.Repeat("x", 300)} {
		for _, now := range []time.Time{time.Unix(0, 0), time.Unix(1.7e9, 123456789), time.Unix(-5, 0)} {
			if got, want := electrumRequestID(nil, addr, now), old(addr, now); got != want {
				t.Errorf("%q at %v: %s, want %s", addr, now, got, want)
			}
		}
	}
}
