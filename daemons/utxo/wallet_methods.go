package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// walletMethods declares the methods that need a wallet (watch-only is
// enough) and the address lookups that go to the node.
func (d *Daemon) walletMethods(b *base.Builder) {
	w := base.NeedsWallet()
	b.Add(base.NewMethod("getbalance", "getbalance(): the wallet's balance: confirmed, and unconfirmed and unmatured when not zero, in coin units.", d.getbalance, w))
	b.Add(base.NewMethod("getmpk", "getmpk(): the wallet's master public key.", d.getmpk, w))
	b.Add(base.NewMethod("getpubkeys", "getpubkeys(address): the public keys of one of the wallet's addresses.", d.getpubkeys, w))
	b.Add(base.NewMethod("ismine", "ismine(address): true if the address belongs to the wallet.", d.ismine, w))
	b.Add(base.NewMethod("getunusedaddress", "getunusedaddress(): the first receiving address with no history and no request, or null.", d.getunusedaddress, w))
	b.Add(base.NewMethod("createnewaddress", "createnewaddress(): derives a new receiving address past the gap limit.", d.createnewaddress, w))
	b.Add(base.NewMethod("listaddresses", "listaddresses(receiving, change, labels, frozen, unused, funded, balance): the wallet's addresses, filtered (frozen: only frozen ones); with balance or labels, [address, balance?, repr(label)?] lists as Electrum prints them.", d.listaddresses, w))
	b.Add(base.NewMethod("listunspent", "listunspent(): the wallet's unspent outputs not spent in the mempool, as Electrum 4.6 lists them (value in coin units).", d.listunspent, w))
	b.Add(base.NewMethod("onchain_history", "onchain_history(show_fiat, year, show_addresses): the wallet's transactions as Electrum 4.6's list of {txid, amount_sat, fee_sat, height, confirmations, timestamp, monotonic_timestamp, incoming, bc_value, bc_balance, date, txpos_in_block, wanted_height, label, group_id}; year keeps one calendar year (UTC); show_addresses adds inputs and outputs; show_fiat adds fiat fields (walletd has no exchange rates: \"No Data\").", d.onchainHistory, w))
	b.Add(base.NewMethod("get_tx_status", "get_tx_status(txid): {\"confirmations\": n} for a wallet transaction.", d.getTxStatus, w))
	b.Add(base.NewMethod("get_updates", "get_updates(): drains the wallet's queue of events (at most <COIN>_POLLING_CAP).", d.getUpdates, w))
	b.Add(base.NewMethod("close_wallet", "close_wallet(key): unloads the wallet (the xpub argument, or key) from memory (it stays tracked); false if it was not loaded.", d.closeWallet))
	b.Add(base.NewMethod("add_request", "add_request(amount, memo, expiry, lightning, force): creates a payment request on a fresh receiving address; amount null or 0: no amount (amount_BTC \"unknown\"); expiry in seconds, null or 0: never expires (at most 10 years).", d.addRequest, w))
	b.Add(base.NewMethod("get_request", "get_request(request_id): a payment request by id (or address) with its live status; Bitcart's name address and walletd 0.1's key are accepted.", d.getRequest, w, base.Alias("getrequest")))
	b.Add(base.NewMethod("list_requests", "list_requests(pending, expired, paid): the wallet's payment requests, optionally filtered by status.", d.listRequests, w))
	b.Add(base.NewMethod("delete_request", "delete_request(request_id): deletes a payment request (its address is never reused); null.", d.deleteRequest, w))
	b.Add(base.NewMethod("clear_requests", "clear_requests(): deletes every payment request of the wallet.", d.clearRequests, w))
	b.Add(base.NewMethod("setrequestaddress", "setrequestaddress(key, address): not supported (returns false), as in Bitcart.", d.setrequestaddress, w))
	b.Add(base.NewMethod("get_transaction", "get_transaction(tx_hash, use_spv): a transaction from the node, decoded as Electrum's to_json (scriptSig always, witness for segwit transactions), with its confirmations; use_spv is accepted (walletd trusts its own node either way).", d.getTransaction))
	b.Add(base.NewMethod("getaddresshistory", "getaddresshistory(address): [{tx_hash, height}] of any address, from the node's address index.", d.getaddresshistory))
	b.Add(base.NewMethod("getaddressbalance", "getaddressbalance(address): {confirmed, unconfirmed} of any address, from the node's address index.", d.getaddressbalance))
	b.Add(base.NewMethod("getaddressunspent", "getaddressunspent(address): [{tx_hash, tx_pos, height, value}] of any address, from the node's address index.", d.getaddressunspent))
}

