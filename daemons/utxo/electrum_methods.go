package utxo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/btcutil/v2/txsort"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// electrumMethods declares the Electrum 4.6 and Bitcart commands beyond the
// merchant's set that make sense for a daemon whose secrets arrive with each
// call (audit §2.3). Commands that would keep or write a secret, reach a
// third party, or stop the daemon are not served (-32601), and lightning
// ones answer -32011.
func (d *Daemon) electrumMethods(b *base.Builder) {
	w := base.NeedsWallet()
	add := b.Add
	add(base.NewMethod("gettransaction", "gettransaction(txid): the raw transaction in hex, from the wallet's records or the node.", d.gettransaction))
	add(base.NewMethod("create", "create(passphrase, password, encrypt_file, seed_type, wallet_path): a new Electrum seed (segwit unless seed_type says standard) as {seed, path, msg}. walletd writes nothing: the seed exists only in this reply, and every call that signs must carry it (or its xprv) as the xpub argument; path is wallet_path as given (no file is made).", d.create))
	add(base.NewMethod("restore", "restore(text, passphrase, password, encrypt_file, wallet_path): starts tracking the wallet of text (a seed, a master key, addresses or WIF keys) by its public keys and backfills its history; {path, msg}. No secret is written: calls that sign must carry the seed or keys again as the xpub argument.", d.restore))
	add(base.NewMethod("list_wallets", "list_wallets(): the wallets whose keys are in memory, as [{path, synchronized, unlocked}] where path is the master public key (or the fingerprint of an imported wallet): walletd has no wallet files.", d.listWallets))
	add(base.NewMethod("load_wallet", "load_wallet(wallet_path, password): loads the wallet named by the xpub argument (walletd has no wallet files); returns wallet_path, or the wallet's master public key.", d.loadWallet))
	add(base.NewMethod("version_info", "version_info(): the Electrum API version served and walletd's own version and build.", d.versionInfo))
	add(base.NewMethod("convert_xkey", "convert_xkey(xkey, xtype): the extended key with another script type's version bytes (xtype: standard, p2wpkh-p2sh, p2wpkh, p2wsh-p2sh, p2wsh).", d.convertXkey))
	add(base.NewMethod("serialize", "serialize(jsontx): a transaction built from Electrum's JSON template {inputs: [{prevout_hash, prevout_n, value_sats, privkey?, nsequence?}], outputs: [{address, value_sats}], locktime?}, BIP69-sorted and signed with the private keys it carries: raw hex when complete, else an unsigned PSBT in base64.", d.serialize))
	add(base.NewMethod("deserialize", "deserialize(tx): a raw transaction (hex) or PSBT decoded as Electrum's to_json.", d.deserialize))
	add(base.NewMethod("getfingerprint", "getfingerprint(xpub): the root BIP32 fingerprint of an extended key of depth 0 or 1 (hex), else null (Bitcart's).", d.getfingerprint))
	add(base.NewMethod("dumpprivkeys", "dumpprivkeys(): deprecated in Electrum; says what to use instead.", d.dumpprivkeys))
	add(base.NewMethod("decode_invoice", "decode_invoice(invoice): decodes a lightning invoice."+lnHelpText, lnUnsupported[lnDecodeArgs]))

	add(base.NewMethod("getaddressbalance_wallet", "getaddressbalance_wallet(address): {confirmed, unconfirmed, unmatured} of one of the wallet's addresses, 8-decimal strings (Bitcart's); zero for an address that is not the wallet's.", d.getaddressbalanceWallet, w))
	add(base.NewMethod("finalizepsbt", "finalizepsbt(psbt): the raw transaction (hex) of a fully signed PSBT (Bitcart's).", d.finalizepsbt, w))
	add(base.NewMethod("freeze", "freeze(address): freezes one of the wallet's addresses: payto and bumpfee never spend its coins; false if the address is not the wallet's.", d.freeze, w))
	add(base.NewMethod("unfreeze", "unfreeze(address): unfreezes an address; false if it is not the wallet's.", d.unfreeze, w))
	add(base.NewMethod("freeze_utxo", "freeze_utxo(coin): freezes a coin (txid:n): payto and bumpfee never spend it; true.", d.freezeUTXO, w))
	add(base.NewMethod("unfreeze_utxo", "unfreeze_utxo(coin): unfreezes a coin (txid:n); true.", d.unfreezeUTXO, w))
	add(base.NewMethod("setlabel", "setlabel(key, label): labels an address or a txid of the wallet (an empty label removes it); onchain_history and listaddresses show labels. null.", d.setlabel, w))
	add(base.NewMethod("changegaplimit", "changegaplimit(new_limit, iknowwhatimdoing): changes the wallet's receiving gap limit (1..10000); a larger one derives, watches and backfills more addresses; false below getminacceptablegap. Needs iknowwhatimdoing=true.", d.changegaplimit, w))
	add(base.NewMethod("getminacceptablegap", "getminacceptablegap(): the smallest gap limit that still finds every used receiving address.", d.getminacceptablegap, w))
	add(base.NewMethod("is_synchronized", "is_synchronized(): whether the wallet is up to date with the node.", d.isSynchronized, w))
	add(base.NewMethod("wait_for_sync", "wait_for_sync(): waits until the wallet is up to date (bounded by <COIN>_SYNC_TIMEOUT); true.", d.waitForSync, w))
	add(base.NewMethod("getprivatekeys", "getprivatekeys(address, password): the private key (Electrum's type:WIF form) of one address of the wallet, or of each of a list; only for a call whose own xpub argument holds private keys.", d.getprivatekeys, w))
	add(base.NewMethod("getprivatekeyforpath", "getprivatekeyforpath(path, password): the private key (type:WIF) at path m/<change>/<index> (or [change, index]) of the call's own seed or master private key.", d.getprivatekeyforpath, w))
	add(base.NewMethod("getseed", "getseed(password): the seed words, when the call's own xpub argument is a seed.", d.getseed, w))
	add(base.NewMethod("getmasterprivate", "getmasterprivate(password): the master private key of the call's own seed or master private key.", d.getmasterprivate, w))
	add(base.NewMethod("get_invoice", "get_invoice(key): a payment request by id as export_request shows it (Bitcart's get_invoice, which the merchant calls for lightning invoices); InvoiceNotFoundError (-32012) when unknown.", d.getInvoice, w))
	add(base.NewMethod("list_invoices", "list_invoices(pending, expired, paid): outgoing invoices; walletd keeps none: [].", d.listInvoices, w))
	add(base.NewMethod("delete_invoice", "delete_invoice(invoice_id): removes an outgoing invoice; walletd keeps none: null.", d.deleteInvoice, w))
	add(base.NewMethod("clear_invoices", "clear_invoices(): removes every outgoing invoice; walletd keeps none: true.", d.clearInvoices, w))
}

