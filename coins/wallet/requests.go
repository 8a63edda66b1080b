package wallet

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/amount"
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
	Status int
	// At is when the status was evaluated (the engine's clock): an
	// unpaid request's "expires in" is measured from it.
	At time.Time
	// Paid reports that the payments reached the amount (for an
	// amount-less request: that anything arrived). Electrum reports
	// confirmations only then.
	Paid bool
	// Confirmations is Electrum's conf_needed: taking the most confirmed
	// payments first until the amount is reached, the confirmations of
	// the least confirmed one needed (0 while unpaid).
	Confirmations int64
	Sent          int64
	TxHashes      []string
}

// payment is one output paying a request's address.
type payment struct {
	txid   string
	n      uint32
	value  int64
	height int32
	seen   time.Time
}

// MaxAmount is the largest amount the engine accepts, in satoshis (the
// bound ParseAmount enforces, amount.MaxSats: 21 million coins times 100,
// room for forks).
const MaxAmount = amount.MaxSats

// ErrInvalidExpiry is returned for a negative request expiry.
var ErrInvalidExpiry = errors.New("invalid expiry: it must be a number of seconds, 0 for never")

// ErrCannotGenerate: a forced request on an imported wallet whose
// addresses all have history or a request. It wraps ErrGapLimit.
var ErrCannotGenerate = fmt.Errorf("this wallet cannot generate new addresses: %w", ErrGapLimit)

// AddRequest creates a payment request on the first receiving address that
// has no history and no request, or past the gap limit with force (an
// imported wallet cannot: ErrCannotGenerate). amount is in satoshis, 0 for
// an amount-less request (paid once anything arrives, as Electrum);
// expiry is in seconds, 0 for never (an expiry so large that it passes the
// end of time never expires either). Errors: ErrInvalidAmount (negative or
// above MaxAmount), ErrInvalidExpiry (negative), ErrGapLimit.
func (w *Wallet) AddRequest(ctx context.Context, amount int64, memo string, expiry int64, force bool) (*RequestView, error) {
	if amount < 0 || amount > MaxAmount {
		return nil, fmt.Errorf("%w: %d satoshis", ErrInvalidAmount, amount)
	}
	if expiry < 0 {
		return nil, ErrInvalidExpiry
	}
	e := w.e
	now := e.cfg.Now()
	for attempt := 0; ; attempt++ {
		req, err := w.allocate(ctx, amount, memo, expiry, force, now)
		if !errors.Is(err, errDeriveAhead) || attempt >= 3 {
			if err != nil {
				return nil, err
			}
			// A new request has no payment yet: no store read needed.
			v := evaluate(req, nil, e.Height(), now, e.cfg.Coin.MinConfirmations)
			return &v, nil
		}
		// The addresses derived ahead are used up (or their history is
		// not applied yet): derive, store and watch the next chunk (and
		// apply their history, should they have any) before any of them
		// is handed out.
		if err := e.deriveAhead(ctx, w.t, 1); err != nil {
			return nil, err
		}
		if err := e.ensureBackfilled(ctx, w.t); err != nil {
			return nil, err
		}
	}
}

// errDeriveAhead: a forced request needs more addresses derived ahead.
var errDeriveAhead = errors.New("wallet: no address derived ahead")

// aheadLow is how few receiving addresses derived ahead may be left
// before a forced request derives the next chunk in the background (so
// that forced requests seldom wait for a derivation).
const aheadLow = GapReceiving / 2

