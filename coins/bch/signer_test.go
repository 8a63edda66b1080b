package bch

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btxscript "github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/gcash/bchd/bchec"
	"github.com/gcash/bchd/txscript"
	bchwire "github.com/gcash/bchd/wire"
)

func keyOf(t testing.TB, hexSecret string) *btcec.PrivateKey {
	t.Helper()
	b, err := hex.DecodeString(hexSecret)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := btcec.PrivKeyFromBytes(b)
	return k
}

func p2pkh(pub []byte) []byte {
	s := []byte{0x76, 0xa9, 20}
	s = append(s, address.Hash160(pub)...)
	return append(s, 0x88, 0xac)
}

// fixture is a transaction spending one P2PKH output of a compressed key and
// one of an uncompressed key, paying two outputs.
type fixture struct {
	tx    *wire.MsgTx
	prevs []*wire.TxOut
	keys  []*btcec.PrivateKey
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	// The imported-wif keys of the Electron Cash vectors.
	kc := keyOf(t, "621b8a5c8f3c8df720b7e724dc5e5f24d0aa13343577610783d36fc6ad459167")
	ku := keyOf(t, "9e1e067d8533ded9d611680abafde1e26fb09b0033c91d0240c07e58f9710494")
	prevs := []*wire.TxOut{
		{Value: 50_000, PkScript: p2pkh(kc.PubKey().SerializeCompressed())},
		{Value: 70_000, PkScript: p2pkh(ku.PubKey().SerializeUncompressed())},
	}
	tx := wire.NewMsgTx(2)
	for i := range prevs {
		h := chainhash.DoubleHashH([]byte{byte(i)})
		tx.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&h, uint32(i)), nil, nil))
	}
	tx.AddTxOut(wire.NewTxOut(100_000, p2pkh(bytes.Repeat([]byte{2}, 33))))
	tx.AddTxOut(wire.NewTxOut(19_000, p2pkh(kc.PubKey().SerializeCompressed())))
	return fixture{tx: tx, prevs: prevs, keys: []*btcec.PrivateKey{kc, ku}}
}

// TestSignSchnorrForkID: inputs get <64-byte Schnorr sig || 0x41> <pubkey>
// in the key's form; bchd's engine accepts them; the signatures are those
// bchd's own txscript.SignatureScript makes (same digest, same nonce).
func TestSignSchnorrForkID(t *testing.T) {
	f := newFixture(t)
	unsigned := f.tx.Copy()
	if err := (Signer{}).SignInputs(f.tx, f.prevs, f.keys); err != nil {
		t.Fatal(err)
	}
	if err := (Signer{}).VerifyInputs(f.tx, f.prevs); err != nil {
		t.Fatalf("VerifyInputs: %v", err)
	}
	btx, err := toBCH(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range f.tx.TxIn {
		pushes, err := txscript.PushedData(in.SignatureScript)
		if err != nil || len(pushes) != 2 {
			t.Fatalf("input %d: sigScript %x", i, in.SignatureScript)
		}
		sig, pub := pushes[0], pushes[1]
		if len(sig) != 65 || sig[64] != 0x41 {
			t.Errorf("input %d: signature of %d bytes, sighash byte %#x; want 65 and 0x41", i, len(sig), sig[len(sig)-1])
		}
		wantPub := []int{33, 65}[i]
		if len(pub) != wantPub {
			t.Errorf("input %d: public key of %d bytes, want %d", i, len(pub), wantPub)
		}
		bkey, _ := bchec.PrivKeyFromBytes(bchec.S256(), f.keys[i].Serialize())
		ref, err := txscript.SignatureScript(btx, i, f.prevs[i].Value, f.prevs[i].PkScript,
			txscript.SigHashAll|txscript.SigHashForkID, bkey, wantPub == 33)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref, in.SignatureScript) {
			t.Errorf("input %d: sigScript differs from bchd's SignatureScript", i)
		}
	}
	// Signing twice gives the same bytes (deterministic nonces).
	again := unsigned.Copy()
	if err := (Signer{}).SignInputs(again, f.prevs, f.keys); err != nil {
		t.Fatal(err)
	}
	if again.TxHash() != f.tx.TxHash() {
		t.Error("signing is not deterministic")
	}
}

