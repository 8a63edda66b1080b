package wallet

import (
	"context"
	"errors"
	"fmt"
)

// Errors of ImportRequests, per request (see ImportResult.Skipped).
var (
	// ErrImportAddress: the request's address is not one of the wallet's
	// receiving addresses (within the ones the import reveals).
	ErrImportAddress = errors.New("the request's address is not a receiving address of the wallet")
	// ErrImportRequest: the request itself is malformed (no id, a
	// negative amount or expiry).
	ErrImportRequest = errors.New("malformed imported request")
)

// ImportedRequest is a payment request carried over from another wallet
// program (Electrum, under Bitcart) with the id its clients know it by.
type ImportedRequest struct {
	// ID is the request's id in the old wallet; get_request(ID) finds it.
	ID string
	// Address is the address it is paid to: one of the wallet's receiving
	// addresses.
	Address string
	// Amount is in satoshis; 0 asks for any amount.
	Amount int64
	// Memo is the request's message.
	Memo string
	// Timestamp is its creation time (unix seconds); Expiry its lifetime in
	// seconds (0: never expires).
	Timestamp, Expiry int64
	// Status, Sent and TxHashes are what the old wallet last showed of it
	// (StatusUnpaid, StatusExpired, StatusPaid or StatusUnconfirmed). The
	// import re-evaluates the request against the chain and announces a
	// difference with new_payment, as for any change.
	Status   int
	Sent     int64
	TxHashes []string
}

// ImportOptions tell how far the old wallet had gone.
type ImportOptions struct {
	// Receiving and Change are how many addresses of each chain the old
	// wallet had revealed (deterministic wallets). They are revealed,
	// tracked and backfilled here too, so their payments count and
	// add_request never hands them out again.
	Receiving, Change uint32
}

// ImportResult says what ImportRequests did with each request.
type ImportResult struct {
	// Added are the ids recorded by this call.
	Added []string
	// Existing are the ids the wallet already had: left untouched, so
	// importing twice changes nothing.
	Existing []string
	// Skipped are the requests that could not be recorded, with why
	// (ErrImportAddress, ErrImportRequest).
	Skipped []ImportSkip
}

// ImportSkip is a request ImportRequests did not record.
type ImportSkip struct {
	ID  string
	Err error
}