// allocate creates the request under the wallet's allocation lock, in one
// store transaction that concurrent requests share (Batch): the first
// receiving address with no history and no request, or, with force, the
// next address derived ahead. Requests of one wallet are allocated one at
// a time (two must never get the same address).
func (w *Wallet) allocate(ctx context.Context, amount int64, memo string, expiry int64, force bool, now time.Time) (Request, error) {
	e, t := w.e, w.t
	t.reqMu.Lock()
	defer t.reqMu.Unlock()
	var req Request
	var scanFrom uint32
	var revealed bool
	var waiting bool
	var next uint32 // receiving addresses revealed (the wallet's NextRecv)
	err := w.store().Batch(ctx, func(kv KV) error {
		// Batch may run this more than once: reset what it reports.
		req, revealed, waiting, next = Request{}, false, false, t.rec.NextRecv
		addr, idx, script, from, err := e.unusedAddress(kv, t)
		scanFrom = from
		if err != nil {
			return err
		}
		if addr == "" {
			if !force || !t.deterministic() || next >= t.rec.derivedRecv() {
				return nil
			}
			// Reveal the next address derived ahead (stored, watched and
			// backfilled already).
			idx = next
			ak := addrKey(t.rec.Num, false, idx)
			if kv.Get(bBackfill, ak) != nil {
				waiting = true // its history is not applied yet
				return nil
			}
			a, ok, err := e.getAddr(kv, ak)
			if err != nil || !ok {
				return errors.Join(err, fmt.Errorf("receiving address %d not derived", idx))
			}
			next++
			// The counter beside the wallet's request rows, not its
			// record in bWallets: this commit then writes one leaf
			// page (the wallet's rows of bReqs), not two paths of pages.
			if err := kv.Put(bReqs, reqNextKey(t.wk()), u32(next)); err != nil {
				return err
			}
			addr, script, revealed = a.Address, a.PkScript, true
		}
		req = e.newRequest(addr, script, idx, amount, memo, expiry, now)
		return putRequest(kv, t.wk(), req)
	})
	if err != nil {
		return Request{}, err
	}
	t.scanFrom = max(t.scanFrom, scanFrom)
	if req.ID == "" {
		switch {
		case waiting:
			return Request{}, errDeriveAhead
		case !force:
			return Request{}, ErrGapLimit
		case !t.deterministic():
			return Request{}, ErrCannotGenerate
		}
		return Request{}, errDeriveAhead
	}
	if revealed {
		t.rec.NextRecv = next
	}
	// A forced request says more will come past the gap: keep addresses
	// derived ahead before the ones after this request run out.
	if force && t.deterministic() && t.rec.derivedRecv() < req.Index+1+aheadLow {
		e.deriveAheadInBackground(t, req.Index)
	}
	return req, nil
}

// deriveAheadInBackground queues t for a background derivation of its
// next chunk of receiving addresses (stored, indexed, watched and
// backfilled), needed once addresses up to past index idx are used.
// Wallets queued together are done together: one commit for their
// addresses, one watch, one batched history lookup and one commit for
// their backfill (a burst of forced requests on many wallets costs a few
// commits, not two per wallet).
func (e *Engine) deriveAheadInBackground(t *tracked, idx uint32) {
	e.aheadMu.Lock()
	if e.ahead == nil {
		e.ahead = map[*tracked]uint32{}
	}
	e.ahead[t] = max(e.ahead[t], idx)
	start := !e.aheadRunning
	e.aheadRunning = true
	e.aheadMu.Unlock()
	if start && !e.spawn(e.runAhead) {
		e.aheadMu.Lock()
		e.aheadRunning = false
		e.aheadMu.Unlock()
	}
}

// aheadGroup bounds the wallets one background derivation round takes.
const aheadGroup = 64

// runAhead derives the queued wallets' chunks, a group at a time, until
// the queue is empty.
func (e *Engine) runAhead() {
	ctx := e.bgCtx
	for {
		e.aheadMu.Lock()
		group := make(map[*tracked]uint32, min(len(e.ahead), aheadGroup))
		for t, idx := range e.ahead {
			if len(group) == aheadGroup {
				break
			}
			group[t] = idx
			delete(e.ahead, t)
		}
		if len(group) == 0 || ctx.Err() != nil {
			e.aheadRunning = false
			e.aheadMu.Unlock()
			return
		}
		e.aheadMu.Unlock()
		if err := e.deriveAheadGroup(ctx, group); err != nil && ctx.Err() == nil {
			e.log.Warn("deriving addresses ahead; forced requests will derive them", "wallets", len(group), "err", err)
		}
	}
}

