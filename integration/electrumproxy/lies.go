package electrumproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/wire/v2"
)

// entry is one item of blockchain.scripthash.get_history.
type entry struct {
	TxHash string `json:"tx_hash"`
	Height int64  `json:"height"`
	Fee    int64  `json:"fee,omitempty"`
}

// statusOf is the protocol's status of a history (the client's check).
func statusOf(h []entry) json.RawMessage {
	if len(h) == 0 {
		return json.RawMessage("null")
	}
	var b strings.Builder
	for _, e := range h {
		fmt.Fprintf(&b, "%s:%d:", e.TxHash, e.Height)
	}
	sum := sha256.Sum256([]byte(b.String()))
	out, _ := json.Marshal(hex.EncodeToString(sum[:]))
	return out
}

// forger keeps the statuses a lie forged, so that the server's status
// answers agree with its forged histories (a consistent liar: only the
// proofs can catch it).
type forger struct {
	mu     sync.Mutex
	tip    int64
	status map[string]json.RawMessage // scripthash → forged status
	forged map[string]bool            // txids whose confirmation is forged
}

func newForger() *forger {
	return &forger{status: map[string]json.RawMessage{}, forged: map[string]bool{}}
}

// trackTip follows the server's tip from headers.subscribe.
func (f *forger) trackTip(method string, raw json.RawMessage, notification bool) {
	if method != "blockchain.headers.subscribe" {
		return
	}
	var t struct {
		Height int64 `json:"height"`
	}
	if notification {
		var ps []json.RawMessage
		if json.Unmarshal(raw, &ps) != nil || len(ps) == 0 {
			return
		}
		raw = ps[0]
	}
	if json.Unmarshal(raw, &t) == nil {
		f.mu.Lock()
		f.tip = max(f.tip, t.Height)
		f.mu.Unlock()
	}
}

// subscribeReply replaces the status of sh by the forged one, if any.
func (f *forger) subscribeReply(sh string, r Reply) Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.status[sh]; ok && r.Error == nil {
		return Reply{Result: st}
	}
	return r
}

// FakeConfirmation makes the server claim that the mempool transactions in
// the history of scripthash sh are confirmed in its tip block: histories
// and statuses agree, and get_merkle answers a forged proof (refuse: the
// server's real refusal instead).
func FakeConfirmation(sh string, refuse bool) Hooks {
	f := newForger()
	return Hooks{
		Reply: func(c *Conn, method string, params []json.RawMessage, r Reply) Reply {
			f.trackTip(method, r.Result, false)
			switch method {
			case "blockchain.scripthash.get_history":
				if len(params) == 0 || Str(params[0]) != sh || r.Error != nil {
					return r
				}
				var es []entry
				if json.Unmarshal(r.Result, &es) != nil {
					return r
				}
				f.mu.Lock()
				defer f.mu.Unlock()
				changed := false
				for i := range es {
					if es[i].Height <= 0 {
						es[i].Height, es[i].Fee = f.tip, 0
						f.forged[es[i].TxHash] = true
						changed = true
					}
				}
				if !changed {
					return r
				}
				c.Lied()
				f.status[sh] = statusOf(es)
				out, _ := json.Marshal(es)
				return Reply{Result: out}
			case "blockchain.scripthash.subscribe":
				if len(params) > 0 && Str(params[0]) == sh {
					return f.subscribeReply(sh, r)
				}
			case "blockchain.transaction.get_merkle":
				f.mu.Lock()
				defer f.mu.Unlock()
				if len(params) < 2 || !f.forged[Str(params[0])] || refuse {
					return r
				}
				c.Lied()
				proof, _ := json.Marshal(map[string]any{"block_height": Int(params[1]), "pos": 0,
					"merkle": []string{strings.Repeat("ab", 32)}})
				return Reply{Result: proof}
			}
			return r
		},
		Notify: func(c *Conn, method string, params json.RawMessage) json.RawMessage {
			f.trackTip(method, params, true)
			return params
		},
	}
}

// FakePayment makes the server list fake, an unconfirmed transaction, in
// the history of scripthash sh (which must have no real history), and
// serve it on blockchain.transaction.get.
func FakePayment(sh string, fake *wire.MsgTx) Hooks {
	var buf bytes.Buffer
	_ = fake.Serialize(&buf)
	fakeHex, _ := json.Marshal(hex.EncodeToString(buf.Bytes()))
	id := fake.TxHash().String()
	hist := []entry{{TxHash: id, Height: 0, Fee: 1000}}
	return Hooks{
		Reply: func(c *Conn, method string, params []json.RawMessage, r Reply) Reply {
			if len(params) == 0 {
				return r
			}
			switch method {
			case "blockchain.scripthash.subscribe":
				if Str(params[0]) == sh {
					c.Lied()
					return Reply{Result: statusOf(hist)}
				}
			case "blockchain.scripthash.get_history":
				if Str(params[0]) == sh {
					c.Lied()
					out, _ := json.Marshal(hist)
					return Reply{Result: out}
				}
			case "blockchain.transaction.get":
				if Str(params[0]) == id {
					c.Lied()
					if len(params) > 1 && string(params[1]) == "true" {
						out, _ := json.Marshal(map[string]any{"hex": Str(fakeHex), "txid": id})
						return Reply{Result: out}
					}
					return Reply{Result: fakeHex}
				}
			}
			return r
		},
	}
}

// BadHeaders makes blockchain.block.headers give headers from height from
// on with the wrong difficulty bits (a header chain no honest server has).
func BadHeaders(from int64) Hooks {
	return Hooks{
		Reply: func(c *Conn, method string, params []json.RawMessage, r Reply) Reply {
			if method != "blockchain.block.headers" || len(params) < 2 || r.Error != nil {
				return r
			}
			start := Int(params[0])
			var res map[string]json.RawMessage
			if json.Unmarshal(r.Result, &res) != nil {
				return r
			}
			raw, err := hex.DecodeString(Str(res["hex"]))
			if err != nil {
				return r
			}
			changed := false
			for i := 0; (i+1)*80 <= len(raw); i++ {
				if start+int64(i) >= from {
					copy(raw[i*80+72:i*80+76], []byte{0xff, 0xff, 0x00, 0x1d}) // bits 0x1d00ffff
					changed = true
				}
			}
			if !changed {
				return r
			}
			c.Lied()
			res["hex"], _ = json.Marshal(hex.EncodeToString(raw))
			out, _ := json.Marshal(res)
			return Reply{Result: out}
		},
	}
}

// SwapTx makes blockchain.transaction.get of txid answer other's bytes.
func SwapTx(txid string, other *wire.MsgTx) Hooks {
	var buf bytes.Buffer
	_ = other.Serialize(&buf)
	otherHex := hex.EncodeToString(buf.Bytes())
	return Hooks{
		Reply: func(c *Conn, method string, params []json.RawMessage, r Reply) Reply {
			if method != "blockchain.transaction.get" || len(params) == 0 || Str(params[0]) != txid || r.Error != nil {
				return r
			}
			c.Lied()
			if len(params) > 1 && string(params[1]) == "true" {
				var m map[string]json.RawMessage
				if json.Unmarshal(r.Result, &m) == nil {
					m["hex"], _ = json.Marshal(otherHex)
					out, _ := json.Marshal(m)
					return Reply{Result: out}
				}
			}
			out, _ := json.Marshal(otherHex)
			return Reply{Result: out}
		},
	}
}
