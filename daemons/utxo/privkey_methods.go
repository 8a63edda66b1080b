package utxo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2/txsort"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/ecies"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// privkeyMethods declares the Electrum 4.6 commands whose keys arrive in
// the call itself (audit §2.3): signing with given private keys, sweeping
// them, multisig addresses, and Electrum's message encryption. Nothing they
// are given is kept, logged or echoed.
func (d *Daemon) privkeyMethods(b *base.Builder) {
	s := &sendSide{d: d, caps: d.feeCaps(), conf: d.conf}
	add := b.Add
	add(base.NewMethod("signtransaction_with_privkey", "signtransaction_with_privkey(tx, privkey): signs the inputs of tx (a PSBT in base64 or hex, or a raw transaction in hex) that spend the addresses of privkey (a private key, Electrum's type:WIF or a plain WIF (p2pkh) or a minikey, or a list of them); previous outputs a PSBT does not carry are looked up on the node. Returns the raw transaction in hex when every input is signed, else a PSBT in base64. Nothing is broadcast.", s.signWithPrivkey))
	add(base.NewMethod("sweep", "sweep(privkey, destination, fee, feerate, nocheck, imax, allow_high_fee): a transaction that sends every coin of the private keys in privkey (separated by spaces; type:WIF, WIF or minikey) to destination, found on the node (at most imax inputs, default 100), signed, BIP125-replaceable, fee absolute (coin units) or feerate (sat/vB) or else the fee policy, within <COIN>_MAX_TX_FEE and <COIN>_MAX_FEE_RATE unless allow_high_fee=true. Returns it in hex; as in Electrum it is not broadcast (use broadcast).", s.sweep))
	add(base.NewMethod("createmultisig", "createmultisig(num, pubkeys): the p2sh address of the num-of-n multisig script of pubkeys (a list of 1 to 15 hex public keys, in the order given) as {address, redeemScript}.", d.createmultisig))
	add(base.NewMethod("encrypt", "encrypt(pubkey, message): message encrypted to pubkey (hex) with Electrum's ECIES (BIE1, base64), which Electrum's decrypt reads.", d.encrypt))
	add(base.NewMethod("decrypt", "decrypt(pubkey, encrypted, password): decrypts Electrum's ECIES message encrypted to pubkey, the public key of one of the wallet's addresses; only for a call whose own xpub argument holds the private keys.", d.decrypt, base.NeedsWallet()))
}

// Errors of the private key commands. None quotes its input.
var (
	errBadPrivkey = base.Errorf(spec.InvalidParams, "privkey: not a private key of this network (type:WIF, WIF or minikey)")
	errNoInputs   = base.Errorf(spec.NotEnoughFunds, "No inputs found.")
)

// privkeyTypes are Electrum's WIF_SCRIPT_TYPES that name one key: the
// offset a 3.0-era WIF adds to the network's prefix to say its type.
var privkeyTypes = map[byte]params.ScriptType{0: params.P2PKH, 1: params.P2WPKH, 2: params.P2WPKHP2SH}