// lnHelpText ends the help of lightning methods.
const lnHelpText = " Lightning is not available in walletd yet: always fails with LightningUnsupportedError (-32011)."

type lnDecodeArgs struct {
	Invoice json.RawMessage `rpc:"invoice"`
}

func (d *Daemon) gettransaction(ctx context.Context, _ *base.Call, a txidArgs) (any, error) {
	id, err := parseTxid(a.TxID)
	if err != nil {
		return nil, err
	}
	tx, _, found, err := d.engine.Transaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if !found {
		if d.backend == nil {
			return nil, wallet.ErrNoBackend
		}
		info, err := d.backend.Transaction(ctx, id)
		if err != nil {
			return nil, err
		}
		tx = info.Tx
	}
	return wireHex(tx)
}

type createArgs struct {
	Passphrase  *string `rpc:"passphrase"`
	Password    *string `rpc:"password"`
	EncryptFile *bool   `rpc:"encrypt_file"`
	SeedType    string  `rpc:"seed_type" default:"\"segwit\""`
	WalletPath  *string `rpc:"wallet_path"`
}

// errNoPassphrase refuses seed extensions, which walletd's key material
// does not take.
var errNoPassphrase = base.Errorf(spec.InvalidParams, "seed extensions (passphrase) are not supported")

// create is Electrum's create without the wallet file: the seed comes back
// and nothing is written or tracked.
func (d *Daemon) create(ctx context.Context, _ *base.Call, a createArgs) (any, error) {
	if a.Passphrase != nil && *a.Passphrase != "" {
		return nil, errNoPassphrase
	}
	seed, err := keys.MakeSeed(ctx, a.SeedType, 132)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "create: %v", err)
	}
	return map[string]any{"seed": seed, "path": a.WalletPath, "msg": createMsg}, nil
}

