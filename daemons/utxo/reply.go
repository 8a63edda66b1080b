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

// AppendJSON implements base.JSONAppender: {"amount_BTC":…, …body…}.
func (r requestReply) AppendJSON(out []byte) []byte {
	b := &r.body
	out = append(out, '{')
	out = append(out, r.amountKey...)
	out = appendJSONString(out, r.amount)
	out = append(out, `,"request_id":`...)
	out = appendJSONString(out, b.RequestID)
	out = append(out, `,"is_lightning":`...)
	out = strconv.AppendBool(out, b.IsLightning)
	out = append(out, `,"amount_sat":`...)
	if b.AmountSat == nil {
		out = append(out, "null"...)
	} else {
		out = strconv.AppendInt(out, *b.AmountSat, 10)
	}
	out = append(out, `,"message":`...)
	out = appendJSONString(out, b.Message)
	out = append(out, `,"timestamp":`...)
	out = strconv.AppendInt(out, b.Timestamp, 10)
	out = append(out, `,"expiry":`...)
	out = strconv.AppendInt(out, b.Expiry, 10)
	out = append(out, `,"status":`...)
	out = strconv.AppendInt(out, int64(b.Status), 10)
	out = append(out, `,"status_str":`...)
	out = appendJSONString(out, b.StatusStr)
	out = append(out, `,"address":`...)
	out = appendJSONString(out, b.Address)
	out = append(out, `,"URI":`...)
	out = appendJSONString(out, b.URI)
	out = append(out, `,"tx_hashes":`...)
	if b.TxHashes == nil {
		out = append(out, "null"...)
	} else {
		out = append(out, '[')
		for i, h := range b.TxHashes {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, h)
		}
		out = append(out, ']')
	}
	out = append(out, `,"confirmations":`...)
	out = strconv.AppendInt(out, b.Confirmations, 10)
	if b.SentAmount != nil {
		out = append(out, `,"sent_amount":`...)
		out = appendJSONString(out, *b.SentAmount)
	}
	return append(out, '}')
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