// isMinikey is Electrum's is_minikey: 20 or more base58 characters
// starting with S whose SHA-256 with "?" appended begins with a zero byte.
func isMinikey(s string) bool {
	if len(s) < 20 || s[0] != 'S' {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", c) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(s + "?"))
	return sum[0] == 0
}

// decodePrivkey is Electrum's deserialize_privkey: a minikey (p2pkh,
// uncompressed), "<type>:<WIF>", a plain WIF (p2pkh), or a 3.0-era WIF whose
// prefix carries the type. Its errors never quote the key.
func (d *Daemon) decodePrivkey(s string) (*signingKey, bool, error) {
	s = strings.TrimSpace(s)
	if isMinikey(s) {
		sum := sha256.Sum256([]byte(s))
		k, _ := btcec.PrivKeyFromBytes(sum[:])
		return &signingKey{key: k, compressed: false, st: params.P2PKH}, true, nil
	}
	var typ *params.ScriptType
	if name, wif, ok := strings.Cut(s, ":"); ok {
		t, err := params.ParseScriptType(name)
		if err != nil || !t.SingleKey() {
			return nil, false, base.Errorf(spec.InvalidParams, "privkey: unsupported script type (p2pkh, p2wpkh-p2sh, p2wpkh)")
		}
		typ, s = &t, wif
	}
	raw := base58.Decode(s)
	if len(raw) < 5 {
		return nil, false, errBadPrivkey
	}
	sum := sha256.Sum256(raw[:len(raw)-4])
	sum = sha256.Sum256(sum[:])
	if !bytes.Equal(sum[:4], raw[len(raw)-4:]) {
		return nil, false, errBadPrivkey
	}
	vch := raw[:len(raw)-4]
	prefix := d.net.Chain.PrivateKeyID
	if typ == nil {
		t, ok := privkeyTypes[vch[0]-prefix]
		if !ok {
			return nil, false, errBadPrivkey
		}
		typ = &t
	} else if vch[0] != prefix {
		return nil, false, errBadPrivkey
	}
	compressed := false
	switch {
	case len(vch) == 34 && vch[33] == 1:
		compressed = true
	case len(vch) != 33:
		return nil, false, errBadPrivkey
	}
	if typ.Segwit() && !compressed {
		return nil, false, base.Errorf(spec.InvalidParams, "privkey: only compressed public keys can be used in segwit scripts")
	}
	k, _ := btcec.PrivKeyFromBytes(vch[1:33])
	return &signingKey{key: k, compressed: compressed, st: *typ}, false, nil
}

// keyScript is the output script a key pays to as its type says.
func (d *Daemon) keyScript(k *signingKey, compressed bool) ([]byte, error) {
	pub := k.key.PubKey().SerializeUncompressed()
	if compressed {
		pub = k.key.PubKey().SerializeCompressed()
	}
	_, script, err := d.net.PubKeyAddress(k.st, pub)
	return script, err
}

// keyList reads privkey: one string or a list of strings, at most
// maxLookupInputs keys.
func keyList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || len(many) > maxLookupInputs {
		return nil, base.Errorf(spec.InvalidParams, "privkey must be a private key or a list of 1 to %d of them", maxLookupInputs)
	}
	return many, nil
}

// scriptKeys maps the output scripts the keys pay to (each key's type, and
// for a minikey both compressions, as Electrum searches) to the key.
type scriptKeys map[string]scriptKey

// scriptKey is the key of one script and whether the script holds its
// uncompressed public key.
type scriptKey struct {
	key          *btcec.PrivateKey
	uncompressed bool
}

func (d *Daemon) scriptKeys(list []string) (scriptKeys, error) {
	out := scriptKeys{}
	for _, s := range list {
		k, mini, err := d.decodePrivkey(s)
		if err != nil {
			return nil, err
		}
		forms := []bool{k.compressed}
		if mini {
			forms = append(forms, !k.compressed)
		}
		for _, c := range forms {
			script, err := d.keyScript(k, c)
			if err != nil {
				return nil, base.Errorf(spec.InvalidParams, "privkey: %v", err)
			}
			out[string(script)] = scriptKey{key: k.key, uncompressed: !c}
		}
	}
	return out, nil
}

func (m scriptKeys) zero() {
	for _, k := range m {
		k.key.Zero()
	}
}

type signWithPrivkeyArgs struct {
	Tx      string          `rpc:"tx,required"`
	Privkey json.RawMessage `rpc:"privkey,required"`
}

