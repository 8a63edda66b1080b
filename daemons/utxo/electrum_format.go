package utxo

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
)

// formatSatoshis is Electrum's util.format_satoshis with its defaults: the
// amount in coin units with trailing zeros dropped but the point kept
// ("0.5", "1.", "0."). Electrum uses it for amount_BTC, listaddresses
// balances and history values.
func formatSatoshis(sats int64) string {
	neg := sats < 0
	u := uint64(sats)
	if neg {
		u = -u
	}
	frac := strings.TrimRight(strconv.FormatUint(u%1e8+1e8, 10)[1:], "0")
	s := strconv.FormatUint(u/1e8, 10) + "." + frac
	if neg {
		s = "-" + s
	}
	return s
}

// formatAmountSat is format_satoshis of a request amount: "unknown" for a
// request without an amount (Electrum keeps 0 as none).
func formatAmountSat(sats int64) string {
	if sats == 0 {
		return "unknown"
	}
	return formatSatoshis(sats)
}

// decimalStr is Python's str(Decimal(sats) / COIN), what Electrum's
// commands print for listunspent values: trailing zeros dropped, no point
// for whole coins ("1", "0.5"), and exponent form below 1e-6 ("1E-8",
// "1.2E-7").
func decimalStr(sats int64) string {
	neg := sats < 0
	u := uint64(sats)
	if neg {
		u = -u
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if u == 0 {
		return "0"
	}
	// coefficient × 10^exp with exp ≥ -8, trailing zeros stripped down to
	// exponent 0 at most (Python's ideal exponent of the division).
	coef, exp := u, -8
	for exp < 0 && coef%10 == 0 {
		coef /= 10
		exp++
	}
	digits := strconv.FormatUint(coef, 10)
	adjusted := exp + len(digits) - 1
	if adjusted < -6 {
		s := digits[:1]
		if len(digits) > 1 {
			s += "." + digits[1:]
		}
		return sign + s + "E" + strconv.Itoa(adjusted)
	}
	if exp == 0 {
		return sign + digits
	}
	point := len(digits) + exp
	if point <= 0 {
		return sign + "0." + strings.Repeat("0", -point) + digits
	}
	return sign + digits[:point] + "." + digits[point:]
}

// pyRepr is Python's repr of a str, as Electrum's listaddresses(labels)
// prints labels: single quotes unless the text holds a single quote and no
// double quote.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)+0x100, 16)[1:])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// txInputJSON is Electrum's TxInput.to_json of a deserialized transaction:
// scriptSig always (hex, "" when empty), witness only for a transaction
// serialized with witnesses ([] for an input without one), coinbase false
// (Electrum cannot know whether a deserialized input spends a coinbase).
type txInputJSON struct {
	PrevoutHash string    `json:"prevout_hash"`
	PrevoutN    uint32    `json:"prevout_n"`
	Coinbase    bool      `json:"coinbase"`
	NSequence   uint32    `json:"nsequence"`
	ScriptSig   string    `json:"scriptSig"`
	Witness     *[]string `json:"witness,omitempty"`
}

// txOutputJSON is Electrum's TxOutput.to_json.
type txOutputJSON struct {
	ScriptPubKey string `json:"scriptpubkey"`
	Address      any    `json:"address"`
	ValueSats    int64  `json:"value_sats"`
}

// txJSON is Electrum's Transaction.to_json: version, locktime, inputs,
// outputs.
type txJSON struct {
	Version  int32          `json:"version"`
	LockTime uint32         `json:"locktime"`
	Inputs   []txInputJSON  `json:"inputs"`
	Outputs  []txOutputJSON `json:"outputs"`
}

// inputsJSON renders a transaction's inputs as Electrum does.
func inputsJSON(tx *wire.MsgTx) []txInputJSON {
	segwit := tx.HasWitness()
	ins := make([]txInputJSON, len(tx.TxIn))
	for i, in := range tx.TxIn {
		ins[i] = txInputJSON{PrevoutHash: in.PreviousOutPoint.Hash.String(), PrevoutN: in.PreviousOutPoint.Index,
			NSequence: in.Sequence, ScriptSig: hex.EncodeToString(in.SignatureScript)}
		if segwit {
			w := make([]string, len(in.Witness))
			for j, e := range in.Witness {
				w[j] = hex.EncodeToString(e)
			}
			ins[i].Witness = &w
		}
	}
	return ins
}

// toTxJSON renders a transaction as Electrum's to_json.
func toTxJSON(tx *wire.MsgTx, net *params.Network) txJSON {
	outs := make([]txOutputJSON, len(tx.TxOut))
	for i, o := range tx.TxOut {
		outs[i] = txOutputJSON{ScriptPubKey: hex.EncodeToString(o.PkScript), ValueSats: o.Value}
		if addr, ok := net.AddressFromScript(o.PkScript); ok {
			outs[i].Address = addr
		}
	}
	return txJSON{Version: tx.Version, LockTime: tx.LockTime, Inputs: inputsJSON(tx), Outputs: outs}
}