// open resolves the call's wallet, loading it on first use; the
// selector's diskless option keeps a new wallet's records in memory only.
func (d *Daemon) open(ctx context.Context, c *base.Call) (*wallet.Wallet, error) {
	return d.engine.OpenWith(ctx, c.Wallet.Key, wallet.OpenOptions{Diskless: c.Wallet.Diskless})
}

func (d *Daemon) getbalance(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	b, err := w.Balance(ctx)
	if err != nil {
		return nil, err
	}
	return balanceReply(b), nil
}

func (d *Daemon) getmpk(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.MPK(), nil
}

func (d *Daemon) getpubkeys(ctx context.Context, c *base.Call, a addressArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.PubKeys(ctx, a.Address)
}

func (d *Daemon) ismine(ctx context.Context, c *base.Call, a addressArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if !d.net.ValidAddress(a.Address) {
		return false, nil
	}
	return w.IsMine(ctx, a.Address)
}

func (d *Daemon) getunusedaddress(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	a, err := w.UnusedAddress(ctx)
	if err != nil || a == "" {
		return nil, err
	}
	return a, nil
}

func (d *Daemon) createnewaddress(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.CreateNewAddress(ctx)
}

type listAddressesArgs struct {
	Receiving bool `rpc:"receiving"`
	Change    bool `rpc:"change"`
	Labels    bool `rpc:"labels"`
	Frozen    bool `rpc:"frozen"`
	Unused    bool `rpc:"unused"`
	Funded    bool `rpc:"funded"`
	Balance   bool `rpc:"balance"`
}

func (d *Daemon) listaddresses(ctx context.Context, c *base.Call, a listAddressesArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	addrs, err := w.Addresses(ctx)
	if err != nil {
		return nil, err
	}
	var frozen map[string]bool
	if a.Frozen {
		if frozen, err = w.FrozenAddresses(ctx); err != nil {
			return nil, err
		}
	}
	var labels map[string]string
	if a.Labels {
		if labels, err = d.addressLabels(ctx, w); err != nil {
			return nil, err
		}
	}
	out := []any{}
	for _, ad := range addrs {
		if a.Frozen && !frozen[ad.Address] || a.Receiving && ad.Change || a.Change && !ad.Change ||
			a.Unused && ad.Used || a.Funded && ad.Balance == 0 {
			continue
		}
		if !a.Labels && !a.Balance {
			out = append(out, ad.Address)
			continue
		}
		item := []string{ad.Address}
		if a.Balance {
			item = append(item, formatSatoshis(ad.Balance))
		}
		if a.Labels {
			item = append(item, pyRepr(labels[ad.Address]))
		}
		out = append(out, item)
	}
	return out, nil
}

// addressLabels is Electrum's get_label_for_address for every labelled
// address: its own label, else the message of its request.
func (d *Daemon) addressLabels(ctx context.Context, w *wallet.Wallet) (map[string]string, error) {
	labels, err := w.Labels(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := w.ListRequests(ctx, false, false, false)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range reqs {
		if r.Memo != "" {
			out[r.Address] = r.Memo
		}
	}
	for k, v := range labels {
		if d.net.ValidAddress(k) {
			out[k] = v
		}
	}
	return out, nil
}

// unspentJSON is one listunspent entry, Electrum 4.6's PartialTxInput.to_json
// of a wallet coin with value_sats replaced by value (coin units).
type unspentJSON struct {
	PrevoutHash         string            `json:"prevout_hash"`
	PrevoutN            uint32            `json:"prevout_n"`
	Coinbase            bool              `json:"coinbase"`
	NSequence           uint32            `json:"nsequence"`
	Height              int32             `json:"height"`
	Address             string            `json:"address"`
	Desc                *string           `json:"desc"`
	UTXO                *string           `json:"utxo"`
	WitnessUTXO         *string           `json:"witness_utxo"`
	Sighash             *int              `json:"sighash"`
	RedeemScript        *string           `json:"redeem_script"`
	WitnessScript       *string           `json:"witness_script"`
	SigsECDSA           map[string]string `json:"sigs_ecdsa"`
	TapKeySig           *string           `json:"tap_key_sig"`
	TapMerkleRoot       *string           `json:"tap_merkle_root"`
	BIP32Paths          map[string]any    `json:"bip32_paths"`
	SLIP19OwnershipProo *string           `json:"slip_19_ownership_proof"`
	UnknownPSBTFields   map[string]string `json:"unknown_psbt_fields"`
	Value               string            `json:"value"`
}

func (d *Daemon) listunspent(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return nil, err
	}
	out := []unspentJSON{}
	for _, u := range utxos {
		if u.SpentBy != "" {
			continue
		}
		out = append(out, unspentJSON{PrevoutHash: u.OutPoint.Hash.String(), PrevoutN: u.OutPoint.Index,
			Coinbase: u.Coinbase, NSequence: wallet.SequenceNoRBF, Height: u.Height, Address: u.Address,
			SigsECDSA: map[string]string{}, BIP32Paths: map[string]any{}, UnknownPSBTFields: map[string]string{},
			Value: decimalStr(u.Value)})
	}
	return out, nil
}

