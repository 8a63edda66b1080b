package utxo

import (
	"context"
	"encoding/hex"
	"encoding/json"

	"github.com/btcsuite/btcd/chainhash/v2"

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
	b.Add(base.NewMethod("listaddresses", "listaddresses(receiving, change, labels, frozen, unused, funded, balance): the wallet's addresses, filtered; with balance=true, [address, balance] pairs.", d.listaddresses, w))
	b.Add(base.NewMethod("listunspent", "listunspent(): the wallet's unspent outputs.", d.listunspent, w))
	b.Add(base.NewMethod("onchain_history", "onchain_history(): the wallet's transactions with amounts and confirmations.", d.onchainHistory, w))
	b.Add(base.NewMethod("get_tx_status", "get_tx_status(txid): {\"confirmations\": n} for a wallet transaction.", d.getTxStatus, w))
	b.Add(base.NewMethod("get_updates", "get_updates(): drains the wallet's queue of events (at most <COIN>_POLLING_CAP).", d.getUpdates, w))
	b.Add(base.NewMethod("close_wallet", "close_wallet(): unloads the wallet's keys from memory (it stays tracked); false if it was not loaded.", d.closeWallet, w))
	b.Add(base.NewMethod("add_request", "add_request(amount, memo, expiry, lightning, force): creates a payment request on a fresh receiving address; expiry in seconds.", d.addRequest, w))
	b.Add(base.NewMethod("get_request", "get_request(key): a payment request by id (or address) with its live status.", d.getRequest, w, base.Alias("getrequest")))
	b.Add(base.NewMethod("list_requests", "list_requests(pending, expired, paid): the wallet's payment requests, optionally filtered by status.", d.listRequests, w))
	b.Add(base.NewMethod("delete_request", "delete_request(key): deletes a payment request; false if there was none.", d.deleteRequest, w))
	b.Add(base.NewMethod("clear_requests", "clear_requests(): deletes every payment request of the wallet.", d.clearRequests, w))
	b.Add(base.NewMethod("setrequestaddress", "setrequestaddress(key, address): not supported (returns false), as in Bitcart.", d.setrequestaddress, w))
	b.Add(base.NewMethod("get_transaction", "get_transaction(tx_hash): a transaction from the node, decoded, with its confirmations.", d.getTransaction))
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
	out := map[string]string{"confirmed": wallet.FormatFixed(b.Confirmed)}
	if b.Unconfirmed != 0 {
		out["unconfirmed"] = wallet.FormatFixed(b.Unconfirmed)
	}
	if b.Unmatured != 0 {
		out["unmatured"] = wallet.FormatFixed(b.Unmatured)
	}
	return out, nil
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
	out := []any{}
	for _, ad := range addrs {
		if a.Receiving && ad.Change || a.Change && !ad.Change || a.Unused && ad.Used || a.Funded && ad.Balance == 0 || a.Frozen {
			continue
		}
		var item any = ad.Address
		if a.Balance {
			item = []string{ad.Address, wallet.FormatElectrum(ad.Balance)}
		}
		out = append(out, item)
	}
	return out, nil
}

// unspentJSON is one listunspent entry, as Electrum prints it.
type unspentJSON struct {
	Address     string `json:"address"`
	Value       string `json:"value"`
	ValueSats   int64  `json:"value_sats"`
	PrevoutHash string `json:"prevout_hash"`
	PrevoutN    uint32 `json:"prevout_n"`
	Height      int32  `json:"height"`
	Coinbase    bool   `json:"coinbase"`
	NSequence   uint32 `json:"nsequence"`
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
		out = append(out, unspentJSON{Address: u.Address, Value: wallet.FormatElectrum(u.Value), ValueSats: u.Value,
			PrevoutHash: u.OutPoint.Hash.String(), PrevoutN: u.OutPoint.Index, Height: u.Height, Coinbase: u.Coinbase,
			NSequence: 0xfffffffd})
	}
	return out, nil
}