// createMsg is create's msg: where the seed is (only in the reply).
const createMsg = "Please keep your seed in a safe place; if you lose it, you will not be able to restore your wallet. " +
	"walletd wrote nothing: this reply is the only copy of the seed. Pass the seed (or its master public key, from getmpk) as the xpub argument to use the wallet; calls that sign need the seed each time."

type restoreArgs struct {
	Text        string  `rpc:"text,required"`
	Passphrase  *string `rpc:"passphrase"`
	Password    *string `rpc:"password"`
	EncryptFile *bool   `rpc:"encrypt_file"`
	WalletPath  *string `rpc:"wallet_path"`
}

// restore tracks the wallet of text by its public keys.
func (d *Daemon) restore(ctx context.Context, _ *base.Call, a restoreArgs) (any, error) {
	if a.Passphrase != nil && *a.Passphrase != "" {
		return nil, errNoPassphrase
	}
	w, err := d.engine.OpenWith(ctx, a.Text, wallet.OpenOptions{})
	if err != nil {
		return nil, err
	}
	msg := "walletd tracks this wallet by its public keys and has fetched its history; it wrote no secret. "
	if w.CanSign() {
		msg += "The seed or private keys stay with you: calls that sign must carry them as the xpub argument."
	} else {
		msg += "It is watch-only: payto returns unsigned PSBTs."
	}
	return map[string]any{"path": a.WalletPath, "msg": msg}, nil
}

// walletListing is one list_wallets entry.
type walletListing struct {
	Path         string `json:"path"`
	Synchronized bool   `json:"synchronized"`
	Unlocked     bool   `json:"unlocked"`
}

func (d *Daemon) listWallets(context.Context, *base.Call, base.NoArgs) (any, error) {
	out := []walletListing{}
	synced := d.engine.Synced()
	for _, l := range d.engine.Loaded() {
		p := l.MPK
		if p == "" {
			p = l.ID
		}
		out = append(out, walletListing{Path: p, Synchronized: synced, Unlocked: true})
	}
	return out, nil
}

type loadWalletArgs struct {
	WalletPath *string `rpc:"wallet_path"`
	Password   *string `rpc:"password"`
}

func (d *Daemon) loadWallet(ctx context.Context, c *base.Call, a loadWalletArgs) (any, error) {
	if c.Wallet.Empty() {
		return nil, base.Errorf(spec.WalletNotLoaded, "Wallet not loaded: walletd has no wallet files; name the wallet with the xpub argument")
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if a.WalletPath != nil {
		return *a.WalletPath, nil
	}
	if m := w.MPK(); m != "" {
		return m, nil
	}
	return w.ID, nil
}

func (d *Daemon) versionInfo(context.Context, *base.Call, base.NoArgs) (any, error) {
	return map[string]string{"electrum.version": ElectrumVersion, "walletd.version": d.cfg.Version,
		"go.version": runtime.Version()}, nil
}

// decodeXkey decodes an extended key of this network: its version's script
// type and privateness, and the 78-byte payload.
func (d *Daemon) decodeXkey(s string) (payload []byte, t params.ScriptType, private bool, ok bool) {
	raw := base58.Decode(strings.TrimSpace(s))
	if len(raw) != 82 {
		return nil, 0, false, false
	}
	sum := sha256.Sum256(raw[:78])
	sum = sha256.Sum256(sum[:])
	if !bytes.Equal(sum[:4], raw[78:]) {
		return nil, 0, false, false
	}
	var v [4]byte
	copy(v[:], raw[:4])
	t, private, ok = d.net.LookupHDVersion(v)
	return raw[:78], t, private, ok
}

func base58CheckEncode(payload []byte) string {
	sum := sha256.Sum256(payload)
	sum = sha256.Sum256(sum[:])
	return base58.Encode(append(append([]byte(nil), payload...), sum[:4]...))
}

type convertXkeyArgs struct {
	Xkey  string `rpc:"xkey,required"`
	Xtype string `rpc:"xtype,required"`
}

func (d *Daemon) convertXkey(_ context.Context, _ *base.Call, a convertXkeyArgs) (any, error) {
	payload, _, private, ok := d.decodeXkey(a.Xkey)
	if !ok {
		return nil, base.Errorf(spec.InvalidParams, "xkey should be a master public/private key")
	}
	t, err := params.ParseScriptType(a.Xtype)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "unknown xtype %q (standard, p2wpkh-p2sh, p2wpkh, p2wsh-p2sh, p2wsh)", shorten(a.Xtype))
	}
	hd, ok := d.net.HDVersionFor(t)
	if !ok {
		return nil, base.Errorf(spec.InvalidParams, "%s has no %s extended keys", d.net, t)
	}
	out := append([]byte(nil), payload...)
	if private {
		copy(out, hd.Private[:])
	} else {
		copy(out, hd.Public[:])
	}
	return base58CheckEncode(out), nil
}