// Electron Cash 4.4.2's signatures of the fixture transaction
// (testdata/electroncash_sign.py): Transaction.sign with sign_schnorr on
// (its default for software wallets) and off.
const (
	ecSignedSchnorr = "02000000021406e05881e299367766d313e26c05564ec91bf721d31726bd6e46e60689539a0000000064417e00d16f987eed8ce68714403e22d59c962cf1778e5542c142018533c508dade5896bf4bf19fec0a71e87a514e8baedca7361c29f5c89ca6d103d1ca422f46854121024b3143bce9511e9c95ac4c6599a61cfb7fb8139c28d24435caea3c23d5654b83ffffffff9c12cfdc04c74584d787ac3d23772132c18524bc7ab28dec4219b8fc5b425f700100000084419ab7a218f3946273bc54ed5918ee099dd0170c6404c0669b651287b3cbcb673879c3ef67ded2c708f4f538d642673fbf88563f70f2cc462070cac478e45390734141045ceaeefe54eaf1c9fae771fd93aea4526b64f640fdca6f834f28218f76903ca0dfbe69cf90fa35dd509e847671126b23b7aca81e9bed1543648ab0243f38a599ffffffff02a0860100000000001976a91451814f108670aced2d77c1805ddd6634bc9d473188ac384a0000000000001976a914296d5f514d623ab7e2b61e86057c336847cfc84588ac00000000"
	ecSignedECDSA   = "02000000021406e05881e299367766d313e26c05564ec91bf721d31726bd6e46e60689539a000000006b483045022100f66dcc1ecfbaaaa25e34bf4eb994304a99a9b869d56d512a14670877ff0fcdeb02205f0dab68659e4ec16a70d3fd68fd51cc8836f74b0c048c091a243409c136365e4121024b3143bce9511e9c95ac4c6599a61cfb7fb8139c28d24435caea3c23d5654b83ffffffff9c12cfdc04c74584d787ac3d23772132c18524bc7ab28dec4219b8fc5b425f70010000008b483045022100894547a44383296802debcdc2c4700215685152c496f20c423386bb0a7f70eba02203945d2846bd2c1b58495243e31b9ce48de95cccf89b7ba4d70dc04b32d892fcb4141045ceaeefe54eaf1c9fae771fd93aea4526b64f640fdca6f834f28218f76903ca0dfbe69cf90fa35dd509e847671126b23b7aca81e9bed1543648ab0243f38a599ffffffff02a0860100000000001976a91451814f108670aced2d77c1805ddd6634bc9d473188ac384a0000000000001976a914296d5f514d623ab7e2b61e86057c336847cfc84588ac00000000"
	// ecEstimated is Electron Cash's estimated_size of the unsigned
	// fixture with Schnorr and with ECDSA.
	ecEstimatedSchnorr, ecEstimatedECDSA = 392, 406
)

// TestSignMatchesElectronCash: the signed transaction is byte for byte the
// one Electron Cash 4.4.2 makes from the same inputs, outputs and keys, with
// either scheme, and the size estimates are Electron Cash's.
func TestSignMatchesElectronCash(t *testing.T) {
	for _, c := range []struct {
		s    Signer
		want string
		est  int
	}{{Signer{}, ecSignedSchnorr, ecEstimatedSchnorr}, {Signer{Scheme: ECDSA}, ecSignedECDSA, ecEstimatedECDSA}} {
		f := newFixture(t)
		if got := c.s.EstimateSize(f.tx, f.prevs, []int{33, 65}); got != c.est {
			t.Errorf("scheme %d: EstimateSize = %d, Electron Cash %d", c.s.Scheme, got, c.est)
		}
		if err := c.s.SignInputs(f.tx, f.prevs, f.keys); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.tx.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(buf.Bytes()); got != c.want {
			t.Errorf("scheme %d: signed\n%s\nElectron Cash\n%s", c.s.Scheme, got, c.want)
		}
	}
}

// TestSignECDSA: the ECDSA scheme makes low-S DER signatures that bchd's
// engine (with its strict encoding, low-S and null-fail rules) accepts.
func TestSignECDSA(t *testing.T) {
	f := newFixture(t)
	s := Signer{Scheme: ECDSA}
	if err := s.SignInputs(f.tx, f.prevs, f.keys); err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyInputs(f.tx, f.prevs); err != nil {
		t.Fatal(err)
	}
	for i, in := range f.tx.TxIn {
		pushes, _ := txscript.PushedData(in.SignatureScript)
		sig := pushes[0]
		if len(sig) < 9 || len(sig) > 73 || sig[0] != 0x30 || sig[len(sig)-1] != 0x41 {
			t.Errorf("input %d: not a DER signature with 0x41: %x", i, sig)
		}
		if _, err := bchec.ParseDERSignature(sig[:len(sig)-1], bchec.S256()); err != nil {
			t.Errorf("input %d: %v", i, err)
		}
	}
}

