package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// Electrum's fee policy (simple_config.py), in sat/kvB.
const (
	// feeRateFallback is Electrum's FEERATE_FALLBACK_STATIC_FEE: the static
	// fee_per_kb, also used when the node has no estimate.
	feeRateFallback = 150_000
	// feeRateMaxDynamic is Electrum's FEERATE_MAX_DYNAMIC cap on estimates.
	feeRateMaxDynamic = 1_500_000
)

// etaTargets are Electrum's fee slider positions in ETA mode (blocks):
// FEE_ETA_TARGETS plus 1 for the last position.
var etaTargets = [...]int{25, 10, 5, 2, 1}

// sendSide holds the send-side methods and the daemon's in-memory
// Electrum configuration (getconfig/setconfig).
type sendSide struct {
	d    *Daemon
	conf *electrumConfig
}

// sendMethods declares the send side: building, signing, pricing and
// broadcasting transactions, the fee and config methods, message signing,
// the merchant's stubs, and the lightning methods (unsupported).
func (d *Daemon) sendMethods(b *base.Builder) {
	s := &sendSide{d: d, conf: newElectrumConfig()}
	if c := d.cfg.FiatCurrency; c != "" {
		s.conf.vals["currency"], _ = json.Marshal(c)
	}
	w := base.NeedsWallet()
	add := func(m base.Method, err error) { b.Add(m, err) }
	add(base.NewMethod("payto", "payto(destination, amount, fee, feerate, from_addr, from_coins, change_addr, nocheck, unsigned, rbf, password, locktime, addtransaction): builds a transaction paying amount (coin units, \"!\" for everything) to destination; fee is absolute (coin units) or feerate in sat/vB, not both. Returns the signed raw transaction in hex, or an unsigned PSBT in base64 for a watch-only wallet or unsigned=true. rbf (default: the use_rbf config, true) signals BIP125; addtransaction adds it to the wallet's history.", s.payto, w))
	add(base.NewMethod("paytomany", "paytomany(outputs, fee, feerate, from_addr, from_coins, change_addr, nocheck, unsigned, rbf, password, locktime, addtransaction): like payto with several outputs: [[address, amount], …] (or [{\"address\", \"amount\"}, …]).", s.paytomany, w))
	add(base.NewMethod("signtransaction", "signtransaction(tx, password, iknowwhatimdoing): signs a PSBT (base64 or hex) or a raw transaction (hex) with the wallet's keys; returns the raw transaction in hex when complete, else the PSBT in base64.", s.signtransaction, w))
	add(base.NewMethod("bumpfee", "bumpfee(tx, new_fee_rate, from_coins, decrease_payment, password, unsigned): a BIP125 replacement of an unconfirmed wallet transaction (raw hex, PSBT or txid) paying new_fee_rate sat/vB: same inputs and payments, less change (or more coins). Returns it signed in hex, or as a PSBT.", s.bumpfee, w))
	add(base.NewMethod("addtransaction", "addtransaction(tx): adds a signed transaction to the wallet's history as unconfirmed (without broadcasting it); returns its txid.", s.addtransaction, w))
	add(base.NewMethod("removelocaltx", "removelocaltx(txid): removes a local transaction (one the node does not know) and the transactions depending on it from the wallet.", s.removelocaltx, w))
	add(base.NewMethod("get_used_fee", "get_used_fee(tx_hash): the fee a wallet transaction paid (inputs minus outputs), 8-decimal string.", s.getUsedFee, w))
	add(base.NewMethod("signmessage", "signmessage(address, message, password): signs message with the key of one of the wallet's addresses (Electrum/Bitcoin Core message signing); base64 signature.", s.signmessage, w))
	add(base.NewMethod("broadcast", "broadcast(tx): submits a signed transaction (hex, or a complete PSBT) to the node; returns its txid. A refusal names the node's reason.", s.broadcast))
	add(base.NewMethod("get_tx_size", "get_tx_size(raw_tx): the transaction's virtual size in vbytes (estimated with signatures when it is not signed yet).", s.getTxSize))
	add(base.NewMethod("get_tx_hash", "get_tx_hash(raw_tx): the transaction's txid.", s.getTxHash))
	add(base.NewMethod("get_default_fee", "get_default_fee(tx): the fee at the default fee rate for tx, a raw transaction (hex or PSBT) or a size in vbytes; 8-decimal string.", s.getDefaultFee))
	add(base.NewMethod("recommended_fee", "recommended_fee(target): the node's fee estimate for confirmation within target blocks, in sat/kvB, or null without an estimate.", s.recommendedFee))
	add(base.NewMethod("getfeerate", "getfeerate(fee_method, fee_level): the fee rate payto uses by default, in sat/kvB: the node's estimate for the fee_level target (dynamic_fees config) or the static fee_per_kb config.", s.getfeerate))
	add(base.NewMethod("make_seed", "make_seed(nbits, language, seed_type): a new Electrum seed (segwit by default; english word list).", s.makeSeed))
	add(base.NewMethod("verifymessage", "verifymessage(address, signature, message): true if signature (base64) signs message for address.", s.verifymessage))
	add(base.NewMethod("getconfig", "getconfig(key): a daemon configuration value (Electrum keys such as fee_per_kb, dynamic_fees, fee_level, use_rbf, confirmed_only, use_change, lightning); unknown keys are an error.", s.getconfig))
	add(base.NewMethod("setconfig", "setconfig(key, value): sets a configuration value in memory (until restart); unknown keys are an error.", s.setconfig))
	add(base.NewMethod("modifypaymenturl", "modifypaymenturl(url, amount, divisibility): the payment URL with its amount query parameter set (unchanged for a zero amount).", s.modifypaymenturl))
	add(base.NewMethod("normalizeaddress", "normalizeaddress(address): the address unchanged (for coins with several address forms).", s.normalizeaddress))
	add(base.NewMethod("validatecontract", "validatecontract(address): false: this coin has no token contracts.", s.validatecontract))
	add(base.NewMethod("get_tokens", "get_tokens(): {}: this coin has no tokens.", s.getTokens))
	add(base.NewMethod("getabi", "getabi(): []: this coin has no contract ABI.", s.getabi))
	lnHelp := " Lightning is not available in walletd yet: always fails with LightningUnsupportedError (-32011)."
	b.Add(base.NewMethod("nodeid", "nodeid(): the lightning node id."+lnHelp, lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("add_peer", "add_peer(connection_string, timeout, gossip): connects to a lightning peer."+lnHelp, lnUnsupported[lnPeerArgs]))
	b.Add(base.NewMethod("list_peers", "list_peers(gossip): the lightning peers."+lnHelp, lnUnsupported[lnListPeersArgs]))
	b.Add(base.NewMethod("open_channel", "open_channel(connection_string, amount, push_amount, public, password): opens a lightning channel."+lnHelp, lnUnsupported[lnOpenArgs]))
	b.Add(base.NewMethod("close_channel", "close_channel(channel_point, force, password): closes a lightning channel."+lnHelp, lnUnsupported[lnCloseArgs]))
	b.Add(base.NewMethod("list_channels", "list_channels(): the lightning channels."+lnHelp, lnUnsupported[base.NoArgs]))
	b.Add(base.NewMethod("lnpay", "lnpay(invoice, timeout, password): pays a lightning invoice."+lnHelp, lnUnsupported[lnPayArgs]))
	b.Add(base.NewMethod("get_invoice", "get_invoice(key): a lightning invoice."+lnHelp, lnUnsupported[lnInvoiceArgs]))
}

// Lightning argument lists (Electrum's), accepted so that a call fails
// with -32011 rather than a parameter error.
type lnPeerArgs struct {
	ConnectionString json.RawMessage `rpc:"connection_string"`
	Timeout          json.RawMessage `rpc:"timeout"`
	Gossip           json.RawMessage `rpc:"gossip"`
}

type lnListPeersArgs struct {
	Gossip json.RawMessage `rpc:"gossip"`
}

type lnOpenArgs struct {
	ConnectionString json.RawMessage `rpc:"connection_string"`
	Amount           json.RawMessage `rpc:"amount"`
	PushAmount       json.RawMessage `rpc:"push_amount"`
	Public           json.RawMessage `rpc:"public"`
	Password         json.RawMessage `rpc:"password"`
}

type lnCloseArgs struct {
	ChannelPoint json.RawMessage `rpc:"channel_point"`
	Force        json.RawMessage `rpc:"force"`
	Password     json.RawMessage `rpc:"password"`
}

type lnPayArgs struct {
	Invoice  json.RawMessage `rpc:"invoice"`
	Timeout  json.RawMessage `rpc:"timeout"`
	Password json.RawMessage `rpc:"password"`
}

type lnInvoiceArgs struct {
	Key json.RawMessage `rpc:"key"`
}

func lnUnsupported[A any](context.Context, *base.Call, A) (any, error) {
	return nil, base.Errorf(spec.LightningUnsupp, "Lightning not supported in this wallet type")
}

// strList is a list argument given as a comma-separated string (Electrum's
// from_addr, from_coins) or a JSON array of strings.
type strList []string

// UnmarshalJSON accepts "a,b", ["a", "b"] or null.
func (l *strList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*l = list
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// parseCoins parses "txid:n" outpoints.
func parseCoins(l strList) ([]wire.OutPoint, error) {
	var out []wire.OutPoint
	for _, c := range l {
		h, n, ok := strings.Cut(c, ":")
		idx, err := strconv.ParseUint(n, 10, 32)
		if !ok || err != nil {
			return nil, base.Errorf(spec.InvalidParams, "invalid coin %q: expected txid:n", c)
		}
		id, err := parseTxid(h)
		if err != nil {
			return nil, err
		}
		out = append(out, wire.OutPoint{Hash: id, Index: uint32(idx)})
	}
	return out, nil
}

// feeRateKvB converts a sat/vB rate given as an exact decimal to sat/kvB
// (rounded half up to whole sat/kvB).
func feeRateKvB(a wallet.Amount, name string) (int64, error) {
	if a.Max {
		return 0, base.Errorf(spec.InvalidParams, "invalid value for argument %q: \"!\" is not a fee rate", name)
	}
	// a.Sats is the rate × 1e8; sat/kvB is the rate × 1e3.
	return (a.Sats + 50_000) / 100_000, nil
}

// spendOpts are payto's and paytomany's parameters after the outputs,
// embedded in both argument structs (the binder flattens them in order).
type spendOpts struct {
	Fee            wallet.Amount `rpc:"fee"`
	FeeRate        wallet.Amount `rpc:"feerate"`
	FromAddr       strList       `rpc:"from_addr"`
	FromCoins      strList       `rpc:"from_coins"`
	ChangeAddr     string        `rpc:"change_addr"`
	NoCheck        bool          `rpc:"nocheck"`
	Unsigned       bool          `rpc:"unsigned"`
	RBF            *bool         `rpc:"rbf"`
	Password       *string       `rpc:"password"`
	LockTime       *uint32       `rpc:"locktime"`
	AddTransaction bool          `rpc:"addtransaction"`
}

type paytoArgs struct {
	Destination string        `rpc:"destination,required"`
	Amount      wallet.Amount `rpc:"amount,required"`
	spendOpts
}

func (s *sendSide) payto(ctx context.Context, c *base.Call, a paytoArgs) (any, error) {
	return s.pay(ctx, c, []wallet.Payment{{Address: a.Destination, Amount: a.Amount}}, a.spendOpts)
}

// payOutput is one paytomany output: [address, amount] or
// {"address": …, "amount": …}.
type payOutput wallet.Payment

// UnmarshalJSON accepts a two-element array or an object.
func (o *payOutput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var obj struct {
			Address string        `json:"address"`
			Amount  wallet.Amount `json:"amount"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*o = payOutput{Address: obj.Address, Amount: obj.Amount}
		return nil
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("an output must be [address, amount]")
	}
	if err := json.Unmarshal(pair[0], &o.Address); err != nil {
		return fmt.Errorf("an output's address must be a string")
	}
	return json.Unmarshal(pair[1], &o.Amount)
}

type paytomanyArgs struct {
	Outputs []payOutput `rpc:"outputs,required"`
	spendOpts
}

func (s *sendSide) paytomany(ctx context.Context, c *base.Call, a paytomanyArgs) (any, error) {
	outs := make([]wallet.Payment, len(a.Outputs))
	for i, o := range a.Outputs {
		if !o.Amount.Set {
			return nil, base.Errorf(spec.InvalidParams, "output %d has no amount", i)
		}
		outs[i] = wallet.Payment(o)
	}
	return s.pay(ctx, c, outs, a.spendOpts)
}

// pay builds (and signs when it can) a transaction for payto/paytomany.
func (s *sendSide) pay(ctx context.Context, c *base.Call, outs []wallet.Payment, o spendOpts) (any, error) {
	if o.Fee.Set && o.FeeRate.Set {
		return nil, wallet.ErrFeeAndFeerate
	}
	if o.Fee.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"fee\": \"!\" is not a fee")
	}
	req := wallet.SpendRequest{Outputs: outs, FromAddrs: o.FromAddr, ChangeAddr: o.ChangeAddr,
		Unsigned: o.Unsigned, LockTime: o.LockTime, RBF: s.conf.boolean("use_rbf", true),
		ConfirmedOnly: s.conf.boolean("confirmed_only", false), ChangeToInput: !s.conf.boolean("use_change", true)}
	if o.RBF != nil {
		req.RBF = *o.RBF
	}
	var err error
	if req.FromCoins, err = parseCoins(o.FromCoins); err != nil {
		return nil, err
	}
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	req.Unsigned = req.Unsigned || !w.CanSign()
	switch {
	case o.Fee.Set:
		fee := o.Fee.Sats
		req.Fee = &fee
	case o.FeeRate.Set:
		rate, err := feeRateKvB(o.FeeRate, "feerate")
		if err != nil {
			return nil, err
		}
		req.FeeRate = &rate
	default:
		rate := s.defaultFeeRate(ctx, nil, nil)
		req.FeeRate = &rate
	}
	built, err := w.CreateTransaction(ctx, req)
	if err != nil {
		return nil, err
	}
	out, err := built.Serialize()
	if err != nil {
		return nil, err
	}
	if o.AddTransaction && built.Complete {
		if err := s.d.engine.AddTransaction(ctx, built.Tx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type txArg struct {
	Tx string `rpc:"tx,required"`
}

type signArgs struct {
	Tx               string  `rpc:"tx,required"`
	Password         *string `rpc:"password"`
	IKnowWhatImDoing bool    `rpc:"iknowwhatimdoing"`
}

func (s *sendSide) signtransaction(ctx context.Context, c *base.Call, a signArgs) (any, error) {
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if !w.CanSign() {
		// Electrum's watch-only wallet signs nothing: the tx comes back.
		tx, p, err := wallet.DecodeTransaction(a.Tx)
		if err != nil {
			return nil, err
		}
		if p != nil {
			return p.B64Encode()
		}
		return wireHex(tx)
	}
	return w.SignTransaction(ctx, a.Tx)
}

type bumpArgs struct {
	Tx              string        `rpc:"tx,required"`
	NewFeeRate      wallet.Amount `rpc:"new_fee_rate,required"`
	FromCoins       strList       `rpc:"from_coins"`
	DecreasePayment bool          `rpc:"decrease_payment"`
	Password        *string       `rpc:"password"`
	Unsigned        bool          `rpc:"unsigned"`
}

func (s *sendSide) bumpfee(ctx context.Context, c *base.Call, a bumpArgs) (any, error) {
	if a.DecreasePayment {
		return nil, base.Errorf(spec.InvalidParams, "bumpfee: decrease_payment is not supported")
	}
	rate, err := feeRateKvB(a.NewFeeRate, "new_fee_rate")
	if err != nil {
		return nil, err
	}
	coins, err := parseCoins(a.FromCoins)
	if err != nil {
		return nil, err
	}
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	var tx *wire.MsgTx
	if t := strings.TrimSpace(a.Tx); len(t) == 64 {
		id, err := parseTxid(t)
		if err != nil {
			return nil, err
		}
		stored, _, found, err := s.d.engine.Transaction(ctx, id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, wallet.ErrTxNotFound
		}
		tx = stored
	} else {
		dtx, p, err := wallet.DecodeTransaction(a.Tx)
		if err != nil {
			return nil, err
		}
		if tx = dtx; p != nil {
			tx = p.UnsignedTx
		}
	}
	built, err := w.BumpFee(ctx, tx, rate, wallet.BumpOptions{FromCoins: coins, Unsigned: a.Unsigned || !w.CanSign()})
	if err != nil {
		return nil, err
	}
	return built.Serialize()
}

// wireHex serializes a transaction in hex.
func wireHex(tx *wire.MsgTx) (string, error) {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf.Bytes()), nil
}

// finalTx decodes a transaction that must be complete.
func finalTx(s string) (*wire.MsgTx, error) {
	tx, p, err := wallet.DecodeTransaction(s)
	if err != nil {
		return nil, err
	}
	return wallet.FinalTx(tx, p)
}

func (s *sendSide) addtransaction(ctx context.Context, c *base.Call, a txArg) (any, error) {
	tx, err := finalTx(a.Tx)
	if err != nil {
		return nil, err
	}
	if _, err := s.d.open(ctx, c); err != nil {
		return nil, err
	}
	if err := s.d.engine.AddTransaction(ctx, tx); err != nil {
		return nil, err
	}
	return tx.TxHash().String(), nil
}

func (s *sendSide) removelocaltx(ctx context.Context, c *base.Call, a txidArgs) (any, error) {
	id, err := parseTxid(a.TxID)
	if err != nil {
		return nil, err
	}
	if _, err := s.d.open(ctx, c); err != nil {
		return nil, err
	}
	return nil, s.d.engine.RemoveLocalTransaction(ctx, id)
}

func (s *sendSide) getUsedFee(ctx context.Context, c *base.Call, a txHashArgs) (any, error) {
	id, err := parseTxid(a.TxHash)
	if err != nil {
		return nil, err
	}
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	fee, err := w.TxFee(ctx, id)
	if err != nil {
		return nil, err
	}
	return wallet.FormatFixed(fee), nil
}

type signMessageArgs struct {
	Address  string  `rpc:"address,required"`
	Message  string  `rpc:"message,required"`
	Password *string `rpc:"password"`
}

func (s *sendSide) signmessage(ctx context.Context, c *base.Call, a signMessageArgs) (any, error) {
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if !w.CanSign() {
		return nil, wallet.ErrWatchOnly
	}
	return w.SignMessage(ctx, a.Address, a.Message)
}

type verifyMessageArgs struct {
	Address   string `rpc:"address,required"`
	Signature string `rpc:"signature,required"`
	Message   string `rpc:"message,required"`
}

func (s *sendSide) verifymessage(_ context.Context, _ *base.Call, a verifyMessageArgs) (any, error) {
	return wallet.VerifyMessage(s.d.net, a.Address, a.Signature, a.Message), nil
}

func (s *sendSide) broadcast(ctx context.Context, _ *base.Call, a txArg) (any, error) {
	tx, err := finalTx(a.Tx)
	if err != nil {
		return nil, err
	}
	if s.d.backend == nil {
		return nil, wallet.ErrNoBackend
	}
	id, err := s.d.backend.Broadcast(ctx, tx)
	if err != nil {
		if errors.Is(err, chain.ErrRejected) {
			// Bitcart's Electrum daemons answer a refused broadcast with an
			// uncataloged code, which the SDK raises as UnknownError with
			// the message: the node's reason reaches the caller. A
			// cataloged code would replace it with the catalog docstring.
			return nil, base.Errorf(spec.Internal, "The node rejected the transaction: %v", err)
		}
		return nil, err
	}
	// Show the spend at once (the node's notification follows): a payto
	// right after a broadcast must not pick the same coins.
	if err := s.d.engine.AddTransaction(ctx, tx); err != nil {
		s.d.log.Warn("recording a broadcast transaction", "txid", id, "err", err)
	}
	return id.String(), nil
}

type rawTxArgs struct {
	RawTx string `rpc:"raw_tx,required"`
}

func (s *sendSide) getTxSize(ctx context.Context, _ *base.Call, a rawTxArgs) (any, error) {
	tx, p, err := wallet.DecodeTransaction(a.RawTx)
	if err != nil {
		return nil, err
	}
	return s.d.engine.EstimateVSize(ctx, tx, p), nil
}

func (s *sendSide) getTxHash(_ context.Context, _ *base.Call, a rawTxArgs) (any, error) {
	tx, p, err := wallet.DecodeTransaction(a.RawTx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		if ftx, err := wallet.FinalTx(nil, p); err == nil {
			tx = ftx
		} else {
			tx = p.UnsignedTx
		}
	}
	return tx.TxHash().String(), nil
}

type defaultFeeArgs struct {
	Tx json.RawMessage `rpc:"tx,required"`
}

func (s *sendSide) getDefaultFee(ctx context.Context, _ *base.Call, a defaultFeeArgs) (any, error) {
	size, err := s.sizeOf(ctx, a.Tx)
	if err != nil {
		return nil, err
	}
	rate := s.defaultFeeRate(ctx, nil, nil)
	return wallet.FormatFixed(feeForSize(rate, size)), nil
}

// sizeOf reads get_default_fee's argument: a vsize (JSON integer, or a
// string of digits) or a raw transaction / PSBT.
func (s *sendSide) sizeOf(ctx context.Context, raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < 0 {
			return 0, base.Errorf(spec.InvalidParams, "invalid value for argument \"tx\": a size must be a non-negative integer")
		}
		return v, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return 0, base.Errorf(spec.InvalidParams, "invalid value for argument \"tx\": expected a transaction or a size")
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(str), 10, 64); err == nil && v >= 0 {
		return v, nil
	}
	tx, p, err := wallet.DecodeTransaction(str)
	if err != nil {
		return 0, err
	}
	return int64(s.d.engine.EstimateVSize(ctx, tx, p)), nil
}

// feeForSize is Electrum's estimate_fee_for_feerate: round(rate/1000 ×
// size), halves to even (Python's round).
func feeForSize(ratePerKvB, size int64) int64 {
	num := ratePerKvB * size
	q, r := num/1000, num%1000
	if r > 500 || r == 500 && q%2 == 1 {
		q++
	}
	return q
}

type recommendedFeeArgs struct {
	Target int `rpc:"target,required"`
}

func (s *sendSide) recommendedFee(ctx context.Context, _ *base.Call, a recommendedFeeArgs) (any, error) {
	if a.Target < 1 {
		return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"target\": must be at least 1 block")
	}
	rate, ok := s.estimate(ctx, a.Target)
	if !ok {
		return nil, nil
	}
	return rate, nil
}

// estimate asks the node for a fee rate (sat/kvB), capped as Electrum caps
// dynamic estimates; ok is false without a backend or an estimate.
func (s *sendSide) estimate(ctx context.Context, target int) (int64, bool) {
	if s.d.backend == nil {
		return 0, false
	}
	rate, ok, err := s.d.backend.EstimateFee(ctx, target)
	if err != nil {
		s.d.log.Debug("fee estimate", "target", target, "err", err)
		return 0, false
	}
	if !ok {
		return 0, false
	}
	return min(max(rate, wallet.MinRelayFeeRate), feeRateMaxDynamic), true
}

// defaultFeeRate is the rate payto uses without fee or feerate, in sat/kvB,
// following Electrum's config: with dynamic_fees (default) the node's
// estimate for the fee_level's ETA target (default level 2: 5 blocks),
// else — or when the node has no estimate — the static fee_per_kb.
// method ("static", "eta", "mempool") and level (0..1) override the config.
func (s *sendSide) defaultFeeRate(ctx context.Context, method *string, level *float64) int64 {
	static := s.conf.integer("fee_per_kb", feeRateFallback)
	dynamic := s.conf.boolean("dynamic_fees", true)
	if method != nil {
		dynamic = *method != "static"
	}
	if !dynamic {
		return static
	}
	pos := s.conf.integer("fee_level", 2)
	if level != nil {
		pos = int64(*level*float64(len(etaTargets)-1) + 0.5)
	}
	pos = min(max(pos, 0), int64(len(etaTargets)-1))
	if rate, ok := s.estimate(ctx, etaTargets[pos]); ok {
		return rate
	}
	return static
}

type feeRateArgs struct {
	FeeMethod *string  `rpc:"fee_method"`
	FeeLevel  *float64 `rpc:"fee_level"`
}

func (s *sendSide) getfeerate(ctx context.Context, _ *base.Call, a feeRateArgs) (any, error) {
	if a.FeeMethod != nil {
		switch *a.FeeMethod {
		case "static", "eta", "mempool":
		default:
			return nil, base.Errorf(spec.InvalidParams, "invalid fee_method %q: static, eta or mempool", *a.FeeMethod)
		}
	}
	if a.FeeLevel != nil && (*a.FeeLevel < 0 || *a.FeeLevel > 1) {
		return nil, base.Errorf(spec.InvalidParams, "fee_level must be between 0 and 1")
	}
	return s.defaultFeeRate(ctx, a.FeeMethod, a.FeeLevel), nil
}

type makeSeedArgs struct {
	NBits    int    `rpc:"nbits" default:"132"`
	Language string `rpc:"language" default:"\"english\""`
	SeedType string `rpc:"seed_type" default:"\"segwit\""`
}

func (s *sendSide) makeSeed(ctx context.Context, _ *base.Call, a makeSeedArgs) (any, error) {
	if l := strings.ToLower(a.Language); l != "english" && l != "en" && l != "" {
		return nil, base.Errorf(spec.InvalidParams, "make_seed: only the english word list is available")
	}
	seed, err := keys.MakeSeed(ctx, a.SeedType, a.NBits)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "make_seed: %v", err)
	}
	return seed, nil
}

// electrumConfig is the daemon's in-memory configuration: Electrum's keys
// that clients read or set, a few of which steer fees and coin selection.
type electrumConfig struct {
	mu   sync.Mutex
	vals map[string]json.RawMessage
}

// configDefaults are the known keys and their defaults (Electrum's, and
// Bitcart's "lightning" flag, which the SDK reads).
var configDefaults = map[string]string{
	"lightning":                    "false",
	"lightning_listen":             `""`,
	"use_gossip":                   "false",
	"dynamic_fees":                 "true",
	"mempool_fees":                 "false",
	"fee_level":                    "2",
	"depth_level":                  "2",
	"fee_per_kb":                   strconv.Itoa(feeRateFallback),
	"use_rbf":                      "true",
	"batch_rbf":                    "false",
	"confirmed_only":               "false",
	"use_change":                   "true",
	"multiple_change":              "false",
	"coin_chooser":                 `"Privacy"`,
	"coin_chooser_output_rounding": "true",
	"decimal_point":                "8",
	"num_zeros":                    "0",
	"currency":                     `"USD"`,
	"use_exchange_rate":            "false",
	"request_expiry":               "86400",
	"gap_limit":                    "20",
}

// configKinds lists keys whose value steers walletd and must have a type.
var configKinds = map[string]string{
	"dynamic_fees": "bool", "mempool_fees": "bool", "use_rbf": "bool", "confirmed_only": "bool",
	"use_change": "bool", "lightning": "bool", "fee_level": "int", "fee_per_kb": "int",
}

func newElectrumConfig() *electrumConfig {
	c := &electrumConfig{vals: map[string]json.RawMessage{}}
	for k, v := range configDefaults {
		c.vals[k] = json.RawMessage(v)
	}
	return c
}

func (c *electrumConfig) get(key string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.vals[key]
	return v, ok
}

func (c *electrumConfig) boolean(key string, def bool) bool {
	v, ok := c.get(key)
	var b bool
	if !ok || json.Unmarshal(v, &b) != nil {
		return def
	}
	return b
}

func (c *electrumConfig) integer(key string, def int64) int64 {
	v, ok := c.get(key)
	var f float64
	if !ok || json.Unmarshal(v, &f) != nil {
		return def
	}
	return int64(f)
}

type configKeyArgs struct {
	Key string `rpc:"key,required"`
}

func noConfigKey(key string) error {
	return base.Errorf(spec.NoConfigKey, "No such config key: %q", key)
}

func (s *sendSide) getconfig(_ context.Context, _ *base.Call, a configKeyArgs) (any, error) {
	v, ok := s.conf.get(a.Key)
	if !ok {
		return nil, noConfigKey(a.Key)
	}
	return v, nil
}

type setConfigArgs struct {
	Key   string          `rpc:"key,required"`
	Value json.RawMessage `rpc:"value"`
}

func (s *sendSide) setconfig(_ context.Context, _ *base.Call, a setConfigArgs) (any, error) {
	if _, ok := s.conf.get(a.Key); !ok {
		return nil, noConfigKey(a.Key)
	}
	v := a.Value
	if v == nil {
		v = json.RawMessage("null")
	}
	// Electrum json-decodes a string value ("5" → 5, "true" → true).
	var str string
	if json.Unmarshal(v, &str) == nil && json.Valid([]byte(str)) {
		v = json.RawMessage(str)
	}
	switch configKinds[a.Key] {
	case "bool":
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return nil, base.Errorf(spec.InvalidParams, "config key %q takes a boolean", a.Key)
		}
	case "int":
		var f float64
		if json.Unmarshal(v, &f) != nil || f < 0 {
			return nil, base.Errorf(spec.InvalidParams, "config key %q takes a non-negative number", a.Key)
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		return nil, base.Errorf(spec.InvalidParams, "invalid config value")
	}
	s.conf.mu.Lock()
	s.conf.vals[a.Key] = json.RawMessage(compact.Bytes())
	s.conf.mu.Unlock()
	return true, nil
}

type paymentURLArgs struct {
	URL          string          `rpc:"url,required"`
	Amount       json.RawMessage `rpc:"amount,required"`
	Divisibility *int            `rpc:"divisibility"`
}

// modifypaymenturl is Bitcart's modify_payment_url("amount", url, amount):
// the query is re-encoded like Python's urlencode(parse_qsl(query)) with
// amount set (added last when absent); a zero amount leaves url unchanged.
func (s *sendSide) modifypaymenturl(_ context.Context, _ *base.Call, a paymentURLArgs) (any, error) {
	var text string
	if err := json.Unmarshal(a.Amount, &text); err != nil {
		text = strings.TrimSpace(string(a.Amount))
	}
	amt, err := wallet.ParseAmount(text)
	if err != nil || amt.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid amount %q", text)
	}
	if amt.Sats == 0 {
		return a.URL, nil
	}
	noFrag, frag, hasFrag := strings.Cut(a.URL, "#")
	head, query, _ := strings.Cut(noFrag, "?")
	var parts []string
	found := false
	for _, kv := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if k == "amount" {
			if found {
				continue
			}
			found, v = true, text
		}
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	if !found {
		parts = append(parts, "amount="+url.QueryEscape(text))
	}
	out := head + "?" + strings.Join(parts, "&")
	if hasFrag {
		out += "#" + frag
	}
	return out, nil
}

func (s *sendSide) normalizeaddress(_ context.Context, _ *base.Call, a addressArgs) (any, error) {
	return a.Address, nil
}

func (s *sendSide) validatecontract(context.Context, *base.Call, addressArgs) (any, error) {
	return false, nil
}

func (s *sendSide) getTokens(context.Context, *base.Call, base.NoArgs) (any, error) {
	return map[string]any{}, nil
}

func (s *sendSide) getabi(context.Context, *base.Call, base.NoArgs) (any, error) {
	return []any{}, nil
}