type xpubArgs struct {
	Xpub string `rpc:"xpub,required"`
}

// getfingerprint is Bitcart's: the root fingerprint of a depth-0 key (its
// own) or a depth-1 key (its parent's), else null.
func (d *Daemon) getfingerprint(_ context.Context, _ *base.Call, a xpubArgs) (any, error) {
	payload, _, private, ok := d.decodeXkey(a.Xpub)
	if !ok {
		return nil, base.Errorf(spec.InvalidParams, "xpub should be an extended public or private key of this network")
	}
	switch payload[4] {
	case 0:
		pub := payload[45:78]
		if private {
			k, _ := btcec.PrivKeyFromBytes(payload[46:78])
			pub = k.PubKey().SerializeCompressed()
		}
		return hex.EncodeToString(address.Hash160(pub)[:4]), nil
	case 1:
		return hex.EncodeToString(payload[5:9]), nil
	}
	return nil, nil
}

func (d *Daemon) dumpprivkeys(context.Context, *base.Call, base.NoArgs) (any, error) {
	return "This command is deprecated. Use a pipe instead: 'electrum listaddresses | electrum getprivatekeys - '", nil
}

type jsonTxArgs struct {
	JSONTx json.RawMessage `rpc:"jsontx,required"`
}

// jsonTxTemplate is Electrum's serialize template.
type jsonTxTemplate struct {
	Inputs []struct {
		PrevoutHash *string      `json:"prevout_hash"`
		PrevoutN    *json.Number `json:"prevout_n"`
		Output      string       `json:"output"`
		Value       *json.Number `json:"value"`
		ValueSats   *json.Number `json:"value_sats"`
		NSequence   *json.Number `json:"nsequence"`
		Privkey     string       `json:"privkey"`
	} `json:"inputs"`
	Outputs []struct {
		Address   string       `json:"address"`
		Value     *json.Number `json:"value"`
		ValueSats *json.Number `json:"value_sats"`
	} `json:"outputs"`
	LockTime *json.Number `json:"locktime"`
}

// intIn parses a JSON integer within [lo, hi].
func intIn(n *json.Number, lo, hi int64, what string) (int64, error) {
	v, err := strconv.ParseInt(strings.Trim(n.String(), `"`), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, base.Errorf(spec.InvalidParams, "serialize: %s must be an integer from %d to %d", what, lo, hi)
	}
	return v, nil
}

// signingKey is a private key from Electrum's "type:WIF" form (plain WIF
// is p2pkh).
type signingKey struct {
	key        *btcec.PrivateKey
	compressed bool
	st         params.ScriptType
}

func (d *Daemon) parsePrivkey(s string) (*signingKey, error) {
	st := params.P2PKH
	if typ, wif, ok := strings.Cut(strings.TrimSpace(s), ":"); ok {
		t, err := params.ParseScriptType(typ)
		if err != nil || !t.SingleKey() {
			return nil, base.Errorf(spec.InvalidParams, "serialize: unsupported private key type")
		}
		st, s = t, wif
	}
	w, err := btcutil.DecodeWIF(strings.TrimSpace(s))
	if err != nil || !w.IsForNet(d.net.Chain) {
		return nil, base.Errorf(spec.InvalidParams, "serialize: a private key is not a WIF key of this network")
	}
	return &signingKey{key: w.PrivKey, compressed: w.CompressPubKey, st: st}, nil
}