// TestSignatureCommitsToAmountAndForkID: the FORKID digest covers the
// spent amount (a wrong amount fails verification), and a Bitcoin-style
// signature (SIGHASH_ALL without FORKID, legacy digest) fails bchd's
// engine.
func TestSignatureCommitsToAmountAndForkID(t *testing.T) {
	f := newFixture(t)
	if err := (Signer{}).SignInputs(f.tx, f.prevs, f.keys); err != nil {
		t.Fatal(err)
	}
	wrong := []*wire.TxOut{{Value: f.prevs[0].Value + 1, PkScript: f.prevs[0].PkScript}, f.prevs[1]}
	if err := (Signer{}).VerifyInputs(f.tx, wrong); err == nil {
		t.Error("a signature verified with another amount")
	}
	btc := newFixture(t)
	for i := range btc.tx.TxIn {
		s, err := btxscript.SignatureScript(btc.tx, i, btc.prevs[i].PkScript, btxscript.SigHashAll, btc.keys[i], i == 0)
		if err != nil {
			t.Fatal(err)
		}
		btc.tx.TxIn[i].SignatureScript = s
	}
	if err := (Signer{}).VerifyInputs(btc.tx, btc.prevs); err == nil {
		t.Error("bchd's engine accepted a signature without SIGHASH_FORKID")
	}
}

// TestSignRefusals: wrong keys, non-P2PKH scripts, token coins, unknown
// prevouts, witness transactions and length mismatches are errors, and the
// transaction is left unchanged.
func TestSignRefusals(t *testing.T) {
	token := tokenPrefix(t, 1000)
	cases := map[string]func(*fixture){
		"wrong key":  func(f *fixture) { f.keys[0], f.keys[1] = f.keys[1], f.keys[0] },
		"p2sh":       func(f *fixture) { f.prevs[0].PkScript = append(append([]byte{0xa9, 20}, make([]byte, 20)...), 0x87) },
		"token coin": func(f *fixture) { f.prevs[1].PkScript = append(token, f.prevs[1].PkScript...) },
		"bare token prefix": func(f *fixture) {
			f.prevs[0].PkScript = append([]byte{TokenPrefix}, f.prevs[0].PkScript...)
		},
		"unknown prevout": func(f *fixture) { f.prevs[1] = nil },
		"witness tx":      func(f *fixture) { f.tx.TxIn[0].Witness = wire.TxWitness{{1}} },
		"keys length":     func(f *fixture) { f.keys = f.keys[:1] },
		"prevs length":    func(f *fixture) { f.prevs = f.prevs[:1] },
	}
	for name, mutate := range cases {
		g := newFixture(t)
		mutate(&g)
		before := g.tx.Copy()
		err := (Signer{}).SignInputs(g.tx, g.prevs, g.keys)
		if err == nil {
			t.Errorf("%s: signed", name)
			continue
		}
		for i := range g.tx.TxIn {
			if !bytes.Equal(g.tx.TxIn[i].SignatureScript, before.TxIn[i].SignatureScript) {
				t.Errorf("%s: input %d changed on error", name, i)
			}
		}
		if strings.Contains(name, "token") && !errors.Is(err, ErrTokenCoin) {
			t.Errorf("%s: %v, want ErrTokenCoin", name, err)
		}
	}
	// A nil key leaves its input alone (another party signs it).
	g := newFixture(t)
	g.keys[1] = nil
	if err := (Signer{}).SignInputs(g.tx, g.prevs, g.keys); err != nil {
		t.Fatal(err)
	}
	if len(g.tx.TxIn[0].SignatureScript) == 0 || len(g.tx.TxIn[1].SignatureScript) != 0 {
		t.Error("nil key: wrong inputs signed")
	}
}

