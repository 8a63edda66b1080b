package utxo

import (
	"bytes"
	"encoding/json"

	"github.com/walletd/walletd/coins/wallet"
)

// Bitcart's event objects. Their members are in key order, the order the
// schema-1 engine wrote them (a golden test holds the bytes).
type (
	blockEvent struct {
		Event  string `json:"event"`
		Height int32  `json:"height"`
		Seq    uint64 `json:"seq"`
	}
	txEvent struct {
		Event string `json:"event"`
		Seq   uint64 `json:"seq"`
		Tx    string `json:"tx"`
	}
	verifiedEvent struct {
		Event  string `json:"event"`
		Height int32  `json:"height"`
		Seq    uint64 `json:"seq"`
		Tx     string `json:"tx"`
	}
	paymentEvent struct {
		Address    string   `json:"address"`
		Event      string   `json:"event"`
		SentAmount string   `json:"sent_amount"`
		Seq        uint64   `json:"seq"`
		Status     int      `json:"status"`
		StatusStr  string   `json:"status_str"`
		TxHashes   []string `json:"tx_hashes"`
	}
)

// renderEvent is an engine event as Bitcart's wire object, with "seq":
// new_block, new_transaction, verified_tx, or new_payment, whose address
// and status_str follow the coin's flavor (Electrum: the request id and
// pr_tooltips; Electron Cash: the request's address as it prints it and its
// pr_tooltips). Nothing is HTML-escaped, as Python's json module writes it.
func (d *Daemon) renderEvent(ev wallet.Event) json.RawMessage {
	r := ev.Record
	var v any
	switch r.Kind {
	case wallet.EventBlock:
		v = blockEvent{Event: "new_block", Height: r.Height, Seq: ev.Seq}
	case wallet.EventTransaction:
		v = txEvent{Event: "new_transaction", Seq: ev.Seq, Tx: r.TxID}
	case wallet.EventVerified:
		v = verifiedEvent{Event: "verified_tx", Height: r.Height, Seq: ev.Seq, Tx: r.TxID}
	case wallet.EventPayment:
		hashes := r.TxHashes
		if hashes == nil {
			hashes = []string{}
		}
		addr, status := r.RequestID, statusTooltip(r.Status)
		if d.coin.Flavor == ElectronCash {
			addr, status = d.printedAddress(r.Script), ecTooltip(r.Status)
		}
		v = paymentEvent{Address: addr, Event: "new_payment", SentAmount: FormatFixed(r.Sent), Seq: ev.Seq,
			Status: r.Status, StatusStr: status, TxHashes: hashes}
	default:
		v = struct {
			Event string `json:"event"`
			Seq   uint64 `json:"seq"`
		}{"unknown", ev.Seq}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(`{"event":"unknown"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// printedAddress is the address of an output script as the coin's wallet
// prints it ("" when it has none).
func (d *Daemon) printedAddress(script []byte) string {
	a, _ := d.net.AddressFromScript(script)
	return a
}

// renderEvents renders events for get_updates.
func (d *Daemon) renderEvents(evs []wallet.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(evs))
	for i, ev := range evs {
		out[i] = d.renderEvent(ev)
	}
	return out
}
