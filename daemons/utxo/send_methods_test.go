package utxo

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/spec"
)

func (c *rpcClient) result(out any, method string, params ...any) {
	c.t.Helper()
	r := c.call(method, params...)
	if r.Error != nil {
		c.t.Fatalf("%s: error %+v", method, *r.Error)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		c.t.Fatalf("%s: result %s: %v", method, r.Result, err)
	}
}

func (c *rpcClient) errCode(method string, params ...any) int {
	c.t.Helper()
	r := c.call(method, params...)
	if r.Error == nil {
		c.t.Fatalf("%s: no error, result %s", method, r.Result)
	}
	return r.Error.Code
}

// sampleTx returns a signed regtest transaction (one p2wpkh input, two
// outputs) in hex, with its txid and vsize.
func sampleTx(t *testing.T) (string, string, int) {
	t.Helper()
	key, _ := btcec.NewPrivateKey()
	script := append([]byte{txscript.OP_0, txscript.OP_DATA_20}, address.Hash160(key.PubKey().SerializeCompressed())...)
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}, Index: 0}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(50_000_000, script))
	tx.AddTxOut(wire.NewTxOut(49_990_000, script))
	fetcher := txscript.NewCannedPrevOutputFetcher(script, 100_000_000)
	wit, err := txscript.WitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, 100_000_000, script, txscript.SigHashAll, key, true)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
	var buf bytes.Buffer
	_ = tx.Serialize(&buf)
	return hex.EncodeToString(buf.Bytes()), tx.TxHash().String(), wallet.VSize(tx)
}

func TestTxSizeHashAndDefaultFee(t *testing.T) {
	c := newDaemon(t, "regtest")
	raw, txid, vsize := sampleTx(t)
	var size int
	c.result(&size, "get_tx_size", raw)
	if size != vsize || size < 140 || size > 141 {
		t.Fatalf("get_tx_size = %d, want %d", size, vsize)
	}
	var hash string
	c.result(&hash, "get_tx_hash", raw)
	if hash != txid {
		t.Fatalf("get_tx_hash = %q", hash)
	}
	// No backend: Electrum's static 150 sat/vB.
	var fee string
	c.result(&fee, "get_default_fee", 141)
	if fee != "0.00021150" {
		t.Fatalf("get_default_fee(141) = %q", fee)
	}
	c.result(&fee, "get_default_fee", raw)
	if want := FormatFixed(int64(150 * vsize)); fee != want {
		t.Fatalf("get_default_fee(tx) = %q", fee)
	}
	if code := c.errCode("get_tx_size", "nothex"); code != int(spec.InvalidParams) {
		t.Fatalf("bad tx: %d", code)
	}
	var rec any
	c.result(&rec, "recommended_fee", 2)
	if rec != float64(150_000) {
		t.Fatalf("recommended_fee on regtest without a node = %v, want Electrum's regtest rate", rec)
	}
	// A static policy.
	c.result(&rec, "setconfig", "fee_policy.default", "feerate:2000")
	c.result(&fee, "get_default_fee", 141)
	if fee != "0.00000282" {
		t.Fatalf("get_default_fee static = %q", fee)
	}
}