// signWithPrivkey is Electrum's signtransaction_with_privkey: the inputs
// spending the keys' addresses are signed, the others left as they are.
func (s *sendSide) signWithPrivkey(ctx context.Context, _ *base.Call, a signWithPrivkeyArgs) (any, error) {
	list, err := keyList(a.Privkey)
	if err != nil {
		return nil, err
	}
	tx, p, err := wallet.DecodeTransaction(a.Tx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		tx = p.UnsignedTx.Copy()
	}
	if len(tx.TxIn) > maxLookupInputs {
		return nil, base.Errorf(spec.InvalidParams, "a transaction of at most %d inputs", maxLookupInputs)
	}
	keys, err := s.d.scriptKeys(list)
	if err != nil {
		return nil, err
	}
	defer keys.zero()
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	prevTxs := make([]*wire.MsgTx, len(tx.TxIn))
	signWith := make([]*btcec.PrivateKey, len(tx.TxIn))
	for i, in := range tx.TxIn {
		if p != nil {
			prevs[i] = psbtInputPrevOut(p, i)
			if len(p.Inputs[i].FinalScriptSig) > 0 || len(p.Inputs[i].FinalScriptWitness) > 0 {
				continue
			}
		} else if len(in.SignatureScript) > 0 || len(in.Witness) > 0 {
			continue
		}
		if prevs[i] == nil {
			if prevTxs[i], prevs[i], err = s.d.prevOutput(ctx, in.PreviousOutPoint); err != nil {
				return nil, err
			}
		}
		if prevs[i] != nil {
			signWith[i] = keys[string(prevs[i].PkScript)].key
		}
	}
	if err := s.d.engine.Coin().Signer.SignInputs(tx, prevs, signWith); err != nil {
		return nil, base.Errorf(spec.InvalidParams, "signtransaction_with_privkey: %v", err)
	}
	if p == nil {
		p, err = psbtOfRaw(tx)
		if err != nil {
			return nil, err
		}
	}
	for i, k := range signWith {
		if k != nil {
			if err := wallet.FinalizeInput(&p.Inputs[i], tx.TxIn[i]); err != nil {
				return nil, err
			}
		}
		pin := &p.Inputs[i]
		if prevs[i] != nil && pin.WitnessUtxo == nil && pin.NonWitnessUtxo == nil {
			// BIP174: the whole previous transaction for a legacy input,
			// the output for a segwit (or p2sh-wrapped) one; a finalizer
			// keeps them, and Electrum needs them to see an input is
			// complete.
			switch txscript.GetScriptClass(prevs[i].PkScript) {
			case txscript.WitnessV0PubKeyHashTy, txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy, txscript.ScriptHashTy:
				pin.WitnessUtxo = prevs[i]
			default:
				pin.NonWitnessUtxo = prevTxs[i]
			}
		}
	}
	if p.IsComplete() {
		out, err := psbt.Extract(p)
		if err != nil {
			return nil, base.Errorf(spec.InvalidParams, "signtransaction_with_privkey: %v", err)
		}
		return wireHex(out)
	}
	return p.B64Encode()
}

// psbtInputPrevOut is the output input i of p spends, from its UTXO
// records (nil when it has none or they do not match the outpoint).
func psbtInputPrevOut(p *psbt.Packet, i int) *wire.TxOut {
	pin := p.Inputs[i]
	op := p.UnsignedTx.TxIn[i].PreviousOutPoint
	if pin.NonWitnessUtxo != nil && pin.NonWitnessUtxo.TxHash() == op.Hash && int(op.Index) < len(pin.NonWitnessUtxo.TxOut) {
		return pin.NonWitnessUtxo.TxOut[op.Index]
	}
	return pin.WitnessUtxo
}

// prevOutput looks the output op up, with its transaction: in the wallets'
// records, else on the node. nil when neither knows it.
func (d *Daemon) prevOutput(ctx context.Context, op wire.OutPoint) (*wire.MsgTx, *wire.TxOut, error) {
	tx, _, found, err := d.engine.Transaction(ctx, op.Hash)
	if err != nil {
		return nil, nil, err
	}
	if !found && d.backend != nil {
		info, err := d.backend.Transaction(ctx, op.Hash)
		switch {
		case err == nil:
			tx = info.Tx
		case errors.Is(err, chain.ErrNotFound):
		default:
			return nil, nil, err
		}
	}
	if tx == nil || int(op.Index) >= len(tx.TxOut) {
		return nil, nil, nil
	}
	return tx, tx.TxOut[op.Index], nil
}

