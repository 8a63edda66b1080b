package electrumfile

import "sort"

// history is the part of a file's transaction history that decides a
// request's status: the outputs paying each address and each transaction's
// place in the chain.
type history struct {
	outs     map[string][]txOut // address → outputs paying it
	height   map[string]int64   // txid → height (> 0 mined, 0 or -1 mempool, -2 local)
	verified map[string]bool    // txid → SPV-verified (mined with ≥ 1 confirmation)
}

type txOut struct {
	txid  string
	value int64
}

// heightLocal is Electrum's TX_HEIGHT_LOCAL: known to the wallet, never
// seen on the network.
const heightLocal = -2

func newHistory(f *fileDoc) *history {
	h := &history{outs: map[string][]txOut{}, height: map[string]int64{}, verified: map[string]bool{}}
	for txid, byAddr := range f.Txo {
		for addr, byN := range byAddr {
			for _, vc := range byN {
				if len(vc) == 0 {
					continue
				}
				if v, ok := intOf(vc[0]); ok {
					h.outs[addr] = append(h.outs[addr], txOut{txid: txid, value: v})
				}
			}
		}
		h.height[txid] = heightLocal
	}
	// Heights as Electrum loads them (address_synchronizer.py): the
	// history's height for unverified and mempool txs, the verified
	// height for SPV-verified ones.
	for _, entries := range f.AddrHistory {
		for _, e := range entries {
			if len(e) < 2 {
				continue
			}
			txid, ok := e[0].(string)
			height, okH := intOf(e[1])
			if ok && okH {
				h.height[txid] = height
			}
		}
	}
	for txid, info := range f.VerifiedTx {
		if len(info) == 0 {
			continue
		}
		if height, ok := intOf(info[0]); ok && height > 0 {
			h.height[txid] = height
			h.verified[txid] = true
		}
	}
	return h
}

// evaluate sets r's Paid, Sent and TxHashes as Electrum computes them
// (wallet.py _is_onchain_invoice_paid): the payments to the address,
// most-confirmed first, must reach the amount (at least one payment for an
// amount of 0); payments mined at or below the request's height are not
// counted. A verified transaction has at least one confirmation; an
// unverified, mempool or local one has none.
func (h *history) evaluate(r *Request) {
	type pay struct {
		conf  int
		value int64
	}
	var pays []pay
	seen := map[string]bool{}
	for _, o := range h.outs[r.Address] {
		r.Sent += o.value
		if !seen[o.txid] {
			seen[o.txid] = true
			r.TxHashes = append(r.TxHashes, o.txid)
		}
		height := h.height[o.txid]
		if height > 0 && height <= r.Height {
			continue
		}
		conf := 0
		if h.verified[o.txid] {
			conf = 1
		}
		pays = append(pays, pay{conf: conf, value: o.value})
	}
	sort.Slice(pays, func(i, j int) bool {
		if pays[i].conf != pays[j].conf {
			return pays[i].conf > pays[j].conf
		}
		return pays[i].value > pays[j].value
	})
	r.Paid = StatusUnpaid
	var sum int64
	for _, p := range pays {
		sum += p.value
		if sum >= r.AmountSat {
			if p.conf >= 1 {
				r.Paid = StatusPaid
			} else {
				r.Paid = StatusUnconfirmed
			}
			break
		}
	}
	// Chain order, as walletd lists a request's transactions: mined ones
	// by height, then the others.
	sort.SliceStable(r.TxHashes, func(i, j int) bool {
		hi, hj := h.height[r.TxHashes[i]], h.height[r.TxHashes[j]]
		if (hi > 0) != (hj > 0) {
			return hi > 0
		}
		if hi > 0 && hi != hj {
			return hi < hj
		}
		return r.TxHashes[i] < r.TxHashes[j]
	})
	if r.TxHashes == nil {
		r.TxHashes = []string{}
	}
}
