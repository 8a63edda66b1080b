package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Request statuses (Electrum's codes).
const (
	StatusUnpaid      = 0
	StatusExpired     = 1
	StatusUnknown     = 2
	StatusPaid        = 3
	StatusUnconfirmed = 7
)

// Request is a stored payment request. The status fields hold what was
// last announced, so that a change is announced exactly once.
type Request struct {
	ID        string    `json:"id"`
	Address   string    `json:"address"`
	PkScript  []byte    `json:"script"`
	Index     uint32    `json:"index"`
	Amount    int64     `json:"amount"`
	Memo      string    `json:"memo"`
	Timestamp int64     `json:"timestamp"`
	Expiry    int64     `json:"expiry"`
	Status    int       `json:"status"`
	Sent      int64     `json:"sent"`
	TxHashes  []string  `json:"tx_hashes"`
	Paid      []paidOut `json:"paid,omitempty"` // outputs paying the address, kept current at apply time
}

// paidOut is one output paying a request's address.
type paidOut struct {
	Tx string `json:"t"`
	N  uint32 `json:"n"`
	V  int64  `json:"v"`
}

// RequestView is a request with its live status, as get_request shows it.
type RequestView struct {
	Request
	Status        int
	StatusStr     string
	Confirmations int64
	Sent          int64
	TxHashes      []string
	URI           string
}

// payment is one output paying a request's address.
type payment struct {
	txid   string
	n      uint32
	value  int64
	height int32
	seen   time.Time
}

// AddRequest creates a payment request on the first receiving address that
// has no history and no request, or past the gap limit with force.
// expiry is in seconds (0: never).
func (w *Wallet) AddRequest(ctx context.Context, amount int64, memo string, expiry int64, force bool) (*RequestView, error) {
	e := w.e
	// Requests of one wallet are allocated one at a time (two must never
	// get the same address); different wallets' requests share commits.
	w.t.reqMu.Lock()
	defer w.t.reqMu.Unlock()
	now := e.cfg.Now()
	var req Request
	err := w.store().Batch(ctx, func(kv KV) error {
		addr, idx, script, err := e.unusedAddress(kv, w.t)
		if err != nil {
			return err
		}
		if addr == "" {
			return ErrGapLimit
		}
		req = newRequest(addr, script, idx, amount, memo, expiry, now)
		return putRequest(kv, w.ID, req)
	})
	if errors.Is(err, ErrGapLimit) && force && w.t.deterministic() {
		req, err = w.addRequestPastGap(ctx, amount, memo, expiry, now)
	}
	if err != nil {
		return nil, err
	}
	return w.viewRequest(ctx, req)
}

// addRequestPastGap reveals the next receiving address for a forced
// request. Addresses are derived, stored and watched ahead in chunks, so
// usually this only bumps a counter; when the chunk is used up it derives
// the next one. Caller holds w.t.reqMu.
func (w *Wallet) addRequestPastGap(ctx context.Context, amount int64, memo string, expiry int64, now time.Time) (Request, error) {
	e, t := w.e, w.t
	if t.rec.NextRecv >= t.rec.derivedRecv() {
		scripts, err := e.deriveAhead(ctx, t)
		if err != nil {
			return Request{}, err
		}
		if err := e.watch(ctx, scripts, nil); err != nil {
			return Request{}, err
		}
	}
	idx := t.rec.NextRecv
	t.rec.NextRecv++
	rec := t.rec
	var req Request
	err := w.store().Batch(ctx, func(kv KV) error {
		var a addrRecord
		if ok, err := getJSON(kv, bAddrs, key([]byte(w.ID), chainByte(false), u32(idx)), &a); err != nil || !ok {
			return errors.Join(err, fmt.Errorf("receiving address %d not derived", idx))
		}
		if err := putJSON(kv, bWallets, []byte(w.ID), rec); err != nil {
			return err
		}
		req = newRequest(a.Address, a.PkScript, idx, amount, memo, expiry, now)
		return putRequest(kv, w.ID, req)
	})
	if err != nil {
		t.rec.NextRecv = idx
		return Request{}, err
	}
	return req, nil
}

// deriveAhead derives, stores and indexes the next chunk of receiving
// addresses without revealing them, unless another call already did. The
// new scripts pay nothing yet, so block application needs no exclusion:
// the caller holds only t.reqMu.
func (e *Engine) deriveAhead(ctx context.Context, t *tracked) ([][]byte, error) {
	if t.rec.NextRecv < t.rec.derivedRecv() {
		return nil, nil
	}
	before := t.rec.DerivedRecv
	ks, err := e.derive(t, false, GapReceiving)
	if err != nil {
		t.rec.DerivedRecv = before
		return nil, err
	}
	rec := t.rec
	err = e.storeOf(t).Batch(ctx, func(kv KV) error {
		if err := storeKeys(kv, rec.ID, ks); err != nil {
			return err
		}
		return putJSON(kv, bWallets, []byte(rec.ID), rec)
	})
	if err != nil {
		t.rec.DerivedRecv = before
		return nil, err
	}
	e.indexKeys(t.rec.ID, ks)
	scripts := make([][]byte, len(ks))
	for i, k := range ks {
		scripts[i] = k.k.PkScript
	}
	return scripts, nil
}

func newRequest(addr string, script []byte, idx uint32, amount int64, memo string, expiry int64, now time.Time) Request {
	sum := sha256.Sum256([]byte(addr + "|" + strconv.FormatInt(now.UnixNano(), 10)))
	return Request{ID: hex.EncodeToString(sum[:])[:10], Address: addr, PkScript: script, Index: idx,
		Amount: amount, Memo: memo, Timestamp: now.Unix(), Expiry: expiry, TxHashes: []string{}}
}

// putRequest stores a request and retires its address.
func putRequest(kv KV, walletID string, r Request) error {
	if err := putJSON(kv, bRequests, key([]byte(walletID), []byte(r.ID)), r); err != nil {
		return err
	}
	return kv.Put(bReqAddr, key([]byte(walletID), r.PkScript), []byte(r.ID))
}

// bReqAddr maps walletID|pkScript → request id.
const bReqAddr = "reqaddr"

// unusedAddress finds the first receiving address with no history and no
// request. Imported wallets reuse their first address, as Electrum does.
func (e *Engine) unusedAddress(kv KV, t *tracked) (addr string, idx uint32, script []byte, err error) {
	used := usedScripts(kv, t.rec.ID)
	prefix := key([]byte(t.rec.ID), chainByte(false))
	// Addresses below t.scanFrom are known taken (history or a request):
	// an address never becomes free again, so the scan starts there.
	start := key(prefix, u32(t.scanFrom))
	if !t.deterministic() {
		start = nil
	}
	err = kv.Scan(bAddrs, prefix, start, func(k, v []byte) error {
		var a addrRecord
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if !t.deterministic() {
			addr, script = a.Address, a.PkScript
			return ErrStopScan
		}
		i := uint32FromBytes(k[len(prefix):])
		if i >= t.rec.NextRecv {
			return ErrStopScan // derived ahead, not revealed yet
		}
		if used[string(a.PkScript)] || kv.Get(bReqAddr, key([]byte(t.rec.ID), a.PkScript)) != nil {
			if i == t.scanFrom {
				t.scanFrom++
			}
			return nil
		}
		addr, script, idx = a.Address, a.PkScript, i
		return ErrStopScan
	})
	return addr, idx, script, err
}

// usedScripts returns the scripts of wallet id that any output ever paid.
func usedScripts(kv KV, id string) map[string]bool {
	used := map[string]bool{}
	_ = kv.Scan(bUTXOs, []byte(id), nil, func(_, v []byte) error {
		var u utxoRecord
		if json.Unmarshal(v, &u) == nil {
			used[string(u.PkScript)] = true
		}
		return nil
	})
	return used
}

// payments lists the outputs paying script in wallet id, confirmed first
// by height, then mempool ones by first sight.
func payments(kv KV, id string, script []byte) []payment {
	var out []payment
	_ = kv.Scan(bUTXOs, []byte(id), nil, func(k, v []byte) error {
		var u utxoRecord
		if json.Unmarshal(v, &u) != nil || !bytes.Equal(u.PkScript, script) {
			return nil
		}
		op := outpointFromKey(k[walletIDLen:])
		p := payment{txid: op.Hash.String(), n: op.Index, value: u.Value, height: u.Height}
		var wt walletTx
		if ok, _ := getJSON(kv, bWalletTxs, key([]byte(id), hashKey(op.Hash)), &wt); ok {
			p.seen = wt.FirstSeen
		}
		out = append(out, p)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].height, out[j].height, out[i].seen, out[j].seen)
	})
	return out
}