type historyArgs struct {
	ShowFiat      bool   `rpc:"show_fiat"`
	Year          *int   `rpc:"year"`
	ShowAddresses bool   `rpc:"show_addresses"`
	ShowFees      *bool  `rpc:"show_fees"`
	FromHeight    *int32 `rpc:"from_height"`
	ToHeight      *int32 `rpc:"to_height"`
}

// historyItem is Electrum 4.6's OnchainHistoryItem.to_dict, with the
// show_addresses and show_fiat additions.
type historyItem struct {
	TxID               string  `json:"txid"`
	AmountSat          int64   `json:"amount_sat"`
	FeeSat             *int64  `json:"fee_sat"`
	Height             int32   `json:"height"`
	Confirmations      int64   `json:"confirmations"`
	Timestamp          *int64  `json:"timestamp"`
	MonotonicTimestamp int64   `json:"monotonic_timestamp"`
	Incoming           bool    `json:"incoming"`
	BCValue            string  `json:"bc_value"`
	BCBalance          string  `json:"bc_balance"`
	Date               *string `json:"date"`
	TxposInBlock       *int    `json:"txpos_in_block"`
	WantedHeight       *int32  `json:"wanted_height"`
	Label              string  `json:"label"`
	GroupID            *string `json:"group_id"`

	Inputs  []txInputJSON   `json:"inputs,omitempty"`
	Outputs []historyOutput `json:"outputs,omitempty"`

	FiatCurrency *string `json:"fiat_currency,omitempty"`
	FiatRate     *string `json:"fiat_rate,omitempty"`
	FiatValue    *string `json:"fiat_value,omitempty"`
	FiatFee      *string `json:"fiat_fee,omitempty"`
	FiatDefault  *bool   `json:"fiat_default,omitempty"`
}

// historyOutput is one output of onchain_history(show_addresses).
type historyOutput struct {
	Address  string `json:"address"`
	ValueSat int64  `json:"value_sat"`
}

// txTimestampInf is Electrum's TX_TIMESTAMP_INF, the monotonic timestamp
// of unconfirmed transactions.
const txTimestampInf = 999_999_999_999