// serialize is Electrum's serialize: build, BIP69-sort and sign a
// transaction from a JSON template.
func (d *Daemon) serialize(_ context.Context, _ *base.Call, a jsonTxArgs) (any, error) {
	raw := a.JSONTx
	var inner string
	if json.Unmarshal(raw, &inner) == nil {
		raw = json.RawMessage(inner)
	}
	var tpl jsonTxTemplate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tpl); err != nil {
		return nil, base.Errorf(spec.InvalidParams, "serialize: jsontx must be a JSON object with inputs and outputs")
	}
	if len(tpl.Inputs) == 0 || len(tpl.Outputs) == 0 || len(tpl.Inputs) > maxLookupInputs || len(tpl.Outputs) > maxLookupInputs {
		return nil, base.Errorf(spec.InvalidParams, "serialize: 1 to %d inputs and outputs", maxLookupInputs)
	}
	tx := wire.NewMsgTx(2)
	type inInfo struct {
		prev *wire.TxOut
		key  *signingKey
	}
	infos := map[wire.OutPoint]inInfo{}
	for i, in := range tpl.Inputs {
		var op wire.OutPoint
		switch {
		case in.PrevoutHash != nil && in.PrevoutN != nil:
			h, err := parseTxid(*in.PrevoutHash)
			if err != nil {
				return nil, err
			}
			n, err := intIn(in.PrevoutN, 0, 1<<32-1, "prevout_n")
			if err != nil {
				return nil, err
			}
			op = wire.OutPoint{Hash: h, Index: uint32(n)}
		case in.Output != "":
			ops, err := parseCoins(strList{in.Output})
			if err != nil {
				return nil, err
			}
			op = ops[0]
		default:
			return nil, base.Errorf(spec.InvalidParams, "missing prevout for txin %d", i)
		}
		v := in.Value
		if v == nil || v.String() == "0" {
			v = in.ValueSats
		}
		if v == nil {
			return nil, base.Errorf(spec.InvalidParams, "missing 'value_sats' field for txin %d", i)
		}
		value, err := intIn(v, 0, 21e14, "value_sats")
		if err != nil {
			return nil, err
		}
		txin := wire.NewTxIn(&op, nil, nil)
		txin.Sequence = wallet.SequenceNoRBF
		if in.NSequence != nil {
			seq, err := intIn(in.NSequence, 0, 1<<32-1, "nsequence")
			if err != nil {
				return nil, err
			}
			txin.Sequence = uint32(seq)
		}
		info := inInfo{prev: wire.NewTxOut(value, nil)}
		if in.Privkey != "" {
			k, err := d.parsePrivkey(in.Privkey)
			if err != nil {
				return nil, err
			}
			pub := k.key.PubKey().SerializeUncompressed()
			if k.compressed {
				pub = k.key.PubKey().SerializeCompressed()
			}
			_, script, err := d.net.PubKeyAddress(k.st, pub)
			if err != nil {
				return nil, base.Errorf(spec.InvalidParams, "serialize: %v", err)
			}
			info.prev.PkScript, info.key = script, k
		}
		infos[op] = info
		tx.AddTxIn(txin)
	}
	for i, o := range tpl.Outputs {
		if o.Address == "" {
			return nil, base.Errorf(spec.InvalidParams, "missing 'address' field for txout %d", i)
		}
		v := o.Value
		if v == nil || v.String() == "0" {
			v = o.ValueSats
		}
		if v == nil {
			return nil, base.Errorf(spec.InvalidParams, "missing 'value_sats' field for txout %d", i)
		}
		value, err := intIn(v, 0, 21e14, "value_sats")
		if err != nil {
			return nil, err
		}
		script, err := d.net.PkScript(o.Address)
		if err != nil {
			return nil, err
		}
		tx.AddTxOut(wire.NewTxOut(value, script))
	}
	if tpl.LockTime != nil {
		lt, err := intIn(tpl.LockTime, 0, 1<<32-1, "locktime")
		if err != nil {
			return nil, err
		}
		tx.LockTime = uint32(lt)
	}
	txsort.InPlaceSort(tx)
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	complete := true
	for _, in := range tx.TxIn {
		info := infos[in.PreviousOutPoint]
		fetcher.AddPrevOut(in.PreviousOutPoint, info.prev)
		complete = complete && info.key != nil
	}
	if !complete {
		p, err := psbt.NewFromUnsignedTx(tx)
		if err != nil {
			return nil, base.Errorf(spec.InvalidParams, "serialize: %v", err)
		}
		for i, in := range tx.TxIn {
			if info := infos[in.PreviousOutPoint]; info.key != nil && info.key.st.Segwit() {
				p.Inputs[i].WitnessUtxo = info.prev
			}
		}
		return p.B64Encode()
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		info := infos[in.PreviousOutPoint]
		if err := signTemplateInput(tx, i, info.prev, info.key, hashes); err != nil {
			return nil, base.Errorf(spec.InvalidParams, "serialize: signing input %d: %v", i, err)
		}
	}
	return wireHex(tx)
}