// psbtOfRaw makes a PSBT of a raw transaction: its inputs already signed
// become finalized inputs.
func psbtOfRaw(tx *wire.MsgTx) (*psbt.Packet, error) {
	unsigned := tx.Copy()
	for _, in := range unsigned.TxIn {
		in.SignatureScript, in.Witness = nil, nil
	}
	p, err := psbt.NewFromUnsignedTx(unsigned)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "%v", err)
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > 0 || len(in.Witness) > 0 {
			if err := wallet.FinalizeInput(&p.Inputs[i], in); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

type sweepArgs struct {
	Privkey      string `rpc:"privkey,required"`
	Destination  string `rpc:"destination,required"`
	Fee          Amount `rpc:"fee"`
	FeeRate      Amount `rpc:"feerate"`
	NoCheck      bool   `rpc:"nocheck"`
	IMax         int64  `rpc:"imax" default:"100"`
	AllowHighFee bool   `rpc:"allow_high_fee"`
}

// sweep is Electrum's sweep: every coin of the keys, found on the node, to
// one output, signed and not broadcast.
func (s *sendSide) sweep(ctx context.Context, _ *base.Call, a sweepArgs) (any, error) {
	if a.Fee.Set && a.FeeRate.Set {
		return nil, wallet.ErrFeeAndFeerate
	}
	if a.Fee.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"fee\": \"!\" is not a fee")
	}
	if a.IMax < 1 || a.IMax > maxLookupInputs {
		return nil, base.Errorf(spec.InvalidParams, "imax must be from 1 to %d", maxLookupInputs)
	}
	list := strings.Fields(a.Privkey)
	if len(list) == 0 || len(list) > maxLookupInputs {
		return nil, base.Errorf(spec.InvalidParams, "privkey must hold 1 to %d private keys", maxLookupInputs)
	}
	dest, err := s.d.net.PkScript(a.Destination)
	if err != nil {
		return nil, err
	}
	keys, err := s.d.scriptKeys(list)
	if err != nil {
		return nil, err
	}
	defer keys.zero()
	if s.d.backend == nil {
		return nil, wallet.ErrNoBackend
	}
	scripts := make([][]byte, 0, len(keys))
	for sc := range keys {
		scripts = append(scripts, []byte(sc))
	}
	sort.Slice(scripts, func(i, j int) bool { return bytes.Compare(scripts[i], scripts[j]) < 0 })
	limit := s.d.maxAddressHistory()
	hist, err := chain.HistoryAtMost(ctx, s.d.backend, scripts, limit)
	if errors.Is(err, chain.ErrTooMuchHistory) {
		return nil, base.Errorf(spec.InvalidParams, "the keys' addresses have more than %d transactions (%s_MAX_ADDRESS_HISTORY)", limit, s.d.coin.Ticker)
	}
	if err != nil {
		return nil, err
	}
	coins := s.d.sweepable(scripts, hist)
	if len(coins) == 0 {
		return nil, errNoInputs
	}
	if len(coins) > int(a.IMax) {
		coins = coins[:a.IMax]
	}
	pol := s.d.engine.Coin().Policy
	tx := wire.NewMsgTx(pol.TxVersion)
	var total int64
	prevOf := map[wire.OutPoint]*wire.TxOut{}
	for _, c := range coins {
		op := wire.OutPoint{Hash: c.txid, Index: c.index}
		in := wire.NewTxIn(&op, nil, nil)
		in.Sequence = wallet.SequenceRBF
		tx.AddTxIn(in)
		prevOf[op] = c.out
		total += c.out.Value
	}
	tx.AddTxOut(wire.NewTxOut(total, dest))
	tx.LockTime = s.d.sweepLockTime()
	txsort.InPlaceSort(tx)
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	signWith := make([]*btcec.PrivateKey, len(tx.TxIn))
	uncompressed := 0
	for i, in := range tx.TxIn {
		prevs[i] = prevOf[in.PreviousOutPoint]
		k := keys[string(prevs[i].PkScript)]
		signWith[i] = k.key
		if k.uncompressed {
			uncompressed++
		}
	}
	fee, err := s.sweepFee(ctx, a, tx, prevs, uncompressed)
	if err != nil {
		return nil, err
	}
	dust := (182*3*pol.MinRelayPerKB + 999) / 1000
	if total-fee < 0 {
		return nil, base.Errorf(spec.NotEnoughFunds, "Not enough funds on address. Total: %d satoshis, Fee: %d", total, fee)
	}
	if total-fee < dust {
		return nil, base.Errorf(spec.NotEnoughFunds, "Not enough funds on address. Total: %d satoshis, Fee: %d, Dust Threshold: %d", total, fee, dust)
	}
	tx.TxOut[0].Value = total - fee
	if err := s.d.engine.Coin().Signer.SignInputs(tx, prevs, signWith); err != nil {
		return nil, base.Errorf(spec.InvalidParams, "sweep: %v", err)
	}
	if err := s.checkBuilt(ctx, &wallet.BuiltTx{Tx: tx, Fee: fee, Complete: true}, a.AllowHighFee); err != nil {
		return nil, err
	}
	return wireHex(tx)
}