func (d *Daemon) onchainHistory(ctx context.Context, c *base.Call, a historyArgs) (any, error) {
	if a.Year != nil && (*a.Year < 1970 || *a.Year > 9999) {
		return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"year\": a year from 1970 to 9999")
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	items, err := w.History(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := w.Labels(ctx)
	if err != nil {
		return nil, err
	}
	var addrLabels map[string]string
	currency := d.configString("currency")
	now := time.Now()
	out := []historyItem{}
	var bal, monotonic int64
	for _, it := range items {
		delta := it.Received - it.Sent
		bal += delta
		h := historyItem{TxID: it.TxID.String(), AmountSat: delta, Height: it.Height, Confirmations: it.Confirmations,
			Incoming: delta > 0, BCValue: formatSatoshis(delta), BCBalance: formatSatoshis(bal)}
		ts := int64(txTimestampInf)
		if !it.Time.IsZero() && it.Height > 0 {
			t := it.Time.Unix()
			date := it.Time.UTC().Format("2006-01-02 15:04")
			h.Timestamp, h.Date, ts = &t, &date, t
		}
		monotonic = max(monotonic, ts)
		h.MonotonicTimestamp = monotonic
		if a.Year != nil {
			at := now
			if h.Timestamp != nil {
				at = time.Unix(*h.Timestamp, 0)
			}
			if at.UTC().Year() != *a.Year {
				continue
			}
		}
		if a.FromHeight != nil && *a.FromHeight > it.Height && it.Height > 0 ||
			a.ToHeight != nil && (it.Height >= *a.ToHeight || it.Height <= 0) {
			continue
		}
		if it.Sent > 0 {
			if fee, err := w.TxFee(ctx, it.TxID); err == nil {
				h.FeeSat = &fee
			}
		}
		var tx *wire.MsgTx
		if len(it.Raw) > 0 {
			tx = wire.NewMsgTx(wire.TxVersion)
			if tx.Deserialize(bytes.NewReader(it.Raw)) != nil {
				tx = nil
			}
		}
		h.Label = labels[h.TxID]
		if h.Label == "" && it.Sent == 0 && tx != nil {
			if addrLabels == nil {
				if addrLabels, err = d.addressLabels(ctx, w); err != nil {
					return nil, err
				}
			}
			var parts []string
			for _, o := range tx.TxOut {
				if addr, ok := d.net.AddressFromScript(o.PkScript); ok && addrLabels[addr] != "" {
					if mine, _ := w.IsMine(ctx, addr); mine {
						parts = append(parts, addrLabels[addr])
					}
				}
			}
			h.Label = strings.Join(parts, ", ")
		}
		if a.ShowAddresses && tx != nil {
			h.Inputs = inputsJSON(tx)
			h.Outputs = make([]historyOutput, len(tx.TxOut))
			for i, o := range tx.TxOut {
				addr, ok := d.net.AddressFromScript(o.PkScript)
				if !ok {
					addr = "SCRIPT " + hex.EncodeToString(o.PkScript)
				}
				h.Outputs[i] = historyOutput{Address: addr, ValueSat: o.Value}
			}
		}
		if a.ShowFiat {
			noData, yes := "No Data", true
			h.FiatCurrency, h.FiatRate, h.FiatValue, h.FiatDefault = &currency, &noData, &noData, &yes
			if h.FeeSat != nil {
				h.FiatFee = &noData
			}
		}
		out = append(out, h)
	}
	return out, nil
}

type txidArgs struct {
	TxID string `rpc:"txid,required"`
}

// parseTxid checks a tx hash argument (64 hex chars) or fails with -32001.
func parseTxid(s string) (chainhash.Hash, error) {
	if len(s) != 64 {
		return chainhash.Hash{}, base.Errorf(spec.InvalidTxHash, "Invalid tx hash: should be a transaction hash")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return chainhash.Hash{}, base.Errorf(spec.InvalidTxHash, "Invalid tx hash: should be a transaction hash")
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, base.Errorf(spec.InvalidTxHash, "Invalid tx hash: should be a transaction hash")
	}
	return *h, nil
}

func (d *Daemon) getTxStatus(ctx context.Context, c *base.Call, a txidArgs) (any, error) {
	id, err := parseTxid(a.TxID)
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	conf, err := w.TxStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"confirmations": conf}, nil
}

func (d *Daemon) getUpdates(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	evs, err := w.Updates(ctx)
	if err != nil {
		return nil, err
	}
	return d.renderEvents(evs), nil
}

type closeWalletArgs struct {
	Key string `rpc:"key"`
}

// closeWallet is Bitcart's close_wallet(key): the wallet named by the
// xpub argument, else by key.
func (d *Daemon) closeWallet(_ context.Context, c *base.Call, a closeWalletArgs) (any, error) {
	k := c.Wallet.Key
	if k == "" {
		k = a.Key
	}
	if k == "" {
		return false, nil
	}
	return d.engine.CloseWallet(k), nil
}

// maxRequestExpiry bounds add_request's expiry: 10 years.
const maxRequestExpiry = 10 * 365 * 24 * 3600