func TestConfigAndStubs(t *testing.T) {
	c := newDaemon(t, "regtest")
	var v any
	c.result(&v, "getconfig", "lightning")
	if v != false {
		t.Fatalf("getconfig(lightning) = %v", v)
	}
	if code := c.errCode("getconfig", "no_such_key"); code != int(spec.NoConfigKey) {
		t.Fatalf("unknown key: %d", code)
	}
	if code := c.errCode("setconfig", "no_such_key", 1); code != int(spec.NoConfigKey) {
		t.Fatalf("set unknown key: %d", code)
	}
	if code := c.errCode("setconfig", "use_rbf", "maybe"); code != int(spec.InvalidParams) {
		t.Fatalf("bad type: %d", code)
	}
	var ok bool
	c.result(&v, "setconfig", "currency", "EUR")
	if v != nil {
		t.Fatalf("setconfig returned %v, want null", v)
	}
	c.result(&v, "getconfig", "currency")
	if v != "EUR" {
		t.Fatalf("currency = %v", v)
	}
	var u string
	c.result(&u, "modifypaymenturl", "bitcoin:bcrt1qxyz?amount=0.1&message=order 42&time=5", "0.25")
	if u != "bitcoin:bcrt1qxyz?amount=0.25&message=order+42&time=5" {
		t.Fatalf("modifypaymenturl = %q", u)
	}
	c.result(&u, "modifypaymenturl", "bitcoin:bcrt1qxyz", 0.5)
	if u != "bitcoin:bcrt1qxyz?amount=0.5" {
		t.Fatalf("modifypaymenturl add = %q", u)
	}
	c.result(&u, "modifypaymenturl", "bitcoin:bcrt1qxyz?time=1", "0")
	if u != "bitcoin:bcrt1qxyz?time=1" {
		t.Fatalf("modifypaymenturl zero = %q", u)
	}
	c.result(&u, "normalizeaddress", "bcrt1qxyz")
	if u != "bcrt1qxyz" {
		t.Fatal(u)
	}
	c.result(&ok, "validatecontract", "bcrt1qxyz")
	if ok {
		t.Fatal("validatecontract true")
	}
	var tokens map[string]any
	c.result(&tokens, "get_tokens")
	var abi []any
	c.result(&abi, "getabi")
	if tokens == nil || len(tokens) != 0 || abi == nil || len(abi) != 0 {
		t.Fatalf("stubs: %v %v", tokens, abi)
	}
	for _, m := range [][]any{{"nodeid"}, {"add_peer", "x@127.0.0.1"}, {"list_peers"}, {"open_channel", "x", 0.1},
		{"close_channel", "x:0", true}, {"list_channels"}, {"lnpay", "lnbc1"}, {"decode_invoice", "lnbc1"},
		{"open_channel", map[string]any{"connection_string": "x", "amount": 0.1, "zeroconf": true}},
		{"add_hold_invoice", "00", 0.1, "memo", 3600, 300}, {"reverse_swap", 1, 2}} {
		if code := c.errCode(m[0].(string), m[1:]...); code != int(spec.LightningUnsupp) {
			t.Fatalf("%s: %d", m[0], code)
		}
	}
}

func TestMakeSeedAndMessages(t *testing.T) {
	c := newDaemon(t, "regtest")
	var seed string
	c.result(&seed, "make_seed")
	if keys.SeedType(seed) != "segwit" || len(strings.Fields(seed)) != 12 {
		t.Fatalf("make_seed = %q", seed)
	}
	c.result(&seed, "make_seed", 256, "english", "standard")
	if keys.SeedType(seed) != "standard" || len(strings.Fields(seed)) != 24 {
		t.Fatalf("make_seed(256, standard) = %q", seed)
	}
	if code := c.errCode("make_seed", 132, "japanese"); code != int(spec.InvalidParams) {
		t.Fatalf("japanese: %d", code)
	}
	const sig = "INbVnW4e6PeRmsv2Qgu8NuopvrVjkcxob+sX8OcZG0SALhWybUjzMLPdAsXI46YZGb0KQTRii+wWIQzRpG/U+S0="
	var ok bool
	c.result(&ok, "verifymessage", "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", sig, "This is just a test message")
	if !ok {
		t.Fatal("Core's vector does not verify")
	}
	c.result(&ok, "verifymessage", "mpLQjfK79b7CCV4VMJWEWAj5Mpx8Up5zxB", sig, "This is just a test message!")
	if ok {
		t.Fatal("wrong message verifies")
	}
	// Wallet methods need a wallet.
	for _, m := range []string{"payto", "paytomany", "signtransaction", "bumpfee", "get_used_fee", "signmessage", "removelocaltx", "addtransaction"} {
		if code := c.errCode(m, "x", "y"); code != int(spec.WalletNotLoaded) {
			t.Fatalf("%s without wallet: %d, want %d", m, code, spec.WalletNotLoaded)
		}
	}
	if re := regexp.MustCompile(`^[a-z]+( [a-z]+){11}$`); !re.MatchString(strings.Join(strings.Fields(seed)[:12], " ")) {
		t.Fatal("seed words")
	}
}
