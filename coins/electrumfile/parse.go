package electrumfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// fileDoc is the part of a wallet file walletd reads (wallet_db.py).
type fileDoc struct {
	SeedVersion        *int                                   `json:"seed_version"`
	WalletType         string                                 `json:"wallet_type"`
	Keystore           *keystoreDoc                           `json:"keystore"`
	Addresses          json.RawMessage                        `json:"addresses"`
	PaymentRequests    map[string]json.RawMessage             `json:"payment_requests"`
	Txo                map[string]map[string]map[string][]any `json:"txo"`          // txid → address → n → [value, is_coinbase]
	AddrHistory        map[string][][]any                     `json:"addr_history"` // address → [[txid, height]]
	VerifiedTx         map[string][]any                       `json:"verified_tx3"` // txid → [height, timestamp, txpos, header_hash]
	LightningXprv      *string                                `json:"lightning_xprv"`
	LightningPrivkey2  *string                                `json:"lightning_privkey2"`
	LightningPreimages map[string]string                      `json:"lightning_preimages"`
	LightningPayments  map[string][]any                       `json:"lightning_payments"` // rhash → [amount_msat, direction, status]
}

// keystoreDoc is a keystore's dump (keystore.py): "bip32" and "hardware"
// keystores carry xpub (and a bip32 one of a hot wallet xprv, seed and
// passphrase); "imported" ones keypairs; "old" ones mpk and seed.
type keystoreDoc struct {
	Type            string            `json:"type"`
	XPub            string            `json:"xpub"`
	XPrv            *string           `json:"xprv"`
	Seed            *string           `json:"seed"`
	Passphrase      *string           `json:"passphrase"`
	Derivation      string            `json:"derivation"`
	RootFingerprint string            `json:"root_fingerprint"`
	Keypairs        map[string]string `json:"keypairs"` // pubkey → private key
}

// requestDoc is a stored request (invoices.py Request; Invoice in 4.3).
type requestDoc struct {
	AmountMsat       any     `json:"amount_msat"` // int, null (any amount) or "!"
	Message          *string `json:"message"`
	Time             int64   `json:"time"`
	Exp              int64   `json:"exp"`
	Height           int64   `json:"height"`
	Outputs          [][]any `json:"outputs"`           // [type, address, value]
	LightningInvoice *string `json:"lightning_invoice"` // ≤ 4.3
	PaymentHash      *string `json:"payment_hash"`      // ≥ 4.4
}

var multisigType = regexp.MustCompile(`^[0-9]+of[0-9]+$`)

// Parse parses the contents of a wallet file. fileName is the file's base
// name, used to name the wallet in messages unless it is key material.
// Secrets in the file are dropped (see Wallet.Dropped).
func Parse(fileName string, data []byte) (*Wallet, error) {
	doc, err := loadDocument(data)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotWallet, jsonProblem(err))
	}
	var f fileDoc
	if err := unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotWallet, jsonProblem(err))
	}
	if f.SeedVersion == nil {
		return nil, fmt.Errorf("%w: it has no seed_version", ErrNotWallet)
	}
	w := &Wallet{SeedVersion: *f.SeedVersion}
	if w.SeedVersion < MinSeedVersion || w.SeedVersion > MaxSeedVersion {
		return nil, fmt.Errorf("%w: seed_version %d; walletd reads Electrum 4.3 to 4.6 (seed_version %d to %d): open the file once with one of those to upgrade it",
			ErrVersion, w.SeedVersion, MinSeedVersion, MaxSeedVersion)
	}
	// secrets gathers the file's secret strings, only to keep them out of
	// the wallet's name; it does not outlive this call.
	var secrets []string
	keep := func(kind string, s *string) {
		if s != nil && *s != "" {
			secrets = append(secrets, *s)
			w.addDropped(kind)
		}
	}
	if ks := f.Keystore; ks != nil {
		keep("seed", ks.Seed)
		keep("seed passphrase", ks.Passphrase)
		keep("master private key", ks.XPrv)
		for _, priv := range ks.Keypairs {
			keep("private keys", &priv)
		}
	}
	keep("lightning keys", f.LightningXprv)
	keep("lightning keys", f.LightningPrivkey2)
	for _, pre := range f.LightningPreimages {
		keep("lightning keys", &pre)
	}
	if err := w.keyMaterial(&f); err != nil {
		return nil, err
	}
	w.requests(&f)
	w.Name = nameFor(fileName, w, secrets)
	return w, nil
}

func (w *Wallet) addDropped(kind string) {
	for _, d := range w.Dropped {
		if d == kind {
			return
		}
	}
	w.Dropped = append(w.Dropped, kind)
}