// signTemplateInput signs input i of a serialize template with its key.
func signTemplateInput(tx *wire.MsgTx, i int, prev *wire.TxOut, k *signingKey, hashes *txscript.TxSigHashes) error {
	switch k.st {
	case params.P2PKH:
		sig, err := txscript.SignatureScript(tx, i, prev.PkScript, txscript.SigHashAll, k.key, k.compressed)
		tx.TxIn[i].SignatureScript = sig
		return err
	case params.P2WPKH:
		wit, err := txscript.WitnessSignature(tx, hashes, i, prev.Value, prev.PkScript, txscript.SigHashAll, k.key, true)
		tx.TxIn[i].Witness = wit
		return err
	case params.P2WPKHP2SH:
		program := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, address.Hash160(k.key.PubKey().SerializeCompressed())...)
		wit, err := txscript.WitnessSignature(tx, hashes, i, prev.Value, program, txscript.SigHashAll, k.key, true)
		if err != nil {
			return err
		}
		sigScript, err := txscript.NewScriptBuilder().AddData(program).Script()
		tx.TxIn[i].Witness, tx.TxIn[i].SignatureScript = wit, sigScript
		return err
	}
	return errors.New("unsupported script type")
}

type deserializeArgs struct {
	Tx string `rpc:"tx,required"`
}

func (d *Daemon) deserialize(_ context.Context, _ *base.Call, a deserializeArgs) (any, error) {
	tx, p, err := wallet.DecodeTransaction(a.Tx)
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
	return toTxJSON(tx, d.net), nil
}

func (d *Daemon) getaddressbalanceWallet(ctx context.Context, c *base.Call, a addressArgs) (any, error) {
	script, err := d.net.PkScript(a.Address)
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return nil, err
	}
	tip := d.engine.Height()
	var b wallet.Balance
	for _, u := range utxos {
		if !bytes.Equal(u.PkScript, script) {
			continue
		}
		switch {
		case u.Coinbase && u.Height > 0 && u.Height+wallet.CoinbaseMaturity > tip+1:
			if u.SpentBy == "" {
				b.Unmatured += u.Value
			}
		case u.Height <= 0:
			if u.SpentBy == "" {
				b.Unconfirmed += u.Value
			}
		default:
			b.Confirmed += u.Value
			if u.SpentBy != "" {
				b.Unconfirmed -= u.Value
			}
		}
	}
	return map[string]string{"confirmed": FormatFixed(b.Confirmed), "unconfirmed": FormatFixed(b.Unconfirmed),
		"unmatured": FormatFixed(b.Unmatured)}, nil
}

type psbtArgs struct {
	PSBT string `rpc:"psbt,required"`
}

func (d *Daemon) finalizepsbt(ctx context.Context, c *base.Call, a psbtArgs) (any, error) {
	if _, err := d.open(ctx, c); err != nil {
		return nil, err
	}
	tx, err := finalTx(a.PSBT)
	if err != nil {
		return nil, err
	}
	return wireHex(tx)
}

type freezeArgs struct {
	Address string `rpc:"address,required"`
}

func (d *Daemon) setAddressFrozen(ctx context.Context, c *base.Call, addr string, frozen bool) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.SetAddressesFrozen(ctx, []string{addr}, frozen)
}

func (d *Daemon) freeze(ctx context.Context, c *base.Call, a freezeArgs) (any, error) {
	return d.setAddressFrozen(ctx, c, a.Address, true)
}

func (d *Daemon) unfreeze(ctx context.Context, c *base.Call, a freezeArgs) (any, error) {
	return d.setAddressFrozen(ctx, c, a.Address, false)
}

type coinArgs struct {
	Coin string `rpc:"coin,required"`
}