// evaluate computes a request's live status from its payments, the chain
// height and the clock. A payment is never ignored: a request paid after
// its expiry is paid.
func evaluate(r Request, pays []payment, tip int32, now time.Time) RequestView {
	v := RequestView{Request: r, TxHashes: []string{}}
	seenTx := map[string]bool{}
	for _, p := range pays {
		v.Sent += p.value
		if !seenTx[p.txid] {
			seenTx[p.txid] = true
			v.TxHashes = append(v.TxHashes, p.txid)
		}
	}
	conf := func(h int32) int64 {
		if h <= 0 {
			return 0
		}
		if c := int64(tip) - int64(h) + 1; c > 0 {
			return c
		}
		return 1
	}
	paid := false
	minConf := int64(-1)
	var acc int64
	for _, p := range pays {
		acc += p.value
		if c := conf(p.height); minConf < 0 || c < minConf {
			minConf = c
		}
		if (r.Amount > 0 && acc >= r.Amount) || (r.Amount == 0 && acc > 0) {
			paid = true
			break
		}
	}
	expiresAt := time.Unix(r.Timestamp+r.Expiry, 0)
	switch {
	case paid && minConf >= 1:
		v.Status = StatusPaid
	case paid:
		v.Status = StatusUnconfirmed
	case r.Expiry > 0 && !now.Before(expiresAt):
		v.Status = StatusExpired
	default:
		v.Status = StatusUnpaid
	}
	if paid && len(pays) > 0 {
		v.Confirmations = conf(pays[0].height)
	}
	v.StatusStr = statusString(v.Status, r.Expiry, expiresAt, now)
	return v
}