// historyJSON is one onchain_history transaction.
type historyJSON struct {
	TxID          string  `json:"txid"`
	Height        int32   `json:"height"`
	Confirmations int64   `json:"confirmations"`
	Timestamp     *int64  `json:"timestamp"`
	Date          *string `json:"date"`
	Incoming      bool    `json:"incoming"`
	BCValue       string  `json:"bc_value"`
	BCBalance     string  `json:"bc_balance"`
	Label         string  `json:"label"`
}

func (d *Daemon) onchainHistory(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	items, err := w.History(ctx)
	if err != nil {
		return nil, err
	}
	txs := []historyJSON{}
	var bal, in, out int64
	for _, it := range items {
		delta := it.Received - it.Sent
		bal += delta
		if delta >= 0 {
			in += delta
		} else {
			out -= delta
		}
		h := historyJSON{TxID: it.TxID.String(), Height: it.Height, Confirmations: it.Confirmations,
			Incoming: delta >= 0, BCValue: wallet.FormatElectrum(delta), BCBalance: wallet.FormatElectrum(bal)}
		if !it.Time.IsZero() && it.Height > 0 {
			ts := it.Time.Unix()
			date := it.Time.UTC().Format("2006-01-02 15:04")
			h.Timestamp, h.Date = &ts, &date
		}
		txs = append(txs, h)
	}
	return map[string]any{"transactions": txs, "summary": map[string]any{
		"end_balance": wallet.FormatElectrum(bal), "incoming": wallet.FormatElectrum(in),
		"outgoing": wallet.FormatElectrum(out)}}, nil
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
	return w.Updates(ctx)
}

func (d *Daemon) closeWallet(_ context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	return d.engine.CloseWallet(c.Wallet.Key), nil
}

type addRequestArgs struct {
	Amount    wallet.Amount `rpc:"amount,required"`
	Memo      string        `rpc:"memo" default:"\"\""`
	Expiry    int64         `rpc:"expiry" default:"3600"`
	Lightning bool          `rpc:"lightning"`
	Force     bool          `rpc:"force"`
}

func (d *Daemon) addRequest(ctx context.Context, c *base.Call, a addRequestArgs) (any, error) {
	if a.Lightning {
		return nil, base.Errorf(spec.LightningUnsupp, "Lightning not supported in this wallet type")
	}
	if a.Amount.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid amount: \"!\" is not a request amount")
	}
	if a.Expiry < 0 {
		return nil, base.Errorf(spec.InvalidParams, "expiry must not be negative")
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.AddRequest(ctx, a.Amount.Sats, a.Memo, a.Expiry, a.Force)
	if err != nil {
		return nil, err
	}
	return d.requestJSON(r), nil
}

// requestJSON renders a request in the contract's shape (amount key per
// coin: amount_BTC, amount_LTC…).
func (d *Daemon) requestJSON(r *wallet.RequestView) requestReply {
	return requestReply{amountKey: d.amountKey, amount: wallet.FormatElectrum(r.Amount), body: requestBody{
		RequestID: r.ID, AmountSat: r.Amount, Message: r.Memo, Timestamp: r.Timestamp, Expiry: r.Expiry,
		Status: r.Status, StatusStr: r.StatusStr, Address: r.Address, URI: r.URI, TxHashes: r.TxHashes,
		Confirmations: r.Confirmations, SentAmount: wallet.FormatFixed(r.Sent)}}
}

