package utxo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
)

// Electrum's wording of request statuses and its BIP21 URIs: what the
// engine's numeric request views become on the wire of an Electrum coin.

// lnExpiryNever is Electrum's LN_EXPIRY_NEVER (100 years): a request with
// this expiry shows "Unpaid", not "Expires in …".
const lnExpiryNever = 100 * 365 * 24 * 60 * 60

// statusTooltip is Electrum's pr_tooltips text of a status: what
// Bitcart's new_payment events carry.
func statusTooltip(status int) string {
	switch status {
	case wallet.StatusPaid:
		return "Paid"
	case wallet.StatusUnconfirmed:
		return "Unconfirmed"
	case wallet.StatusExpired:
		return "Expired"
	case wallet.StatusUnknown:
		return "Unknown"
	}
	return "Unpaid"
}

// electrumStatusStr is get_request's status_str: the tooltip, or for an
// unpaid request that expires "Expires in …" measured from when the view
// was evaluated.
func electrumStatusStr(v *wallet.RequestView) string {
	if v.Status != wallet.StatusUnpaid || v.Expiry <= 0 || v.Expiry == lnExpiryNever {
		return statusTooltip(v.Status)
	}
	at, finite := expiresAt(v.Timestamp, v.Expiry)
	return "Expires " + age(at, finite, v.At)
}

// expiresAt returns when a request made at ts expires after expiry
// seconds; finite is false when that is past the end of int64 time.
func expiresAt(ts, expiry int64) (int64, bool) {
	if expiry > 0 && ts > math.MaxInt64-expiry {
		return math.MaxInt64, false
	}
	return ts + expiry, true
}

// age is Electrum's util.age(at, include_seconds=True): "in …" for a time
// ahead of now, "… ago" for one behind. A time past the end of int64
// seconds is the furthest representable.
func age(at int64, finite bool, now time.Time) string {
	if !finite {
		at = math.MaxInt64
	}
	// Python takes days*86400 + seconds of the timedelta at - now: the
	// floor of the difference in seconds. Both are after 1970, so the
	// difference cannot overflow.
	diff := at - now.Unix()
	if now.Nanosecond() > 0 {
		diff--
	}
	if diff < 0 {
		return deltaTimeStr(diff) + " ago"
	}
	return "in " + deltaTimeStr(diff)
}

// deltaTimeStr is Electrum's util.delta_time_str(…, include_seconds=True)
// of a difference in whole seconds, with Python's round (half to even).
func deltaTimeStr(diff int64) string {
	secs := diff
	if secs < 0 {
		secs = -secs
	}
	mins := divHalfEven(secs, 60)
	switch {
	case mins == 0:
		return fmt.Sprintf("%d seconds", secs)
	case mins < 45:
		return fmt.Sprintf("about %d minutes", mins)
	case mins < 90:
		return "about 1 hour"
	case mins < 1440:
		return fmt.Sprintf("about %d hours", divHalfEven(mins, 60))
	case mins < 2880:
		return "about 1 day"
	case mins < 43220:
		return fmt.Sprintf("about %d days", divHalfEven(mins, 1440))
	case mins < 86400:
		return "about 1 month"
	case mins < 525600:
		return fmt.Sprintf("about %d months", divHalfEven(mins, 43200))
	case mins < 1051200:
		return "about 1 year"
	default:
		return fmt.Sprintf("over %d years", divHalfEven(mins, 525600))
	}
}

// divHalfEven returns n/d rounded to the nearest integer, ties to even
// (Python 3's round), for n ≥ 0 and d > 0.
func divHalfEven(n, d int64) int64 {
	q, r := n/d, n%d
	switch {
	case 2*r > d:
		q++
	case 2*r == d && q%2 == 1:
		q++
	}
	return q
}

// electrumURI is Electrum 4.6's BIP21 URI of a request (Request.
// get_bip21_URI, bip21.create_bip21_uri): amount when there is one, the
// memo percent-encoded as Python's urllib.parse.quote does, time and exp
// only for a request that expires; "" (Electrum's None) for a request with
// neither an amount nor a memo.
func electrumURI(n *params.Network, v *wallet.RequestView) string {
	if v.Amount == 0 && v.Memo == "" {
		return ""
	}
	var q []string
	if v.Amount > 0 {
		q = append(q, "amount="+FormatElectrum(v.Amount))
	}
	if v.Memo != "" {
		q = append(q, "message="+pyQuote(v.Memo))
	}
	if v.Timestamp != 0 && v.Expiry != 0 {
		q = append(q, "time="+strconv.FormatInt(v.Timestamp, 10), "exp="+strconv.FormatInt(v.Expiry, 10))
	}
	uri := n.URIScheme + ":" + v.Address
	if len(q) > 0 {
		uri += "?" + strings.Join(q, "&")
	}
	return uri
}

// pyQuote is Python's urllib.parse.quote(s) (safe "/"): every UTF-8 byte
// but ASCII letters, digits, "_.-~" and "/" becomes %XX in upper case.
func pyQuote(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '-', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}