func statusString(status int, expiry int64, expiresAt, now time.Time) string {
	switch status {
	case StatusPaid:
		return "Paid"
	case StatusUnconfirmed:
		return "Unconfirmed"
	case StatusExpired:
		return "Expired"
	case StatusUnknown:
		return "Unknown"
	}
	if expiry > 0 {
		return "Expires in " + timeDifference(expiresAt.Sub(now))
	}
	return "Unpaid"
}

// timeDifference is Electrum's phrase for a duration.
func timeDifference(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	if secs < 0 {
		secs = -secs
	}
	mins := (secs + 30) / 60
	switch {
	case mins == 0:
		return "less than a minute"
	case mins == 1:
		return "about 1 minute"
	case mins < 45:
		return fmt.Sprintf("about %d minutes", mins)
	case mins < 90:
		return "about 1 hour"
	case mins < 1440:
		return fmt.Sprintf("about %d hours", (mins+30)/60)
	case mins < 2880:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", (mins+720)/1440)
	}
}

// markRequests queues the request on script (if any) for re-evaluation.
func (a *applier) markRequests(w string, script []byte) error {
	id := a.kv(w).Get(bReqAddr, key([]byte(w), script))
	if id == nil {
		return nil
	}
	if a.requests == nil {
		a.requests = map[string]bool{}
	}
	a.requests[w+string(id)] = true
	return nil
}

// updateRequests re-evaluates marked requests and logs new_payment for
// those whose status, paid amount or paying txs changed.
func (a *applier) updateRequests(tip int32) ([]Event, error) {
	keys := make([]string, 0, len(a.requests))
	for k := range a.requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Event
	now := a.e.cfg.Now()
	for _, k := range keys {
		w, id := k[:walletIDLen], k[walletIDLen:]
		kv := a.kv(w)
		var r Request
		found, err := getJSON(kv, bRequests, []byte(k), &r)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		pays := payments(kv, w, r.PkScript)
		paid := make([]paidOut, len(pays))
		for i, p := range pays {
			paid[i] = paidOut{Tx: p.txid, N: p.n, V: p.value}
		}
		v := evaluate(r, pays, tip, now)
		changed := v.Status != r.Status || v.Sent != r.Sent || !equalStrings(v.TxHashes, r.TxHashes)
		if !changed && equalPaid(paid, r.Paid) {
			continue
		}
		r.Status, r.Sent, r.TxHashes, r.Paid = v.Status, v.Sent, v.TxHashes, paid
		if err := putJSON(kv, bRequests, []byte(k), r); err != nil {
			return nil, err
		}
		if !changed {
			continue
		}
		ev, err := a.e.logEvent(a.s, w, map[string]any{"event": "new_payment", "address": id, "status": v.Status,
			"status_str": v.StatusStr, "tx_hashes": v.TxHashes, "sent_amount": FormatFixed(v.Sent)})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func equalPaid(a, b []paidOut) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// storedPayments reads a request's payments from its recorded outputs with
// their current heights, in chain order: O(payments), not O(wallet).
func storedPayments(kv KV, id string, r Request) []payment {
	out := make([]payment, 0, len(r.Paid))
	for _, p := range r.Paid {
		h, err := chainhash.NewHashFromStr(p.Tx)
		if err != nil {
			continue
		}
		var u utxoRecord
		if ok, _ := getJSON(kv, bUTXOs, key([]byte(id), outpointKey(wire.OutPoint{Hash: *h, Index: p.N})), &u); !ok {
			continue
		}
		pay := payment{txid: p.Tx, n: p.N, value: p.V, height: u.Height}
		var wt walletTx
		if ok, _ := getJSON(kv, bWalletTxs, key([]byte(id), hashKey(*h)), &wt); ok {
			pay.seen = wt.FirstSeen
		}
		out = append(out, pay)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].height, out[j].height, out[i].seen, out[j].seen)
	})
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// viewRequest evaluates r now.
func (w *Wallet) viewRequest(ctx context.Context, r Request) (*RequestView, error) {
	var v *RequestView
	err := w.store().View(ctx, func(kv KV) error {
		v = w.evalRequest(kv, r)
		return nil
	})
	return v, err
}