// requestBody is a request's reply without its coin-named amount.
type requestBody struct {
	RequestID     string   `json:"request_id"`
	IsLightning   bool     `json:"is_lightning"`
	AmountSat     int64    `json:"amount_sat"`
	Message       string   `json:"message"`
	Timestamp     int64    `json:"timestamp"`
	Expiry        int64    `json:"expiry"`
	Status        int      `json:"status"`
	StatusStr     string   `json:"status_str"`
	Address       string   `json:"address"`
	URI           string   `json:"URI"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations int64    `json:"confirmations"`
	SentAmount    string   `json:"sent_amount"`
}

// requestReply marshals as requestBody plus "amount_<TICKER>" first,
// without building a map per reply.
type requestReply struct {
	amountKey string // pre-encoded `"amount_BTC":`
	amount    string
	body      requestBody
}

// MarshalJSON writes {"amount_BTC":"0.5", …body…}.
func (r requestReply) MarshalJSON() ([]byte, error) {
	body, err := json.Marshal(r.body)
	if err != nil {
		return nil, err
	}
	amt, _ := json.Marshal(r.amount)
	out := make([]byte, 0, len(body)+len(r.amountKey)+len(amt)+2)
	out = append(out, '{')
	out = append(out, r.amountKey...)
	out = append(out, amt...)
	out = append(out, ',')
	return append(out, body[1:]...), nil
}

type requestKeyArgs struct {
	Key string `rpc:"key,required"`
}

func (d *Daemon) getRequest(ctx context.Context, c *base.Call, a requestKeyArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.GetRequest(ctx, a.Key)
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

func (d *Daemon) deleteRequest(ctx context.Context, c *base.Call, a requestKeyArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.DeleteRequest(ctx, a.Key)
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

// txInputJSON and txOutputJSON are get_transaction's shapes.
type txInputJSON struct {
	PrevoutHash string   `json:"prevout_hash"`
	PrevoutN    uint32   `json:"prevout_n"`
	Coinbase    bool     `json:"coinbase"`
	NSequence   uint32   `json:"nsequence"`
	ScriptSig   string   `json:"scriptSig,omitempty"`
	Witness     []string `json:"witness,omitempty"`
}

type txOutputJSON struct {
	ScriptPubKey string `json:"scriptpubkey"`
	Address      any    `json:"address"`
	ValueSats    int64  `json:"value_sats"`
}

func (d *Daemon) getTransaction(ctx context.Context, _ *base.Call, a txHashArgs) (any, error) {
	id, err := parseTxid(a.TxHash)
	if err != nil {
		return nil, err
	}
	if d.backend == nil {
		return nil, wallet.ErrNoBackend
	}
	info, err := d.backend.Transaction(ctx, id)
	if err != nil {
		return nil, err
	}
	tx := info.Tx
	ins := make([]txInputJSON, len(tx.TxIn))
	coinbase := len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{})
	for i, in := range tx.TxIn {
		ins[i] = txInputJSON{PrevoutHash: in.PreviousOutPoint.Hash.String(), PrevoutN: in.PreviousOutPoint.Index,
			Coinbase: coinbase, NSequence: in.Sequence, ScriptSig: hex.EncodeToString(in.SignatureScript)}
		for _, wi := range in.Witness {
			ins[i].Witness = append(ins[i].Witness, hex.EncodeToString(wi))
		}
	}
	outs := make([]txOutputJSON, len(tx.TxOut))
	for i, o := range tx.TxOut {
		outs[i] = txOutputJSON{ScriptPubKey: hex.EncodeToString(o.PkScript), ValueSats: o.Value}
		if addr, ok := d.net.AddressFromScript(o.PkScript); ok {
			outs[i].Address = addr
		}
	}
	return map[string]any{"version": tx.Version, "locktime": tx.LockTime, "inputs": ins, "outputs": outs,
		"confirmations": info.Confirmations}, nil
}

// addressHistory fetches any address's transactions from the node.
func (d *Daemon) addressHistory(ctx context.Context, address string) ([]byte, []chainTx, error) {
	script, err := d.net.PkScript(address)
	if err != nil {
		return nil, nil, err
	}
	if d.backend == nil {
		return nil, nil, wallet.ErrNoBackend
	}
	hist, err := d.backend.History(ctx, [][]byte{script})
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
	return map[string]string{"confirmed": wallet.FormatFixed(conf), "unconfirmed": wallet.FormatFixed(unconf)}, nil
}