// deriveAheadGroup derives a chunk for each wallet of group that still
// needs one (its derived addresses end before its index plus aheadLow),
// stores and indexes them in one transaction, and starts their backfill as
// one job. The derivation runs without any lock.
func (e *Engine) deriveAheadGroup(ctx context.Context, group map[*tracked]uint32) error {
	type chunk struct {
		t    *tracked
		from uint32
		rec  walletRecord
		ks   []newKey
	}
	var chunks []chunk
	for t, idx := range group {
		t.reqMu.Lock()
		rec := t.rec
		t.reqMu.Unlock()
		if t.gone.Load() || rec.derivedRecv() >= idx+1+aheadLow {
			continue
		}
		mat, err := e.publicOf(t)
		if err != nil {
			return err
		}
		from := rec.derivedRecv()
		ks, err := deriveKeys(mat, &rec, false, GapReceiving)
		if err != nil {
			return err
		}
		chunks = append(chunks, chunk{t: t, from: from, rec: rec, ks: ks})
	}
	if len(chunks) == 0 {
		return nil
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	ts := make([]*tracked, len(chunks))
	for i, c := range chunks {
		ts[i] = c.t
	}
	locked := lockSorted(ts)
	defer func() { unlockAll(locked) }()
	var live []chunk
	for _, c := range chunks {
		if !c.t.gone.Load() && c.t.rec.derivedRecv() == c.from && !c.t.unstored {
			cur := c.t.rec
			cur.DerivedRecv = c.rec.DerivedRecv
			c.rec = cur
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil
	}
	err := e.update(ctx, func(s kvs) error {
		for _, c := range live {
			kv := s.of(c.t.rec.ID)
			if err := e.storeKeys(kv, c.rec.Num, c.ks); err != nil {
				return err
			}
			if err := addBackfill(kv, c.rec.Num, c.ks); err != nil {
				return err
			}
			if err := putRec(kv, bWallets, c.t.wk(), c.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	opened := make([]*tracked, len(live))
	e.mu.Lock()
	for i, c := range live {
		c.t.rec.DerivedRecv = c.rec.DerivedRecv
		e.indexLocked(c.rec.Num, c.ks)
		opened[i] = c.t
	}
	e.mu.Unlock()
	e.windowsApplied(nil, opened)
	unlockAll(locked)
	locked = nil
	e.kick(opened...)
	return nil
}

// deriveAhead derives, stores and indexes the next chunk of receiving
// addresses without revealing them, with backfill rows (the caller then
// runs the backfill: watch and history), unless fewer than low derived
// ahead are used up already (another call derived them). The derivation
// (CPU) runs without any lock; the store and the index change under
// chainMu and the wallet's reqMu, if nothing changed the wallet's chains
// meanwhile.
func (e *Engine) deriveAhead(ctx context.Context, t *tracked, low uint32) error {
	mat, err := e.publicOf(t)
	if err != nil {
		return err
	}
	t.reqMu.Lock()
	rec := t.rec
	t.reqMu.Unlock()
	if rec.derivedRecv()-rec.NextRecv >= low {
		return nil
	}
	from := rec.derivedRecv()
	ks, err := deriveKeys(mat, &rec, false, GapReceiving)
	if err != nil {
		return err
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	t.reqMu.Lock()
	defer t.reqMu.Unlock()
	if t.gone.Load() {
		return errForgotten
	}
	if t.rec.derivedRecv() != from {
		return nil // derived meanwhile (another request, a gap extension)
	}
	cur := t.rec
	cur.DerivedRecv = rec.DerivedRecv
	err = e.storeOf(t).Update(ctx, func(kv KV) error {
		if err := e.storeKeys(kv, cur.Num, ks); err != nil {
			return err
		}
		if err := addBackfill(kv, cur.Num, ks); err != nil {
			return err
		}
		return putRec(kv, bWallets, t.wk(), cur)
	})
	if err != nil {
		return err
	}
	t.rec.DerivedRecv = cur.DerivedRecv
	e.indexKeys(cur.Num, ks)
	e.windowsApplied(nil, []*tracked{t})
	return nil
}

// newRequest makes a request with the coin's id.
func (e *Engine) newRequest(addr string, script []byte, idx uint32, amount int64, memo string, expiry int64, now time.Time) Request {
	return Request{ID: e.cfg.Coin.RequestID(script, addr, now), Address: addr, PkScript: script, Index: idx,
		Amount: amount, Memo: memo, Timestamp: now.Unix(), Expiry: expiry, TxHashes: []string{}}
}

// putRequest stores a request of the wallet of key prefix wk and retires
// its address.
func putRequest(kv KV, wk []byte, r Request) error {
	if err := putRec(kv, bReqs, reqKey(wk, r.ID), r); err != nil {
		return err
	}
	return kv.Put(bReqs, reqAddrKey(wk, r.PkScript), []byte(r.ID))
}

// bReqs holds the wallets' requests and the addresses they took, side by
// side (schema 6; two buckets before, merged by migration 6): a new
// request's two rows land in one leaf page, so its commit writes one path
// of B-tree pages instead of one in each of two buckets.
const bReqs = "q" // num|'a'|pkScript → request id; num|'r'|requestID → Request

// MiddleInsertBucket reports whether the engine inserts keys in the middle
// of bucket (each wallet's new rows among its own) rather than at its end:
// a store packing split B-tree pages (bbolt's fill percent) should leave
// room in such a bucket's pages, or a page split for one insert splits
// again two inserts later, and every write of a page that full copies more
// rows.
func MiddleInsertBucket(bucket string) bool { return bucket == bReqs }

// Tags of bReqs's rows, after the wallet number: a wallet's address rows
// sort before its request rows, and both kinds after its number, so a
// request and its address row are neighbours (one leaf page, or two
// adjacent ones, for a wallet with a few requests).
const (
	reqTagAddr = 'a' // num|'a'|pkScript → request id
	reqTagNext = 'n' // num|'n' → uint32: receiving addresses revealed (see storedNextRecv)
	reqTagID   = 'r' // num|'r'|requestID → Request
)

// reqNextKey is the key of the revealed-address counter of the wallet of
// key prefix wk: a forced request that reveals the next address derived
// ahead writes it there, beside the request, instead of rewriting the
// wallet's record (whose NextRecv may then lag; storedNextRecv reads the
// larger).
func reqNextKey(wk []byte) []byte {
	return append(append(make([]byte, 0, len(wk)+1), wk...), reqTagNext)
}

// storedNextRecv completes a wallet record read from bWallets with the
// counter forced requests keep beside its requests (reqNextKey): the
// record's NextRecv is written whenever the record is, the counter by
// each reveal, and both only grow, so the larger is current.
func storedNextRecv(kv KV, rec *walletRecord) {
	if c := kv.Get(bReqs, reqNextKey(numKey(rec.Num))); len(c) == 4 {
		rec.NextRecv = max(rec.NextRecv, binary.BigEndian.Uint32(c))
	}
}

// reqKey is the key of the request id of the wallet of key prefix wk.
func reqKey(wk []byte, id string) []byte {
	return append(append(append(make([]byte, 0, len(wk)+1+len(id)), wk...), reqTagID), id...)
}

// reqAddrKey is the key of the address row of script in the wallet of key
// prefix wk: the id of the request that took the address.
func reqAddrKey(wk, script []byte) []byte {
	return append(append(append(make([]byte, 0, len(wk)+1+len(script)), wk...), reqTagAddr), script...)
}

// reqPrefix is the prefix of the request rows of the wallet of key
// prefix wk (nil: every wallet's rows, address rows included).
func reqPrefix(wk []byte) []byte {
	return append(append(make([]byte, 0, len(wk)+1), wk...), reqTagID)
}

// unusedAddress finds the first receiving address with no history and no
// request (an imported wallet's addresses in Electrum's order). It also
// returns how far the scan found every address taken; the caller records
// it after its transaction committed (an address never becomes free
// again, so later scans start there).
func (e *Engine) unusedAddress(kv KV, t *tracked) (addr string, idx uint32, script []byte, scanFrom uint32, err error) {
	scanFrom = t.scanFrom
	if t.deterministic() && scanFrom >= t.rec.NextRecv {
		return "", 0, nil, scanFrom, nil // every revealed address is taken
	}
	wk := t.wk()
	prefix := key(wk, chainByte(false))
	// The scripts the wallet's coins paid, read only once an address
	// without a request is found (a merchant's wallet has one coin per
	// paid request: reading them all on every call grew with its sales).
	var used map[string]bool
	ak := append(append(make([]byte, 0, len(wk)+1+64), wk...), reqTagAddr) // + the script: an address row's key
	err = kv.Scan(bAddrs, prefix, key(prefix, u32(scanFrom)), func(k, v []byte) error {
		i := uint32FromBytes(k[len(prefix):])
		if t.deterministic() && i >= t.rec.NextRecv {
			return ErrStopScan // derived ahead, not revealed yet
		}
		s, err := addrRecordScript(v)
		if err != nil {
			return err
		}
		taken := kv.Get(bReqs, append(ak, s...)) != nil
		if !taken {
			if used == nil {
				if used, err = usedScripts(kv, wk); err != nil {
					return err
				}
			}
			taken = used[string(s)]
		}
		if taken {
			if i == scanFrom {
				scanFrom++
			}
			return nil
		}
		var a addrRecord
		if err := decodeRec(v, &a); err != nil {
			return err
		}
		e.fillAddr(&a)
		addr, script, idx = a.Address, a.PkScript, i
		return ErrStopScan
	})
	return addr, idx, script, scanFrom, err
}

// addrRecordScript returns the script of an encoded addrRecord, in place
// (valid as long as v is).
func addrRecordScript(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != binTag {
		return nil, fmt.Errorf("%w: %d bytes, tag %#x", errRecord, len(v), firstByte(v))
	}
	d := decoder{b: v[1:]}
	d.uvarint() // flags
	n := d.uvarint()
	s := d.take(n)
	if d.err != nil || s == nil {
		return nil, fmt.Errorf("%w: address record without its script", errRecord)
	}
	return s, nil
}

// usedScripts returns the scripts of wallet wk that any output ever paid.
func usedScripts(kv KV, wk []byte) (map[string]bool, error) {
	used := map[string]bool{}
	err := kv.Scan(bUTXOs, wk, nil, func(_, v []byte) error {
		var u utxoRecord
		if err := decodeRec(v, &u); err != nil {
			return err
		}
		used[string(u.PkScript)] = true
		return nil
	})
	return used, err
}

// payments lists the outputs paying script in wallet wk, confirmed first
// by height, then mempool ones by first sight. known are wallet
// transactions by key as the transaction stored them (nil: none), read
// instead of looking them up.
func payments(kv KV, wk []byte, script []byte, known map[string]walletTx) ([]payment, error) {
	var out []payment
	err := kv.Scan(bUTXOs, wk, nil, func(k, v []byte) error {
		var u utxoRecord
		if err := decodeRec(v, &u); err != nil {
			return err
		}
		if !bytes.Equal(u.PkScript, script) {
			return nil
		}
		op := outpointFromKey(k[numLen:])
		p := payment{txid: op.Hash.String(), n: op.Index, value: u.Value, height: u.Height}
		xk := key(wk, hashKey(op.Hash))
		wt, ok := known[string(xk)]
		if !ok {
			var err error
			if ok, err = getRec(kv, bWalletTxs, xk, &wt); err != nil {
				return err
			}
		}
		if ok {
			p.seen = wt.FirstSeen
		}
		out = append(out, p)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].height, out[j].height, out[i].seen, out[j].seen)
	})
	return out, err
}

// expiresAt returns when r expires in unix seconds; ok is false when it
// never does (no expiry, or one past the end of int64 time).
func (r Request) expiresAt() (int64, bool) {
	if r.Expiry <= 0 {
		return 0, false
	}
	at := addSat(r.Timestamp, r.Expiry)
	return at, at != math.MaxInt64
}

// addSat adds non-negative b to a, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// evaluate computes a request's live status from its payments, the chain
// height and the clock, as Electrum 4.6 does (_is_onchain_invoice_paid,
// get_invoice_status): the payments are taken most confirmed first (then
// largest) until they reach the amount; the request is paid with the
// confirmations of the last one taken (unconfirmed when that is 0). With
// minConf (Electron Cash's get_payment_status) a paid request has the
// confirmations of its least confirmed payment. An amount-less request is
// paid by any payment. A payment is never ignored: a request paid after its
// expiry is paid.
func evaluate(r Request, pays []payment, tip int32, now time.Time, minConf bool) RequestView {
	v := RequestView{Request: r, At: now, TxHashes: []string{}}
	seenTx := map[string]bool{}
	type cv struct{ conf, value int64 }
	confs := make([]cv, 0, len(pays))
	for _, p := range pays {
		v.Sent += p.value
		if !seenTx[p.txid] {
			seenTx[p.txid] = true
			v.TxHashes = append(v.TxHashes, p.txid)
		}
		c := int64(0)
		if p.height > 0 {
			c = max(int64(tip)-int64(p.height)+1, 1)
		}
		confs = append(confs, cv{c, p.value})
	}
	sort.Slice(confs, func(i, j int) bool {
		if confs[i].conf != confs[j].conf {
			return confs[i].conf > confs[j].conf
		}
		return confs[i].value > confs[j].value
	})
	var acc int64
	for _, c := range confs {
		acc += c.value
		if acc >= r.Amount {
			v.Paid, v.Confirmations = true, c.conf
			if !minConf {
				break
			}
		}
	}
	exp, expires := r.expiresAt()
	switch {
	case v.Paid && v.Confirmations >= 1:
		v.Status = StatusPaid
	case v.Paid:
		v.Status = StatusUnconfirmed
	case expires && expired(exp, now):
		v.Status = StatusExpired
	default:
		v.Status = StatusUnpaid
	}
	return v
}

// expired is Electrum's has_expired: the expiry time is before now.
func expired(at int64, now time.Time) bool {
	sec := now.Unix()
	return at < sec || at == sec && now.Nanosecond() > 0
}

// markRequests queues the request on script (if any) for re-evaluation.
func (a *applier) markRequests(w string, script []byte) error {
	id := a.kv(w).Get(bReqs, reqAddrKey(a.wk(w), script))
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
		wk := a.wk(w)
		rk := reqKey(wk, id)
		var r Request
		found, err := getRec(kv, bReqs, rk, &r)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		pays, err := payments(kv, wk, r.PkScript, a.stored)
		if err != nil {
			return nil, err
		}
		paid := make([]paidOut, len(pays))
		for i, p := range pays {
			paid[i] = paidOut{Tx: p.txid, N: p.n, V: p.value}
		}
		v := evaluate(r, pays, tip, now, a.e.cfg.Coin.MinConfirmations)
		changed := v.Status != r.Status || v.Sent != r.Sent || !slices.Equal(v.TxHashes, r.TxHashes)
		if !changed && slices.Equal(paid, r.Paid) {
			continue
		}
		r.Status, r.Sent, r.TxHashes, r.Paid = v.Status, v.Sent, v.TxHashes, paid
		if err := putRec(kv, bReqs, rk, r); err != nil {
			return nil, err
		}
		if !changed {
			continue
		}
		ev, err := a.logEvent(w, EventRecord{Kind: EventPayment, RequestID: id, Script: r.PkScript,
			Status: v.Status, TxHashes: v.TxHashes, Sent: v.Sent})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, a.flushEvents()
}

// storedPayments reads a request's payments from its recorded outputs with
// their current heights, in chain order: O(payments), not O(wallet).
func storedPayments(kv KV, wk []byte, r Request) ([]payment, error) {
	out := make([]payment, 0, len(r.Paid))
	for _, p := range r.Paid {
		h, err := chainhash.NewHashFromStr(p.Tx)
		if err != nil {
			return nil, err
		}
		var u utxoRecord
		ok, err := getRec(kv, bUTXOs, key(wk, outpointKey(wire.OutPoint{Hash: *h, Index: p.N})), &u)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		pay := payment{txid: p.Tx, n: p.N, value: p.V, height: u.Height}
		var wt walletTx
		ok, err = getRec(kv, bWalletTxs, key(wk, hashKey(*h)), &wt)
		if err != nil {
			return nil, err
		}
		if ok {
			pay.seen = wt.FirstSeen
		}
		out = append(out, pay)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].height, out[j].height, out[i].seen, out[j].seen)
	})
	return out, nil
}

// evalRequest evaluates r inside a transaction.
func (w *Wallet) evalRequest(kv KV, r Request) (*RequestView, error) {
	pays, err := storedPayments(kv, w.t.wk(), r)
	if err != nil {
		return nil, err
	}
	v := evaluate(r, pays, w.e.Height(), w.e.cfg.Now(), w.e.cfg.Coin.MinConfirmations)
	return &v, nil
}

// GetRequest finds a request by id (or by its address). The request's
// record and payments are kept in memory until the wallet's records change
// (hot.go); its status is evaluated on every call (it depends on the tip
// and the clock).
func (w *Wallet) GetRequest(ctx context.Context, idOrAddr string) (*RequestView, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	num := w.t.rec.Num
	gen := w.e.gens.of(num) // before the read: see hot.go
	if c := w.e.reqs.get(num, idOrAddr); c != nil && c.gen == gen {
		v := evaluate(c.r, c.pays, w.e.Height(), w.e.cfg.Now(), w.e.cfg.Coin.MinConfirmations)
		return &v, nil
	}
	var r Request
	var pays []payment
	err := w.store().View(ctx, func(kv KV) error {
		wk := w.t.wk()
		found, err := getRec(kv, bReqs, reqKey(wk, idOrAddr), &r)
		if err != nil {
			return err
		}
		if !found {
			script, perr := w.e.cfg.Net.PkScript(idOrAddr)
			if perr != nil {
				return ErrRequestNotFound
			}
			id := kv.Get(bReqs, reqAddrKey(wk, script))
			if id == nil {
				return ErrRequestNotFound
			}
			if found, err = getRec(kv, bReqs, reqKey(wk, string(id)), &r); err != nil {
				return err
			}
			if !found {
				return ErrRequestNotFound
			}
		}
		pays, err = storedPayments(kv, wk, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.e.reqs.put(num, idOrAddr, &requestCache{gen: gen, r: r, pays: pays})
	v := evaluate(r, pays, w.e.Height(), w.e.cfg.Now(), w.e.cfg.Coin.MinConfirmations)
	return &v, nil
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
		return kv.Scan(bReqs, reqPrefix(w.t.wk()), nil, func(_, v []byte) error {
			var r Request
			if err := decodeRec(v, &r); err != nil {
				return err
			}
			rv, err := w.evalRequest(kv, r)
			if err != nil {
				return err
			}
			if want < 0 || rv.Status == want {
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
		k := reqKey(w.t.wk(), id)
		found = kv.Get(bReqs, k) != nil
		return kv.Delete(bReqs, k)
	})
	return found, err
}

// ClearRequests removes every request of the wallet.
func (w *Wallet) ClearRequests(ctx context.Context) error {
	return w.store().Update(ctx, func(kv KV) error {
		var ks [][]byte
		if err := kv.Scan(bReqs, reqPrefix(w.t.wk()), nil, func(k, _ []byte) error {
			ks = append(ks, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range ks {
			if err := kv.Delete(bReqs, k); err != nil {
				return err
			}
		}
		return nil
	})
}