// tokenPrefix returns a CashTokens prefix: category, fungible amount.
func tokenPrefix(t testing.TB, amount uint64) []byte {
	t.Helper()
	var cat [32]byte
	copy(cat[:], bytes.Repeat([]byte{0xab}, 32))
	td, err := bchwire.NewTokenData(cat, &amount, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := td.TokenDataBuffer()
	return b.Bytes()
}

func TestSplitToken(t *testing.T) {
	lock := p2pkh(bytes.Repeat([]byte{3}, 33))
	if tok, l, err := SplitToken(lock); tok != nil || !bytes.Equal(l, lock) || err != nil || HasToken(lock) {
		t.Errorf("plain script: %v %x %v", tok, l, err)
	}
	full := append(tokenPrefix(t, 1234), lock...)
	if !HasToken(full) {
		t.Fatal("HasToken = false")
	}
	tok, l, err := SplitToken(full)
	if err != nil || tok == nil || tok.Amount != 1234 || tok.NFT || !bytes.Equal(l, lock) || tok.Category[0] != 0xab {
		t.Fatalf("SplitToken = %+v %x %v", tok, l, err)
	}
	// An NFT with a commitment.
	var cat [32]byte
	commit := []byte("hello")
	cap := byte(bchwire.MUTABLE)
	td, err := bchwire.NewTokenData(cat, nil, &commit, &cap)
	if err != nil {
		t.Fatal(err)
	}
	b := td.TokenDataBuffer()
	tok, l, err = SplitToken(append(b.Bytes(), lock...))
	if err != nil || !tok.NFT || tok.Capability != 1 || string(tok.Commitment) != "hello" || !bytes.Equal(l, lock) {
		t.Fatalf("NFT: %+v %v", tok, err)
	}
	for _, bad := range [][]byte{{TokenPrefix}, append([]byte{TokenPrefix}, lock...), append(tokenPrefix(t, 1)[:34], 0xff)} {
		if _, _, err := SplitToken(bad); err == nil {
			t.Errorf("SplitToken(%x) accepted malformed token data", bad)
		}
	}
	// A btcd transaction carrying a token output converts to bchd's with
	// the token data separated, and back byte for byte.
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{}, []byte{1}, nil))
	tx.AddTxOut(wire.NewTxOut(TokenDust, full))
	btx, err := toBCH(tx)
	if err != nil {
		t.Fatal(err)
	}
	if btx.TxOut[0].TokenData.IsEmpty() || btx.TxOut[0].TokenData.Amount != 1234 || !bytes.Equal(btx.TxOut[0].PkScript, lock) {
		t.Fatalf("bchd output %+v", btx.TxOut[0])
	}
	if btx.TxHash().String() != tx.TxHash().String() {
		t.Error("conversion changed the transaction")
	}
}

// TestEstimateSize: with Schnorr the estimate is the exact signed size
// (Electron Cash's estimated_size), for compressed and uncompressed keys;
// with ECDSA it is an upper bound within 2 bytes per input.
func TestEstimateSize(t *testing.T) {
	for _, s := range []Signer{{Scheme: Schnorr}, {Scheme: ECDSA}} {
		f := newFixture(t)
		est := s.EstimateSize(f.tx, f.prevs, []int{33, 65})
		if err := s.SignInputs(f.tx, f.prevs, f.keys); err != nil {
			t.Fatal(err)
		}
		got := f.tx.SerializeSize()
		if s.Scheme == Schnorr && est != got {
			t.Errorf("Schnorr: estimate %d, signed size %d", est, got)
		}
		if s.Scheme == ECDSA && (est < got || est > got+2*len(f.tx.TxIn)) {
			t.Errorf("ECDSA: estimate %d, signed size %d", est, got)
		}
		if again := s.EstimateSize(f.tx, f.prevs, nil); again != got {
			t.Errorf("a signed transaction's size is %d, estimated %d", got, again)
		}
	}
	f := newFixture(t)
	if a, b := (Signer{}).EstimateSize(f.tx, nil, nil), (Signer{}).EstimateSize(f.tx, nil, []int{33, 65}); b-a != 32 {
		t.Errorf("an uncompressed key adds %d bytes, want 32", b-a)
	}
	// Electron Cash's P2PKH input with Schnorr: 36 + 1 + (1+65) + (1+33) + 4.
	if got := (Signer{}).InputSize(0); got != 141 {
		t.Errorf("InputSize = %d, want 141", got)
	}
}

