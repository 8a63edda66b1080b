package utxo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
)

// The reference the hand-written request reply (reply.go) is checked
// against: the reply as the daemon built it before, a struct of strings
// written by encoding/json (base.Marshal), with the status string and the
// URI made by plain string code. Kept here, in the tests only, as the
// oracle.

// refRequestBody is a request's reply without its coin-named amount.
type refRequestBody struct {
	RequestID     string   `json:"request_id"`
	IsLightning   bool     `json:"is_lightning"`
	AmountSat     *int64   `json:"amount_sat"`
	Message       string   `json:"message"`
	Timestamp     int64    `json:"timestamp"`
	Expiry        int64    `json:"expiry"`
	Status        int      `json:"status"`
	StatusStr     string   `json:"status_str"`
	Address       string   `json:"address"`
	URI           string   `json:"URI"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations int64    `json:"confirmations"`
	SentAmount    *string  `json:"sent_amount,omitempty"`
}

// refRequestJSON is the reply of r as encoding/json wrote it:
// {"amount_<TICKER>": …} then the body's members.
func refRequestJSON(amountKey string, n *params.Network, r *wallet.RequestView, withSent bool) ([]byte, error) {
	body := refRequestBody{RequestID: r.ID, Message: r.Memo, Timestamp: r.Timestamp, Expiry: r.Expiry,
		Status: r.Status, StatusStr: refStatusStr(r), Address: r.Address, URI: refURI(n, r), TxHashes: r.TxHashes,
		Confirmations: r.Confirmations}
	if withSent {
		sent := FormatFixed(r.Sent)
		body.SentAmount = &sent
	}
	if r.Amount != 0 {
		amount := r.Amount
		body.AmountSat = &amount
	}
	b, err := base.Marshal(body)
	if err != nil {
		return nil, err
	}
	amt, _ := base.Marshal(formatAmountSat(r.Amount))
	out := append([]byte{'{'}, amountKey...)
	out = append(out, amt...)
	out = append(out, ',')
	return append(out, b[1:]...), nil
}

func refStatusStr(v *wallet.RequestView) string {
	if v.Status != wallet.StatusUnpaid || v.Expiry <= 0 || v.Expiry == lnExpiryNever {
		return statusTooltip(v.Status)
	}
	at, finite := expiresAt(v.Timestamp, v.Expiry)
	return "Expires " + refAge(at, finite, v.At)
}

func refAge(at int64, finite bool, now time.Time) string {
	if !finite {
		at = math.MaxInt64
	}
	diff := at - now.Unix()
	if now.Nanosecond() > 0 {
		diff--
	}
	if diff < 0 {
		return refDeltaTimeStr(diff) + " ago"
	}
	return "in " + refDeltaTimeStr(diff)
}

func refDeltaTimeStr(diff int64) string {
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

func refURI(n *params.Network, v *wallet.RequestView) string {
	if v.Amount == 0 && v.Memo == "" {
		return ""
	}
	var q []string
	if v.Amount > 0 {
		q = append(q, "amount="+FormatElectrum(v.Amount))
	}
	if v.Memo != "" {
		q = append(q, "message="+refPyQuote(v.Memo))
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

func refPyQuote(s string) string {
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