type addRequestArgs struct {
	Amount    Amount       `rpc:"amount"`
	Memo      string       `rpc:"memo" default:"\"\""`
	Expiry    *json.Number `rpc:"expiry,nullable" default:"3600"`
	Lightning bool         `rpc:"lightning"`
	Force     bool         `rpc:"force"`
}

// addRequest is Electrum's add_request: amount null or 0 makes a request
// without an amount, expiry null or 0 one that never expires.
func (d *Daemon) addRequest(ctx context.Context, c *base.Call, a addRequestArgs) (any, error) {
	if a.Lightning {
		return nil, base.Errorf(spec.LightningUnsupp, "Lightning not supported in this wallet type")
	}
	if a.Amount.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid amount: \"!\" is not a request amount")
	}
	var expiry int64
	if a.Expiry != nil {
		var err error
		if expiry, err = strconv.ParseInt(a.Expiry.String(), 10, 64); err != nil || expiry < 0 || expiry > maxRequestExpiry {
			return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"expiry\": seconds from 0 (never) to %d", maxRequestExpiry)
		}
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.AddRequest(ctx, a.Amount.Sats, a.Memo, expiry, a.Force)
	if errors.Is(err, wallet.ErrGapLimit) {
		return false, nil // Electrum: no unused address and no force answers False
	}
	if err != nil {
		return nil, err
	}
	return d.requestJSON(r), nil
}

// requestJSON renders a request in the contract's shape (amount key per
// coin: amount_BTC, amount_LTC…). The reply writes itself (reply.go).
func (d *Daemon) requestJSON(r *wallet.RequestView) requestReply {
	return requestReply{amountKey: d.amountKey, net: d.net, v: r}
}

// requestReply is a request's reply: {"amount_BTC": …, "request_id": …,
// "is_lightning": false, "amount_sat": …, "message": …, "timestamp": …,
// "expiry": …, "status": …, "status_str": …, "address": …, "URI": …,
// "tx_hashes": […], "confirmations": …, "sent_amount": …}, written by
// AppendJSON.
type requestReply struct {
	amountKey string // pre-encoded `"amount_BTC":`
	net       *params.Network
	v         *wallet.RequestView
	// noSent leaves sent_amount out (getinvoice's reply).
	noSent bool
}

// MarshalJSON writes what AppendJSON writes.
func (r requestReply) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// requestKeyArgs name a request: Electrum 4.6's request_id, Bitcart's
// address (get_request) or walletd 0.1's key; exactly one.
type requestKeyArgs struct {
	RequestID string `rpc:"request_id"`
	Address   string `rpc:"address"`
	Key       string `rpc:"key"`
}

// id returns the one name given, or an InvalidParams error.
func (a requestKeyArgs) id() (string, error) {
	var id string
	n := 0
	for _, v := range [...]string{a.RequestID, a.Address, a.Key} {
		if v != "" {
			id = v
			n++
		}
	}
	if n != 1 {
		return "", base.Errorf(spec.InvalidParams, "give the request's id (request_id) once")
	}
	return id, nil
}

func (d *Daemon) getRequest(ctx context.Context, c *base.Call, a requestKeyArgs) (any, error) {
	id, err := a.id()
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.GetRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.requestJSON(r), nil
}

type listRequestsArgs struct {
	Pending bool `rpc:"pending"`
	Expired bool `rpc:"expired"`
	Paid    bool `rpc:"paid"`
}

func (d *Daemon) listRequests(ctx context.Context, c *base.Call, a listRequestsArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	rs, err := w.ListRequests(ctx, a.Pending, a.Expired, a.Paid)
	if err != nil {
		return nil, err
	}
	out := make([]requestReply, len(rs))
	for i, r := range rs {
		out[i] = d.requestJSON(r)
	}
	return out, nil
}

type deleteRequestArgs struct {
	RequestID string `rpc:"request_id"`
	Key       string `rpc:"key"`
}

// deleteRequest is Electrum's delete_request: null either way.
func (d *Daemon) deleteRequest(ctx context.Context, c *base.Call, a deleteRequestArgs) (any, error) {
	id, err := requestKeyArgs{RequestID: a.RequestID, Key: a.Key}.id()
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	_, err = w.DeleteRequest(ctx, id)
	return nil, err
}

func (d *Daemon) clearRequests(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return true, w.ClearRequests(ctx)
}