// sweepFee is the fee of the sweep: fee (absolute), feerate (sat/vB) or the
// fee policy, on the transaction's estimated signed size (as Electrum's
// estimated_size: an uncompressed public key is 32 bytes longer than the
// compressed one the size estimate assumes); above the caps it is refused
// unless allowed.
func (s *sendSide) sweepFee(ctx context.Context, a sweepArgs, tx *wire.MsgTx, prevs []*wire.TxOut, uncompressed int) (int64, error) {
	if a.Fee.Set {
		return a.Fee.Sats, s.checkFee(a.Fee.Sats, a.AllowHighFee)
	}
	size := int64(s.d.engine.Coin().Signer.EstimateSize(tx, prevs, nil)) + 32*int64(uncompressed)
	var rate int64
	if a.FeeRate.Set {
		r, err := feeRateKvB(a.FeeRate, "feerate")
		if err != nil {
			return 0, err
		}
		if err := s.checkFeeRate(r, a.AllowHighFee); err != nil {
			return 0, err
		}
		rate = r
	} else {
		p := s.conf.policy()
		if p.method == feeFixed {
			return p.value, nil
		}
		r, ok := s.policyRate(ctx, p)
		if !ok {
			return 0, noEstimate(p)
		}
		rate = r
	}
	return feeForFeerate(rate, size)
}

// sweepCoin is one output a sweep spends.
type sweepCoin struct {
	txid   chainhash.Hash
	index  uint32
	height int32
	out    *wire.TxOut
}

// sweepable lists the unspent outputs paying scripts in hist: not spent in
// a block or in the mempool, mature, confirmed ones first (by height), then
// by outpoint, so imax keeps the oldest.
func (d *Daemon) sweepable(scripts [][]byte, hist []chain.TxInfo) []sweepCoin {
	tip := d.engine.Height()
	coinbase := map[chainhash.Hash]bool{}
	chainTxs := make([]chainTx, len(hist))
	for i, h := range hist {
		id := h.Tx.TxHash()
		chainTxs[i] = chainTx{id: id, height: h.Height, info: h}
		coinbase[id] = isCoinbase(h.Tx)
	}
	var out []sweepCoin
	for _, script := range scripts {
		for _, u := range unspentOf(script, chainTxs) {
			if u.spentInMempool {
				continue
			}
			if coinbase[u.txid] && (u.height <= 0 || tip-u.height+1 < wallet.CoinbaseMaturity) {
				continue
			}
			out = append(out, sweepCoin{txid: u.txid, index: u.index, height: u.height,
				out: wire.NewTxOut(u.value, script)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		hi, hj := out[i].height, out[j].height
		if (hi <= 0) != (hj <= 0) {
			return hi > 0
		}
		if hi != hj {
			return hi < hj
		}
		if c := bytes.Compare(out[i].txid[:], out[j].txid[:]); c != 0 {
			return c < 0
		}
		return out[i].index < out[j].index
	})
	return out
}

// isCoinbase reports whether tx is a coinbase transaction.
func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == [32]byte{}
}

// sweepLockTime is Electrum's get_locktime_for_new_transaction: the tip's
// height (discouraging fee sniping), one time in ten up to 99 blocks
// earlier; 0 while walletd is not synced with its node.
func (d *Daemon) sweepLockTime() uint32 {
	h := d.engine.Height()
	if h <= 0 || !d.engine.Synced() {
		return 0
	}
	if rand.IntN(10) == 0 {
		h = max(0, h-int32(rand.IntN(100)))
	}
	return uint32(h)
}

type createMultisigArgs struct {
	Num     int64           `rpc:"num,required"`
	Pubkeys json.RawMessage `rpc:"pubkeys,required"`
}

// maxRedeemScript is the consensus limit on a p2sh redeem script.
const maxRedeemScript = 520

// createmultisig is Electrum's: OP_m <pubkeys in the order given> OP_n
// OP_CHECKMULTISIG, paid to by p2sh. Unlike Electrum it checks that each
// key is a valid public key and that the script can be spent (520 bytes).
func (d *Daemon) createmultisig(_ context.Context, _ *base.Call, a createMultisigArgs) (any, error) {
	var list []string
	if err := json.Unmarshal(a.Pubkeys, &list); err != nil {
		var s string
		if json.Unmarshal(a.Pubkeys, &s) != nil || json.Unmarshal([]byte(s), &list) != nil {
			return nil, base.Errorf(spec.InvalidParams, "pubkeys must be a list of hex public keys")
		}
	}
	n := int64(len(list))
	if a.Num < 1 || n < a.Num || n > 15 {
		return nil, base.Errorf(spec.InvalidParams, "createmultisig needs 1 <= num <= number of pubkeys <= 15 (num %d, %d pubkeys)", a.Num, n)
	}
	b := txscript.NewScriptBuilder().AddInt64(a.Num)
	for i, h := range list {
		raw, err := hex.DecodeString(strings.TrimSpace(h))
		if err == nil {
			_, err = btcec.ParsePubKey(raw)
		}
		if err != nil || (len(raw) != 33 && len(raw) != 65) {
			return nil, base.Errorf(spec.InvalidParams, "pubkeys[%d] is not a public key in hex", i)
		}
		b.AddData(raw)
	}
	script, err := b.AddInt64(n).AddOp(txscript.OP_CHECKMULTISIG).Script()
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "createmultisig: %v", err)
	}
	if len(script) > maxRedeemScript {
		return nil, base.Errorf(spec.InvalidParams, "the redeem script is %d bytes, above p2sh's %d: use compressed public keys or fewer of them", len(script), maxRedeemScript)
	}
	p2sh := append(append([]byte{txscript.OP_HASH160, txscript.OP_DATA_20}, address.Hash160(script)...), txscript.OP_EQUAL)
	addr, ok := d.net.AddressFromScript(p2sh)
	if !ok {
		return nil, base.Errorf(spec.InvalidParams, "createmultisig: %s has no p2sh addresses", d.net)
	}
	return map[string]string{"address": addr, "redeemScript": hex.EncodeToString(script)}, nil
}

