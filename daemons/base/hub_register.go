package base

import (
	"bytes"
	"encoding/json"
	"strings"
)

// register applies a client's text frame. A JSON object with an "xpub"
// member sets the socket's wallet filter (contract.md §7); anything else is
// ignored:
//
//   - a falsy value (null, "", false, 0, [], {}) clears the filter: every
//     event comes again;
//   - a key string, or the merchant's object form {"xpub": key, "contract":
//     …}, that the resolver recognises narrows the socket to that wallet,
//     whatever key form its events were caused by; its frames name the
//     wallet as registered (key, plus "_<contract>" in the object form);
//   - any other value (unrecognised key material, a number, an object with
//     no key) narrows the socket to no wallet: only global events come, as
//     in Bitcart, whose filter then matches nothing.
func (h *Hub) register(c *client, msg []byte) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		return
	}
	raw, ok := obj["xpub"]
	if !ok {
		return
	}
	c.filter.Store(h.resolveFilter(raw))
}

// resolveFilter turns a register frame's xpub value into a filter (nil: no
// filter).
func (h *Hub) resolveFilter(raw json.RawMessage) *filter {
	if falsy(raw) {
		return nil
	}
	sel, err := parseSelector(raw)
	if err != nil || sel.Key == "" {
		return &filter{}
	}
	name := sel.WalletKey()
	if h.cfg.Resolve == nil {
		return &filter{id: sel.Key, name: name}
	}
	id, ok := h.cfg.Resolve(h.ctx, sel.Key)
	if !ok || id == "" {
		return &filter{name: name}
	}
	return &filter{id: id, name: name}
}

// falsy reports whether a JSON value is false in Python's sense (Bitcart
// sets a filter only for a truthy value).
func falsy(raw json.RawMessage) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case json.Number:
		return zeroNumber(string(v))
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// zeroNumber reports whether a JSON number is zero: no digit of its
// mantissa is other than 0 (the exponent does not matter).
func zeroNumber(n string) bool {
	mantissa, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(n, "-")), "e")
	return strings.Trim(mantissa, "0.") == ""
}
