package utxo

import (
	"math"
	"strconv"
	"time"

	"github.com/walletd/walletd/coins/amount"
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
func electrumStatusStr(v *wallet.RequestView) string { return string(appendStatusStr(nil, v)) }

// appendStatusStr appends electrumStatusStr(v) to out.
func appendStatusStr(out []byte, v *wallet.RequestView) []byte {
	if v.Status != wallet.StatusUnpaid || v.Expiry <= 0 || v.Expiry == lnExpiryNever {
		return append(out, statusTooltip(v.Status)...)
	}
	at, finite := expiresAt(v.Timestamp, v.Expiry)
	return appendAge(append(out, "Expires "...), at, finite, v.At)
}

// expiresAt returns when a request made at ts expires after expiry
// seconds; finite is false when that is past the end of int64 time.
func expiresAt(ts, expiry int64) (int64, bool) {
	if expiry > 0 && ts > math.MaxInt64-expiry {
		return math.MaxInt64, false
	}
	return ts + expiry, true
}

// appendAge appends Electrum's util.age(at, include_seconds=True): "in …"
// for a time ahead of now, "… ago" for one behind. A time past the end of
// int64 seconds is the furthest representable.
func appendAge(out []byte, at int64, finite bool, now time.Time) []byte {
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
		return append(appendDeltaTime(out, diff), " ago"...)
	}
	return appendDeltaTime(append(out, "in "...), diff)
}

// deltaTimeStr is Electrum's util.delta_time_str(…, include_seconds=True)
// of a difference in whole seconds, with Python's round (half to even).
func deltaTimeStr(diff int64) string { return string(appendDeltaTime(nil, diff)) }

// appendDeltaTime appends deltaTimeStr(diff) to out.
func appendDeltaTime(out []byte, diff int64) []byte {
	secs := diff
	if secs < 0 {
		secs = -secs
	}
	mins := divHalfEven(secs, 60)
	switch {
	case mins == 0:
		return append(strconv.AppendInt(out, secs, 10), " seconds"...)
	case mins < 45:
		return append(strconv.AppendInt(append(out, "about "...), mins, 10), " minutes"...)
	case mins < 90:
		return append(out, "about 1 hour"...)
	case mins < 1440:
		return append(strconv.AppendInt(append(out, "about "...), divHalfEven(mins, 60), 10), " hours"...)
	case mins < 2880:
		return append(out, "about 1 day"...)
	case mins < 43220:
		return append(strconv.AppendInt(append(out, "about "...), divHalfEven(mins, 1440), 10), " days"...)
	case mins < 86400:
		return append(out, "about 1 month"...)
	case mins < 525600:
		return append(strconv.AppendInt(append(out, "about "...), divHalfEven(mins, 43200), 10), " months"...)
	case mins < 1051200:
		return append(out, "about 1 year"...)
	default:
		return append(strconv.AppendInt(append(out, "over "...), divHalfEven(mins, 525600), 10), " years"...)
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
	return string(appendURI(nil, n, v))
}

// appendURI appends electrumURI(n, v) to out.
func appendURI(out []byte, n *params.Network, v *wallet.RequestView) []byte {
	if v.Amount == 0 && v.Memo == "" {
		return out
	}
	out = append(out, n.URIScheme...)
	out = append(out, ':')
	out = append(out, v.Address...)
	sep := byte('?')
	if v.Amount > 0 {
		out = appendTrimmed(append(out, sep, 'a', 'm', 'o', 'u', 'n', 't', '='), v.Amount, false)
		sep = '&'
	}
	if v.Memo != "" {
		out = appendPyQuote(append(out, sep, 'm', 'e', 's', 's', 'a', 'g', 'e', '='), v.Memo)
		sep = '&'
	}
	if v.Timestamp != 0 && v.Expiry != 0 {
		out = strconv.AppendInt(append(out, sep, 't', 'i', 'm', 'e', '='), v.Timestamp, 10)
		out = strconv.AppendInt(append(out, "&exp="...), v.Expiry, 10)
	}
	return out
}

// pyQuote is Python's urllib.parse.quote(s) (safe "/"): every UTF-8 byte
// but ASCII letters, digits, "_.-~" and "/" becomes %XX in upper case.
func pyQuote(s string) string { return string(appendPyQuote(nil, s)) }

// appendPyQuote appends pyQuote(s) to out.
func appendPyQuote(out []byte, s string) []byte {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '-', c == '~', c == '/':
			out = append(out, c)
		default:
			out = append(out, '%', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return out
}

// appendTrimmed appends sats in coin units without trailing zeros:
// FormatElectrum ("0.5", "1") or, keeping the point, formatSatoshis ("0.5",
// "1.", "0.").
func appendTrimmed(out []byte, sats int64, keepPoint bool) []byte {
	out = amount.AppendFixed(out, sats)
	for out[len(out)-1] == '0' {
		out = out[:len(out)-1]
	}
	if !keepPoint && out[len(out)-1] == '.' {
		out = out[:len(out)-1]
	}
	return out
}