type setRequestAddressArgs struct {
	Key     string `rpc:"key,required"`
	Address string `rpc:"address,required"`
}

func (d *Daemon) setrequestaddress(context.Context, *base.Call, setRequestAddressArgs) (any, error) {
	return false, nil
}

type txHashArgs struct {
	TxHash string `rpc:"tx_hash,required"`
}

type getTransactionArgs struct {
	TxHash string `rpc:"tx_hash,required"`
	UseSPV bool   `rpc:"use_spv"`
}

// transactionJSON is get_transaction's reply: to_json plus confirmations.
type transactionJSON struct {
	txJSON
	Confirmations int64 `json:"confirmations"`
}

func (d *Daemon) getTransaction(ctx context.Context, _ *base.Call, a getTransactionArgs) (any, error) {
	info, err := d.nodeTransaction(ctx, a.TxHash)
	if err != nil {
		return nil, err
	}
	return transactionJSON{txJSON: toTxJSON(info.Tx, d.net), Confirmations: info.Confirmations}, nil
}

// nodeTransaction asks the node for a transaction by its hash argument.
func (d *Daemon) nodeTransaction(ctx context.Context, txHash string) (*chain.TxInfo, error) {
	id, err := parseTxid(txHash)
	if err != nil {
		return nil, err
	}
	if d.backend == nil {
		return nil, wallet.ErrNoBackend
	}
	return d.backend.Transaction(ctx, id)
}

// defaultMaxAddressHistory is Fulcrum's max_history default.
const defaultMaxAddressHistory = 125_000

// maxAddressHistory is the configured bound on one address's history.
func (d *Daemon) maxAddressHistory() int {
	if d.cfg.MaxAddressHistory > 0 {
		return d.cfg.MaxAddressHistory
	}
	return defaultMaxAddressHistory
}

// addressHistory fetches any address's transactions from the node, at
// most maxAddressHistory of them: a backend that can stops fetching past
// the bound, so a lookup of a busy address costs the bound, not its whole
// history.
func (d *Daemon) addressHistory(ctx context.Context, address string) ([]byte, []chainTx, error) {
	script, err := d.net.PkScript(address)
	if err != nil {
		return nil, nil, err
	}
	if d.backend == nil {
		return nil, nil, wallet.ErrNoBackend
	}
	limit := d.maxAddressHistory()
	hist, err := chain.HistoryAtMost(ctx, d.backend, [][]byte{script}, limit)
	if errors.Is(err, chain.ErrTooMuchHistory) {
		return nil, nil, base.Errorf(spec.InvalidParams, "the address has more than %d transactions (%s_MAX_ADDRESS_HISTORY)", limit, d.coin.Ticker)
	}
	if err != nil {
		return nil, nil, err
	}
	out := make([]chainTx, len(hist))
	for i, h := range hist {
		out[i] = chainTx{id: h.Tx.TxHash(), height: h.Height, info: h}
	}
	return script, out, nil
}

func (d *Daemon) getaddresshistory(ctx context.Context, _ *base.Call, a addressArgs) (any, error) {
	_, hist, err := d.addressHistory(ctx, a.Address)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, h := range hist {
		out = append(out, map[string]any{"tx_hash": h.id.String(), "height": h.height})
	}
	return out, nil
}

func (d *Daemon) getaddressunspent(ctx context.Context, _ *base.Call, a addressArgs) (any, error) {
	script, hist, err := d.addressHistory(ctx, a.Address)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, u := range unspentOf(script, hist) {
		out = append(out, map[string]any{"tx_hash": u.txid.String(), "tx_pos": u.index, "height": u.height, "value": u.value})
	}
	return out, nil
}

func (d *Daemon) getaddressbalance(ctx context.Context, _ *base.Call, a addressArgs) (any, error) {
	script, hist, err := d.addressHistory(ctx, a.Address)
	if err != nil {
		return nil, err
	}
	var conf, unconf int64
	for _, u := range unspentOf(script, hist) {
		if u.height > 0 && !u.spentInMempool {
			conf += u.value
		} else if u.height > 0 {
			conf += u.value
			unconf -= u.value
		} else if !u.spentInMempool {
			unconf += u.value
		}
	}
	return map[string]string{"confirmed": FormatFixed(conf), "unconfirmed": FormatFixed(unconf)}, nil
}
