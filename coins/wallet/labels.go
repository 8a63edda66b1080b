package wallet

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// bLabels holds a wallet's labels (Electrum's setlabel): num|key → text,
// where key is an address or a txid.
const bLabels = "lb"

// Label bounds: a key is an address or a txid; a label is short text.
const (
	maxLabelKey  = 100
	maxLabelText = 1000
)

// ErrInvalidLabel is returned for a label key or text beyond the bounds.
var ErrInvalidLabel = errors.New("invalid label")

// SetLabel sets (or, with an empty text, removes) the label of an address
// or a txid, as Electrum's set_label (newlines become spaces). It reports
// whether anything changed.
func (w *Wallet) SetLabel(ctx context.Context, name, text string) (bool, error) {
	if name == "" {
		return false, nil
	}
	if len(name) > maxLabelKey || len(text) > maxLabelText || !utf8.ValidString(text) {
		return false, ErrInvalidLabel
	}
	text = strings.ReplaceAll(text, "\n", " ")
	changed := false
	err := w.store().Update(ctx, func(kv KV) error {
		k := key(w.t.wk(), []byte(name))
		old := kv.Get(bLabels, k)
		changed = false
		switch {
		case text == "" && old != nil:
			changed = true
			return kv.Delete(bLabels, k)
		case text != "" && string(old) != text:
			changed = true
			return kv.Put(bLabels, k, []byte(text))
		}
		return nil
	})
	return changed, err
}

// Labels returns the wallet's labels by key.
func (w *Wallet) Labels(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := w.store().View(ctx, func(kv KV) error {
		return kv.Scan(bLabels, w.t.wk(), nil, func(k, v []byte) error {
			out[string(k[numLen:])] = string(v)
			return nil
		})
	})
	return out, err
}