// keyMaterial fills the wallet's kind, public key and addresses.
func (w *Wallet) keyMaterial(f *fileDoc) error {
	switch {
	case f.WalletType == "standard":
		ks := f.Keystore
		if ks == nil {
			return fmt.Errorf("%w: a standard wallet without a keystore", ErrNotWallet)
		}
		switch ks.Type {
		case "bip32", "hardware":
		case "old":
			return fmt.Errorf("%w: an Electrum 1.x wallet (old seed or master public key)", ErrUnsupportedWallet)
		default:
			return fmt.Errorf("%w: keystore type %q", ErrUnsupportedWallet, ks.Type)
		}
		if ks.XPub == "" {
			return fmt.Errorf("%w: the keystore has no xpub", ErrNotWallet)
		}
		var addrs struct {
			Receiving []string `json:"receiving"`
			Change    []string `json:"change"`
		}
		if len(f.Addresses) > 0 {
			if err := json.Unmarshal(f.Addresses, &addrs); err != nil {
				return fmt.Errorf("%w: addresses: %s", ErrNotWallet, jsonProblem(err))
			}
		}
		w.Kind, w.XPub, w.Derivation, w.RootFingerprint = KindDeterministic, ks.XPub, ks.Derivation, ks.RootFingerprint
		w.Receiving, w.Change = addrs.Receiving, addrs.Change
	case f.WalletType == "imported":
		var addrs map[string]json.RawMessage
		if len(f.Addresses) > 0 {
			if err := json.Unmarshal(f.Addresses, &addrs); err != nil {
				return fmt.Errorf("%w: addresses: %s", ErrNotWallet, jsonProblem(err))
			}
		}
		if len(addrs) == 0 {
			return fmt.Errorf("%w: an imported wallet without addresses", ErrUnsupportedWallet)
		}
		w.Kind = KindImported
		for a := range addrs {
			w.Addresses = append(w.Addresses, a)
		}
		sort.Strings(w.Addresses)
	case f.WalletType == "2fa":
		return fmt.Errorf("%w: a two-factor (TrustedCoin) wallet", ErrUnsupportedWallet)
	case multisigType.MatchString(f.WalletType):
		return fmt.Errorf("%w: a %s multisig wallet", ErrUnsupportedWallet, f.WalletType)
	case f.WalletType == "":
		return fmt.Errorf("%w: it has no wallet_type", ErrNotWallet)
	default:
		return fmt.Errorf("%w: wallet_type %q", ErrUnsupportedWallet, f.WalletType)
	}
	return nil
}

// requests reads the payment requests and Electrum's view of their
// payment from the file's history.
func (w *Wallet) requests(f *fileDoc) {
	h := newHistory(f)
	for id, raw := range f.PaymentRequests {
		var d requestDoc
		if err := unmarshal(raw, &d); err != nil {
			w.Skipped = append(w.Skipped, Skipped{ID: id, Reason: "malformed request: " + jsonProblem(err)})
			continue
		}
		r, reason := d.request(id)
		if reason == "" && r.Lightning && paidOverLightning(f.LightningPayments[id]) {
			reason = "paid over lightning (walletd has no lightning)"
		}
		if reason != "" {
			w.Skipped = append(w.Skipped, Skipped{ID: id, Reason: reason})
			continue
		}
		h.evaluate(&r)
		w.Requests = append(w.Requests, r)
	}
	sort.Slice(w.Requests, func(i, j int) bool {
		if w.Requests[i].Time != w.Requests[j].Time {
			return w.Requests[i].Time < w.Requests[j].Time
		}
		return w.Requests[i].ID < w.Requests[j].ID
	})
	sort.Slice(w.Skipped, func(i, j int) bool { return w.Skipped[i].ID < w.Skipped[j].ID })
}

// request converts a stored request, or says why it cannot be carried.
func (d *requestDoc) request(id string) (Request, string) {
	r := Request{ID: id, Time: d.Time, Exp: d.Exp, Height: d.Height,
		Lightning: (d.LightningInvoice != nil && *d.LightningInvoice != "") || (d.PaymentHash != nil && *d.PaymentHash != "")}
	if d.Message != nil {
		r.Message = *d.Message
	}
	if id == "" {
		return r, "request without an id"
	}
	switch len(d.Outputs) {
	case 0:
		return r, "lightning-only request, without an on-chain address (walletd has no lightning)"
	case 1:
	default:
		return r, "request with several outputs"
	}
	out := d.Outputs[0]
	if len(out) != 3 {
		return r, "malformed output"
	}
	typ, okT := intOf(out[0])
	addr, okA := out[1].(string)
	value, okV := intOf(out[2])
	if !okT || typ != 0 || !okA || addr == "" {
		return r, "output is not to an address"
	}
	if !okV || value < 0 {
		return r, "output amount is not a number of satoshis"
	}
	if d.Exp < 0 {
		return r, "negative expiry"
	}
	r.Address, r.AmountSat = addr, value
	return r, ""
}

// paidOverLightning reports whether a lightning_payments entry
// [amount_msat, direction, status] says the invoice was paid.
func paidOverLightning(info []any) bool {
	if len(info) < 3 {
		return false
	}
	st, ok := intOf(info[2])
	return ok && st == StatusPaid
}

// intOf reads a JSON integer.
func intOf(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// unmarshal decodes JSON with numbers as json.Number.
func unmarshal(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