// parsePubkeyArg reads Electrum's pubkey argument: a public key in hex.
func parsePubkeyArg(s string) (*btcec.PublicKey, []byte, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) == 0 {
		return nil, nil, base.Errorf(spec.InvalidParams, "pubkey must be a hex string")
	}
	pub, err := btcec.ParsePubKey(raw)
	if err != nil {
		return nil, nil, base.Errorf(spec.InvalidParams, "pubkey is not a valid public key")
	}
	return pub, raw, nil
}

type encryptArgs struct {
	Pubkey  string `rpc:"pubkey,required"`
	Message string `rpc:"message,required"`
}

func (d *Daemon) encrypt(_ context.Context, _ *base.Call, a encryptArgs) (any, error) {
	pub, _, err := parsePubkeyArg(a.Pubkey)
	if err != nil {
		return nil, err
	}
	return ecies.Encrypt(nil, pub, []byte(a.Message))
}

type decryptArgs struct {
	Pubkey    string  `rpc:"pubkey,required"`
	Encrypted string  `rpc:"encrypted,required"`
	Password  *string `rpc:"password"`
}

// decrypt is Electrum's decrypt: the key of the wallet address that pubkey
// makes (as each single-key script type would) decrypts.
func (d *Daemon) decrypt(ctx context.Context, c *base.Call, a decryptArgs) (any, error) {
	pub, raw, err := parsePubkeyArg(a.Pubkey)
	if err != nil {
		return nil, err
	}
	w, err := d.signingWallet(ctx, c)
	if err != nil {
		return nil, err
	}
	types := []params.ScriptType{w.Material().ScriptType(), params.P2WPKH, params.P2WPKHP2SH, params.P2PKH}
	var key *wallet.ExportedKey
	for _, t := range types {
		addr, _, err := d.net.PubKeyAddress(t, raw)
		if err != nil {
			continue
		}
		k, err := w.PrivateKey(ctx, addr)
		if err == nil && k.Key.PubKey().IsEqual(pub) {
			key = k
			break
		}
		if k != nil {
			k.Key.Zero()
		}
	}
	if key == nil {
		return nil, base.Errorf(spec.InvalidParams, "decrypt: pubkey is not the public key of one of the wallet's addresses")
	}
	defer key.Key.Zero()
	plain, err := ecies.Decrypt(key.Key, a.Encrypted)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "decrypt: %v", err)
	}
	if !utf8.Valid(plain) {
		return nil, base.Errorf(spec.InvalidParams, "decrypt: the message is not UTF-8 text")
	}
	return string(plain), nil
}