func (d *Daemon) setCoinFrozen(ctx context.Context, c *base.Call, coin string, frozen bool) (any, error) {
	ops, err := parseCoins(strList{coin})
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return true, w.SetCoinsFrozen(ctx, ops, frozen)
}

func (d *Daemon) freezeUTXO(ctx context.Context, c *base.Call, a coinArgs) (any, error) {
	return d.setCoinFrozen(ctx, c, a.Coin, true)
}

func (d *Daemon) unfreezeUTXO(ctx context.Context, c *base.Call, a coinArgs) (any, error) {
	return d.setCoinFrozen(ctx, c, a.Coin, false)
}

type setLabelArgs struct {
	Key   string `rpc:"key,required"`
	Label string `rpc:"label"`
}

func (d *Daemon) setlabel(ctx context.Context, c *base.Call, a setLabelArgs) (any, error) {
	if !d.net.ValidAddress(a.Key) {
		if _, err := chainhash.NewHashFromStr(a.Key); err != nil || len(a.Key) != 64 {
			return nil, base.Errorf(spec.InvalidParams, "a label's key is an address or a txid")
		}
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	_, err = w.SetLabel(ctx, a.Key, a.Label)
	return nil, err
}

type gapLimitArgs struct {
	NewLimit         int64 `rpc:"new_limit,required"`
	IKnowWhatImDoing bool  `rpc:"iknowwhatimdoing"`
}

func (d *Daemon) changegaplimit(ctx context.Context, c *base.Call, a gapLimitArgs) (any, error) {
	if !a.IKnowWhatImDoing {
		return nil, base.Errorf(spec.InvalidParams, "WARNING: Are you SURE you want to change the gap limit? "+
			"It makes recovering your wallet from seed difficult! Please do your research and make sure you understand the implications. "+
			"Typically only merchants and power users might want to do this. To proceed, try again, with the iknowwhatimdoing option.")
	}
	if a.NewLimit < 1 || a.NewLimit > wallet.MaxGapLimit {
		return nil, wallet.ErrGapLimitRange
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.SetGapLimit(ctx, uint32(a.NewLimit))
}

func (d *Daemon) getminacceptablegap(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if !d.engine.Synced() {
		return nil, wallet.ErrNotSynced
	}
	return w.MinAcceptableGap(ctx)
}

func (d *Daemon) isSynchronized(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	if _, err := d.open(ctx, c); err != nil && !errors.Is(err, wallet.ErrNotSynced) {
		return nil, err
	}
	return d.engine.Synced(), nil
}

func (d *Daemon) waitForSync(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	if _, err := d.open(ctx, c); err != nil {
		return nil, err
	}
	return true, nil
}

// exportKey renders a private key as Electrum's serialize_privkey:
// "<txin_type>:<WIF>".
func (d *Daemon) exportKey(k *btcec.PrivateKey, st params.ScriptType, compressed bool) (string, error) {
	wif, err := btcutil.NewWIF(k, d.net.Chain, compressed)
	if err != nil {
		return "", err
	}
	if d.coin.Flavor == ElectronCash {
		return wif.String(), nil // serialize_privkey(…, 'p2pkh'): no type prefix
	}
	return st.String() + ":" + wif.String(), nil
}

type privateKeysArgs struct {
	Address  json.RawMessage `rpc:"address,required"`
	Password *string         `rpc:"password"`
}

// signingWallet opens the call's wallet and requires that the call's own
// key string holds private keys.
func (d *Daemon) signingWallet(ctx context.Context, c *base.Call) (*wallet.Wallet, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	if !w.CanSign() {
		return nil, wallet.ErrWatchOnly
	}
	return w, nil
}

func (d *Daemon) getprivatekeys(ctx context.Context, c *base.Call, a privateKeysArgs) (any, error) {
	var one string
	var many []string
	if json.Unmarshal(a.Address, &one) != nil {
		if err := json.Unmarshal(a.Address, &many); err != nil || len(many) > maxLookupInputs {
			return nil, base.Errorf(spec.InvalidParams, "address must be an address or a list of at most %d", maxLookupInputs)
		}
	}
	w, err := d.signingWallet(ctx, c)
	if err != nil {
		return nil, err
	}
	export := func(addr string) (string, error) {
		k, err := w.PrivateKey(ctx, strings.TrimSpace(addr))
		if err != nil {
			return "", err
		}
		defer k.Key.Zero()
		return d.exportKey(k.Key, k.ScriptType, k.Compressed)
	}
	if many == nil {
		return export(one)
	}
	out := make([]string, len(many))
	for i, addr := range many {
		if out[i], err = export(addr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type keyPathArgs struct {
	Path     json.RawMessage `rpc:"path,required"`
	Password *string         `rpc:"password"`
}

// parseKeyPath reads m/<change>/<index> or [change, index].
func parseKeyPath(raw json.RawMessage) (change bool, index uint32, err error) {
	bad := base.Errorf(spec.InvalidParams, "path must be m/<0 or 1>/<index> or [change, index]")
	var parts []string
	var s string
	var list []json.Number
	switch {
	case json.Unmarshal(raw, &s) == nil:
		parts = strings.Split(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "m"), "/"), "/")
	case json.Unmarshal(raw, &list) == nil:
		for _, n := range list {
			parts = append(parts, n.String())
		}
	default:
		return false, 0, bad
	}
	if len(parts) != 2 {
		return false, 0, bad
	}
	c, err1 := strconv.ParseUint(parts[0], 10, 32)
	i, err2 := strconv.ParseUint(parts[1], 10, 31)
	if err1 != nil || err2 != nil || c > 1 {
		return false, 0, bad
	}
	return c == 1, uint32(i), nil
}

func (d *Daemon) getprivatekeyforpath(ctx context.Context, c *base.Call, a keyPathArgs) (any, error) {
	change, index, err := parseKeyPath(a.Path)
	if err != nil {
		return nil, err
	}
	w, err := d.signingWallet(ctx, c)
	if err != nil {
		return nil, err
	}
	mat := w.Material()
	k, err := mat.PrivKey(change, index)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	return d.exportKey(k, mat.ScriptType(), true)
}

type passwordArgs struct {
	Password *string `rpc:"password"`
}

func (d *Daemon) getseed(ctx context.Context, c *base.Call, _ passwordArgs) (any, error) {
	if _, err := d.signingWallet(ctx, c); err != nil {
		return nil, err
	}
	if keys.SeedType(c.Wallet.Key) == "" {
		return nil, base.Errorf(spec.InvalidParams, "This wallet has no seed words: the call's key material is not a seed")
	}
	return strings.Join(strings.Fields(c.Wallet.Key), " "), nil
}

func (d *Daemon) getmasterprivate(ctx context.Context, c *base.Call, _ passwordArgs) (any, error) {
	w, err := d.signingWallet(ctx, c)
	if err != nil {
		return nil, err
	}
	return w.Material().MasterPrivateKey()
}

type invoiceKeyArgs struct {
	Key       string `rpc:"key"`
	InvoiceID string `rpc:"invoice_id"`
}

// errInvoiceNotFound is -32012 for get_invoice.
var errInvoiceNotFound = errors.New("Invoice not found")

// getInvoice is Bitcart's get_invoice: any request by id, formatted as
// export_request does (no sent_amount).
func (d *Daemon) getInvoice(ctx context.Context, c *base.Call, a invoiceKeyArgs) (any, error) {
	id := a.Key
	if id == "" {
		id = a.InvoiceID
	}
	if id == "" || a.Key != "" && a.InvoiceID != "" {
		return nil, base.Errorf(spec.InvalidParams, "give the invoice's key once")
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.GetRequest(ctx, id)
	if errors.Is(err, wallet.ErrRequestNotFound) {
		return nil, fmt.Errorf("%w: %s", errInvoiceNotFound, shorten(id))
	}
	if err != nil {
		return nil, err
	}
	rep := d.requestJSON(r)
	rep.noSent = true
	return rep, nil
}

type listInvoicesArgs struct {
	Pending bool `rpc:"pending"`
	Expired bool `rpc:"expired"`
	Paid    bool `rpc:"paid"`
}

func (d *Daemon) listInvoices(context.Context, *base.Call, listInvoicesArgs) (any, error) {
	return []any{}, nil
}

type invoiceIDArgs struct {
	InvoiceID string `rpc:"invoice_id,required"`
}

func (d *Daemon) deleteInvoice(context.Context, *base.Call, invoiceIDArgs) (any, error) {
	return nil, nil
}

func (d *Daemon) clearInvoices(context.Context, *base.Call, base.NoArgs) (any, error) {
	return true, nil
}