func TestFeeForSize(t *testing.T) {
	cases := []struct {
		rate int64
		size int
		want int64
	}{{1000, 226, 226}, {1000, 0, 0}, {1500, 3, 4}, {999, 1, 0}, {0, 500, 0}, {-5, 500, 0}, {20000, 1000, 20000}}
	for _, c := range cases {
		if got := FeeForSize(c.rate, c.size); got != c.want {
			t.Errorf("FeeForSize(%d, %d) = %d, want %d", c.rate, c.size, got, c.want)
		}
	}
}

// TestMessages: signatures are byte for byte Electron Cash 4.4.2's
// sign_message (testdata/electroncash_sign.py). Electrum 4.3.4's differ for
// the first message: Electrum grinds nonces for a low R, Electron Cash does
// not. Verification follows Electron Cash's verify_message.
func TestMessages(t *testing.T) {
	cases := []struct {
		secret     string
		compressed bool
		message    string
		want       string
	}{
		{"621b8a5c8f3c8df720b7e724dc5e5f24d0aa13343577610783d36fc6ad459167", true, "walletd",
			"IM/QrVjKwedMGBM602k3BvHQIpJnwLJy+95S3TJJdGr0IG5NapEF7AYasBgt6MJAo3hEcWDwtSDg+K14kyjMrzo="},
		{"621b8a5c8f3c8df720b7e724dc5e5f24d0aa13343577610783d36fc6ad459167", true, "héllo wörld ✓",
			"IE9w9iafH7CbmqpAcP8Q8sxOodNw9cC3B0nrbrxMG8lbXT+VXg/XQKHZJ9hiGHvEKNl7bcmEgNprwcFt3iBePLA="},
		{"9e1e067d8533ded9d611680abafde1e26fb09b0033c91d0240c07e58f9710494", false, "walletd",
			"HDyQl0VvXMBSb7kLjCGldqKAnop18WkaG66VUIRI0+lUcaQ+j+1/9nxUpUy3zbq80SnuKgeBoKFSmCGWWAoXHZc="},
		{"9e1e067d8533ded9d611680abafde1e26fb09b0033c91d0240c07e58f9710494", false, "héllo wörld ✓",
			"HCdSMq9qbvREfHqeZrheC+yJQ2M7Qy33ICsLO7ka4YfrOOvTS1mE4ZELhO1rFsMHfQ6dzo2N+t3tIQ0dTIdl824="},
	}
	s := Signer{}
	for _, c := range cases {
		k := keyOf(t, c.secret)
		got, err := s.SignMessage(k, c.compressed, c.message)
		if err != nil || got != c.want {
			t.Errorf("SignMessage(%s…, %q) = %s, %v; want %s", c.secret[:8], c.message, got, err, c.want)
		}
		pub := k.PubKey().SerializeUncompressed()
		other := k.PubKey().SerializeCompressed()
		if c.compressed {
			pub, other = other, pub
		}
		if !s.VerifyMessage(p2pkh(pub), c.want, c.message) {
			t.Errorf("VerifyMessage rejects its own signature")
		}
		if s.VerifyMessage(p2pkh(other), c.want, c.message) {
			t.Errorf("VerifyMessage accepts the key's other form")
		}
		if s.VerifyMessage(p2pkh(pub), c.want, c.message+".") {
			t.Errorf("VerifyMessage accepts another message")
		}
	}
	k := keyOf(t, cases[0].secret)
	script := p2pkh(k.PubKey().SerializeCompressed())
	sig, _ := hex.DecodeString("00")
	for _, bad := range []string{"", "!!", hex.EncodeToString(sig), strings.Repeat("A", 88),
		// a BIP137 segwit header (39): Electron Cash refuses it
		"J8/QrVjKwedMGBM602k3BvHQIpJnwLJy+95S3TJJdGr0IG5NapEF7AYasBgt6MJAo3hEcWDwtSDg+K14kyjMrzo="} {
		if s.VerifyMessage(script, bad, "walletd") {
			t.Errorf("VerifyMessage(%q) = true", bad)
		}
	}
	if s.VerifyMessage(script[:24], cases[0].want, "walletd") {
		t.Error("VerifyMessage with a non-P2PKH script")
	}
	if got := hex.EncodeToString(MessageHash("")); len(got) != 64 {
		t.Errorf("MessageHash = %s", got)
	}
}