// ImportRequests records requests carried over from another wallet of the
// same keys, under their original ids, amounts, memos, times and expiries.
// First it reveals, tracks and backfills the addresses the old wallet had
// revealed (opts); then, in one store transaction, it records each new
// request, retires its address (add_request never hands it out; when the
// old wallet reused an address, the address answers for its latest
// request, as in Electrum), and re-evaluates it against the wallet's
// history: a payment already on chain shows at once, and a status that
// differs from the one the old wallet showed is announced with
// new_payment. A request whose id the wallet already has is left as it
// is, so importing twice changes nothing.
func (w *Wallet) ImportRequests(ctx context.Context, reqs []ImportedRequest, opts ImportOptions) (ImportResult, error) {
	e, t := w.e, w.t
	if err := e.waitSynced(ctx); err != nil {
		return ImportResult{}, err
	}
	// The addresses the old wallet revealed are stored with backfill rows,
	// then watched and backfilled without holding any lock.
	if t.deterministic() {
		if err := w.revealImported(ctx, opts); err != nil {
			return ImportResult{}, err
		}
		if err := e.ensureBackfilled(ctx, t); err != nil {
			return ImportResult{}, err
		}
	}
	// Lock order: chainMu, then reqMu, then the store.
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	t.reqMu.Lock()
	defer t.reqMu.Unlock()
	var res ImportResult
	var logged []Event
	err := e.update(ctx, func(s kvs) error {
		res, logged = ImportResult{}, nil
		kv := s.of(w.ID)
		addrs, err := e.receivingAddresses(kv, t.wk())
		if err != nil {
			return err
		}
		ap := newApplier(e, s)
		ap.requests = map[string]bool{}
		for _, ir := range reqs {
			r, err := w.importedRequest(ir, addrs)
			if err != nil {
				res.Skipped = append(res.Skipped, ImportSkip{ID: ir.ID, Err: err})
				continue
			}
			k := reqKey(t.wk(), r.ID)
			if kv.Get(bReqs, k) != nil {
				res.Existing = append(res.Existing, r.ID)
				continue
			}
			if err := putRec(kv, bReqs, k, r); err != nil {
				return err
			}
			if err := retireForImport(kv, t.wk(), r); err != nil {
				return err
			}
			ap.requests[w.ID+r.ID] = true
			res.Added = append(res.Added, r.ID)
		}
		logged, err = ap.updateRequests(e.cursorRef().Height)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	e.publish(logged)
	return res, nil
}

// revealImported reveals the receiving and change addresses the old wallet
// had revealed: it derives the missing ones and stores them with backfill
// rows (the caller then watches and backfills them).
func (w *Wallet) revealImported(ctx context.Context, opts ImportOptions) error {
	e, t := w.e, w.t
	mat, err := e.publicOf(t)
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
	rec := t.rec
	var ks []newKey
	if d := rec.derivedRecv(); opts.Receiving > d {
		more, err := deriveKeys(mat, &rec, false, int(opts.Receiving-d))
		if err != nil {
			return err
		}
		ks = append(ks, more...)
	}
	rec.NextRecv = max(rec.NextRecv, opts.Receiving)
	if opts.Change > rec.NextChange {
		more, err := deriveKeys(mat, &rec, true, int(opts.Change-rec.NextChange))
		if err != nil {
			return err
		}
		ks = append(ks, more...)
	}
	if sameCounters(&rec, &t.rec) {
		return nil
	}
	err = e.storeOf(t).Update(ctx, func(kv KV) error {
		if err := e.storeKeys(kv, rec.Num, ks); err != nil {
			return err
		}
		if err := addBackfill(kv, rec.Num, ks); err != nil {
			return err
		}
		return putRec(kv, bWallets, t.wk(), rec)
	})
	if err != nil {
		return err
	}
	t.rec.NextRecv, t.rec.NextChange, t.rec.DerivedRecv = rec.NextRecv, rec.NextChange, rec.DerivedRecv
	if len(ks) > 0 {
		e.indexKeys(t.rec.Num, ks)
		e.windowsApplied(nil, []*tracked{t})
	}
	return nil
}

// importAddr is a receiving address of the wallet.
type importAddr struct {
	address string
	index   uint32
}

// receivingAddresses maps the wallet's receiving scripts to their address.
func (e *Engine) receivingAddresses(kv KV, wk []byte) (map[string]importAddr, error) {
	out := map[string]importAddr{}
	prefix := key(wk, chainByte(false))
	err := kv.Scan(bAddrs, prefix, nil, func(k, v []byte) error {
		var a addrRecord
		if err := decodeRec(v, &a); err != nil {
			return err
		}
		e.fillAddr(&a)
		out[string(a.PkScript)] = importAddr{address: a.Address, index: uint32FromBytes(k[len(prefix):])}
		return nil
	})
	return out, err
}

// importedRequest checks an imported request and builds its record.
func (w *Wallet) importedRequest(ir ImportedRequest, addrs map[string]importAddr) (Request, error) {
	if ir.ID == "" || len(ir.ID) > 128 || ir.Amount < 0 || ir.Expiry < 0 {
		return Request{}, ErrImportRequest
	}
	script, err := w.e.cfg.Net.PkScript(ir.Address)
	if err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrImportAddress, err)
	}
	a, ok := addrs[string(script)]
	if !ok {
		return Request{}, ErrImportAddress
	}
	hashes := append([]string{}, ir.TxHashes...)
	return Request{ID: ir.ID, Address: a.address, PkScript: script, Index: a.index, Amount: ir.Amount,
		Memo: ir.Memo, Timestamp: ir.Timestamp, Expiry: ir.Expiry, Status: ir.Status, Sent: ir.Sent, TxHashes: hashes}, nil
}

// retireForImport retires r's address, unless the address already answers
// for a later request (the old wallet reused it: the latest one counts).
func retireForImport(kv KV, wk []byte, r Request) error {
	ak := reqAddrKey(wk, r.PkScript)
	if cur := kv.Get(bReqs, ak); cur != nil {
		var other Request
		found, err := getRec(kv, bReqs, reqKey(wk, string(cur)), &other)
		if err != nil {
			return err
		}
		if found && (other.Timestamp > r.Timestamp || (other.Timestamp == r.Timestamp && other.ID > r.ID)) {
			return nil
		}
	}
	return kv.Put(bReqs, ak, []byte(r.ID))
}
