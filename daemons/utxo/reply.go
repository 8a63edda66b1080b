package utxo

import (
	"strconv"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
)

// The replies of the hottest methods (getbalance, add_request and
// get_request) write their JSON themselves (base.JSONAppender), byte for
// byte what encoding/json writes (reply_test.go checks it).

// balanceReply is getbalance's result: "confirmed", then "unconfirmed" and
// "unmatured" when not zero, in coin units (encoding/json's key order for
// the map it replaces).
type balanceReply wallet.Balance

// AppendJSON implements base.JSONAppender.
func (b balanceReply) AppendJSON(out []byte) []byte {
	out = append(out, `{"confirmed":"`...)
	out = amount.AppendFixed(out, b.Confirmed)
	if b.Unconfirmed != 0 {
		out = append(out, `","unconfirmed":"`...)
		out = amount.AppendFixed(out, b.Unconfirmed)
	}
	if b.Unmatured != 0 {
		out = append(out, `","unmatured":"`...)
		out = amount.AppendFixed(out, b.Unmatured)
	}
	return append(out, `"}`...)
}

// MarshalJSON writes the same as AppendJSON.
func (b balanceReply) MarshalJSON() ([]byte, error) { return b.AppendJSON(nil), nil }

// AppendJSON implements base.JSONAppender: {"amount_BTC":…, …}. The
// status string and the URI are written in place (no string is built for
// them); reply_test.go checks every member against encoding/json's writing
// of the struct this replaced.
func (r requestReply) AppendJSON(out []byte) []byte {
	v := r.v
	out = append(out, '{')
	out = append(out, r.amountKey...)
	if v.Amount == 0 {
		out = append(out, `"unknown"`...) // formatAmountSat
	} else {
		out = append(appendTrimmed(append(out, '"'), v.Amount, true), '"')
	}
	out = append(out, `,"request_id":`...)
	out = appendJSONString(out, v.ID)
	out = append(out, `,"is_lightning":false,"amount_sat":`...)
	if v.Amount == 0 {
		out = append(out, "null"...)
	} else {
		out = strconv.AppendInt(out, v.Amount, 10)
	}
	out = append(out, `,"message":`...)
	out = appendJSONString(out, v.Memo)
	out = append(out, `,"timestamp":`...)
	out = strconv.AppendInt(out, v.Timestamp, 10)
	out = append(out, `,"expiry":`...)
	out = strconv.AppendInt(out, v.Expiry, 10)
	out = append(out, `,"status":`...)
	out = strconv.AppendInt(out, int64(v.Status), 10)
	out = append(out, `,"status_str":`...)
	start := len(out)
	out = closeJSONString(appendStatusStr(append(out, '"'), v), start)
	out = append(out, `,"address":`...)
	out = appendJSONString(out, v.Address)
	out = append(out, `,"URI":`...)
	start = len(out)
	out = closeJSONString(appendURI(append(out, '"'), r.net, v), start)
	out = append(out, `,"tx_hashes":`...)
	if v.TxHashes == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '[')
		for i, h := range v.TxHashes {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, h)
		}
		out = append(out, ']')
	}
	out = append(out, `,"confirmations":`...)
	out = strconv.AppendInt(out, v.Confirmations, 10)
	if !r.noSent {
		out = append(out, `,"sent_amount":"`...)
		out = append(amount.AppendFixed(out, v.Sent), '"')
	}
	return append(out, '}')
}

// closeJSONString ends the JSON string whose opening quote is out[start],
// its contents appended raw after it: printable ASCII other than the
// characters JSON escapes is kept as it is, anything else is written again
// through base.Marshal.
func closeJSONString(out []byte, start int) []byte {
	for _, c := range out[start+1:] {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			s := string(out[start+1:])
			q, _ := base.Marshal(s)
			return append(out[:start], q...)
		}
	}
	return append(out, '"')
}

// appendJSONString appends s as base.Marshal writes a string: printable
// ASCII other than the characters it escapes is copied, anything else goes
// through base.Marshal.
func appendJSONString(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := base.Marshal(s)
			return append(out, q...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}