// evalRequest evaluates r inside a transaction.
func (w *Wallet) evalRequest(kv KV, r Request) *RequestView {
	v := evaluate(r, storedPayments(kv, w.ID, r), w.e.Height(), w.e.cfg.Now())
	v.URI = w.e.requestURI(v)
	return &v
}

// requestURI is Electrum's BIP21 URI for a request.
func (e *Engine) requestURI(v RequestView) string {
	q := []string{}
	if v.Amount > 0 {
		q = append(q, "amount="+FormatElectrum(v.Amount))
	}
	if v.Memo != "" {
		q = append(q, "message="+url.PathEscape(v.Memo))
	}
	q = append(q, "time="+strconv.FormatInt(v.Timestamp, 10))
	if v.Expiry > 0 {
		q = append(q, "exp="+strconv.FormatInt(v.Expiry, 10))
	}
	uri := e.cfg.Net.URIScheme + ":" + v.Address
	for i, p := range q {
		if i == 0 {
			uri += "?" + p
		} else {
			uri += "&" + p
		}
	}
	return uri
}

// GetRequest finds a request by id (or by its address).
func (w *Wallet) GetRequest(ctx context.Context, idOrAddr string) (*RequestView, error) {
	var v *RequestView
	err := w.store().View(ctx, func(kv KV) error {
		var r Request
		found, err := getJSON(kv, bRequests, key([]byte(w.ID), []byte(idOrAddr)), &r)
		if err != nil {
			return err
		}
		if !found {
			script, perr := w.e.cfg.Net.PkScript(idOrAddr)
			if perr != nil {
				return ErrRequestNotFound
			}
			id := kv.Get(bReqAddr, key([]byte(w.ID), script))
			if id == nil {
				return ErrRequestNotFound
			}
			if found, err = getJSON(kv, bRequests, key([]byte(w.ID), id), &r); err != nil {
				return err
			}
			if !found {
				return ErrRequestNotFound
			}
		}
		v = w.evalRequest(kv, r)
		return nil
	})
	return v, err
}

// ListRequests lists requests, oldest first. As in Electrum, at most one
// filter applies, in this order: pending (status unpaid), expired, paid.
func (w *Wallet) ListRequests(ctx context.Context, pending, expired, paid bool) ([]*RequestView, error) {
	want := -1
	switch {
	case pending:
		want = StatusUnpaid
	case expired:
		want = StatusExpired
	case paid:
		want = StatusPaid
	}
	var views []*RequestView
	err := w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bRequests, []byte(w.ID), nil, func(_, v []byte) error {
			var r Request
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if rv := w.evalRequest(kv, r); want < 0 || rv.Status == want {
				views = append(views, rv)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(views, func(i, j int) bool { return views[i].Timestamp < views[j].Timestamp })
	if views == nil {
		views = []*RequestView{}
	}
	return views, nil
}

// DeleteRequest removes a request; it reports whether one existed. Its
// address stays retired (never given to another request).
func (w *Wallet) DeleteRequest(ctx context.Context, id string) (bool, error) {
	found := false
	err := w.store().Update(ctx, func(kv KV) error {
		k := key([]byte(w.ID), []byte(id))
		found = kv.Get(bRequests, k) != nil
		return kv.Delete(bRequests, k)
	})
	return found, err
}

// ClearRequests removes every request of the wallet.
func (w *Wallet) ClearRequests(ctx context.Context) error {
	return w.store().Update(ctx, func(kv KV) error {
		var ks [][]byte
		if err := kv.Scan(bRequests, []byte(w.ID), nil, func(k, _ []byte) error {
			ks = append(ks, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range ks {
			if err := kv.Delete(bRequests, k); err != nil {
				return err
			}
		}
		return nil
	})
}
