package params

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	bchcfg "github.com/gcash/bchd/chaincfg"
	"github.com/gcash/bchutil"

	"github.com/walletd/walletd/internal/vectors"
)

func mustBCH(t testing.TB, name string) *Network {
	t.Helper()
	n, err := BCH(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// vectorNet is the vectors network whose values a BCH network shares:
// Electron Cash's TestNet4, ScaleNet and ChipNet only change the chain.
func vectorNet(name string) string {
	switch name {
	case "testnet4", "scalenet", "chipnet":
		return "testnet"
	}
	return name
}

func TestBCHNetworks(t *testing.T) {
	type want struct {
		prefix         string
		p2pkh, p2sh    byte
		wif            byte
		xpub, xprv     string
		genesis        string
		node           *bchcfg.Params
		defaultPortSet bool
	}
	main := want{"bitcoincash", 0, 5, 0x80, "0488b21e", "0488ade4",
		"000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", &bchcfg.MainNetParams, true}
	test := want{"bchtest", 111, 196, 0xef, "043587cf", "04358394",
		"000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943", &bchcfg.TestNet3Params, true}
	t4 := test
	t4.genesis, t4.node = "000000001dd410c49a788668ce26751718cc797474d3152a5fc073dd44fd9f7b", &bchcfg.TestNet4Params
	chip := t4
	chip.node = &bchcfg.ChipNetParams
	scale := test
	scale.genesis, scale.node, scale.defaultPortSet = "00000000e6453dc2dfe1ffa19023f86002eb11dbb8e87d0291a4599f0430be52", nil, false
	reg := test
	reg.prefix, reg.node = "bchreg", &bchcfg.RegressionNetParams
	reg.genesis = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
	cases := map[string]want{"mainnet": main, "testnet": test, "testnet4": t4, "scalenet": scale,
		"chipnet": chip, "regtest": reg}
	if got := BCHNetworks(); len(got) != len(cases) {
		t.Fatalf("BCHNetworks = %v", got)
	}
	for _, name := range BCHNetworks() {
		w, ok := cases[name]
		if !ok {
			t.Fatalf("unexpected network %q", name)
		}
		b := mustBCH(t, " "+strings.ToUpper(name)+" ")
		n := b
		if n.Coin != "BCH" || n.Name != name || n.String() != "BCH "+name || b.CashAddr() == nil {
			t.Errorf("%s: coin/name %q %q", name, n.Coin, n.Name)
		}
		if n.URIScheme != w.prefix || b.CashAddr().Prefix() != w.prefix {
			t.Errorf("%s: URI scheme %q, prefix %q, want %q", name, n.URIScheme, b.CashAddr().Prefix(), w.prefix)
		}
		if n.P2PKHAddrID != w.p2pkh || n.P2SHAddrID != w.p2sh || n.WIFPrefix != w.wif || n.Bech32HRP != "" {
			t.Errorf("%s: bytes %d %d %#x %q", name, n.P2PKHAddrID, n.P2SHAddrID, n.WIFPrefix, n.Bech32HRP)
		}
		if n.MessageMagic != "\x18Bitcoin Signed Message:\n" || n.WIFBase != n.WIFPrefix ||
			len(n.WIFScriptTypes) != 2 || n.WIFScriptTypes["p2pkh"] != 0 || n.WIFScriptTypes["p2sh"] != 5 {
			t.Errorf("%s: magic %q, WIF base %#x, types %v", name, n.MessageMagic, n.WIFBase, n.WIFScriptTypes)
		}
		if n.BIP44CoinType != 145 {
			t.Errorf("%s: coin type %d, want 145 on every network", name, n.BIP44CoinType)
		}
		if len(n.HD) != 1 || n.HD[0].ScriptType != P2PKH ||
			hex.EncodeToString(n.HD[0].Public[:]) != w.xpub || hex.EncodeToString(n.HD[0].Private[:]) != w.xprv {
			t.Errorf("%s: HD %+v", name, n.HD)
		}
		if _, ok := n.HDVersionFor(P2WPKH); ok {
			t.Errorf("%s: has segwit HD versions", name)
		}
		c := n.Chain
		if c.GenesisHash.String() != w.genesis {
			t.Errorf("%s: genesis %s, want %s", name, c.GenesisHash, w.genesis)
		}
		if w.node != nil {
			if *c.GenesisHash != chainhash.Hash(*w.node.GenesisHash) || uint32(c.Net) != uint32(w.node.Net) ||
				c.DefaultPort != w.node.DefaultPort {
				t.Errorf("%s: chain differs from bchd's: %s %v %s", name, c.GenesisHash, c.Net, c.DefaultPort)
			}
			if w.node.CashAddressPrefix != w.prefix || w.node.LegacyPubKeyHashAddrID != w.p2pkh ||
				w.node.LegacyScriptHashAddrID != w.p2sh || w.node.PrivateKeyID != w.wif {
				t.Errorf("%s: bchd disagrees with Electron Cash on prefix or bytes", name)
			}
		}
		if (c.DefaultPort != "") != w.defaultPortSet {
			t.Errorf("%s: default port %q", name, c.DefaultPort)
		}
		if c.PubKeyHashAddrID != w.p2pkh || c.ScriptHashAddrID != w.p2sh || c.PrivateKeyID != w.wif ||
			c.Bech32HRPSegwit != "" || c.HDCoinType != 145 || c.GenesisBlock != nil {
			t.Errorf("%s: chain params %+v", name, c)
		}
	}
	for _, bad := range []string{"", "simnet", "signet", "testnet3", "bchtest"} {
		if _, err := BCH(bad); !errors.Is(err, ErrUnknownNetwork) {
			t.Errorf("BCH(%q) = %v, want ErrUnknownNetwork", bad, err)
		}
	}
	// Fresh values: changing one network does not change the next one.
	a := mustBCH(t, "mainnet")
	a.HD[0].Public[0] = 0xff
	if mustBCH(t, "mainnet").HD[0].Public[0] == 0xff {
		t.Error("BCH returns shared HD slices")
	}
}

// TestBCHVectorAddresses checks every address of every Electron Cash wallet
// in all its forms: the codec decodes each form to one script and encodes
// that script back to each form.
func TestBCHVectorAddresses(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range BCHNetworks() {
		nv := v.Networks[vectorNet(name)]
		b := mustBCH(t, name)
		c := b.CashAddr()
		count := 0
		for _, w := range nv.Wallets {
			chains := []struct {
				full, legacy, bare, token []string
			}{
				{w.Receiving, w.ReceivingLegacy, w.ReceivingBare, w.ReceivingToken},
				{w.Change, w.ChangeLegacy, nil, nil},
			}
			for _, ch := range chains {
				if len(ch.legacy) != len(ch.full) || (ch.bare != nil && len(ch.bare) != len(ch.full)) ||
					(ch.token != nil && len(ch.token) != len(ch.full)) {
					t.Fatalf("%s/%s: vectors have unequal form lists", name, w.Label)
				}
				for i, full := range ch.full {
					count++
					script, err := c.Decode(full)
					if err != nil {
						t.Fatalf("%s/%s: Decode(%s): %v", name, w.Label, full, err)
					}
					forms := []string{full, ch.legacy[i], strings.TrimPrefix(full, c.Prefix()+":"), strings.ToUpper(full)}
					if ch.bare != nil {
						forms = append(forms, ch.bare[i], ch.token[i])
					}
					for _, f := range forms {
						s2, err := c.Decode(f)
						if err != nil || !bytes.Equal(s2, script) {
							t.Errorf("%s/%s: Decode(%s) = %x, %v; want %x", name, w.Label, f, s2, err, script)
						}
						if n, err := c.Normalize(f); err != nil || n != full {
							t.Errorf("%s/%s: Normalize(%s) = %q, %v; want %s", name, w.Label, f, n, err, full)
						}
						if !b.ValidAddress(f) {
							t.Errorf("%s/%s: ValidAddress(%s) = false", name, w.Label, f)
						}
					}
					if got, err := c.Encode(script); err != nil || got != full {
						t.Errorf("%s/%s: Encode = %q, %v; want %s", name, w.Label, got, err, full)
					}
					if got, ok := b.AddressFromScript(script); !ok || got != strings.TrimPrefix(full, c.Prefix()+":") {
						t.Errorf("%s/%s: AddressFromScript = %q, %v", name, w.Label, got, ok)
					}
					if got, err := c.Legacy(script); err != nil || got != ch.legacy[i] {
						t.Errorf("%s/%s: Legacy = %q, %v; want %s", name, w.Label, got, err, ch.legacy[i])
					}
					if ch.bare == nil {
						continue
					}
					if got, err := c.Bare(script); err != nil || got != ch.bare[i] {
						t.Errorf("%s/%s: Bare = %q, %v; want %s", name, w.Label, got, err, ch.bare[i])
					}
					if got, err := c.Token(script); err != nil || got != ch.token[i] {
						t.Errorf("%s/%s: Token = %q, %v; want %s", name, w.Label, got, err, ch.token[i])
					}
					if !c.IsTokenAware(ch.token[i]) || c.IsTokenAware(full) || c.IsTokenAware(ch.legacy[i]) {
						t.Errorf("%s/%s: IsTokenAware wrong for %s", name, w.Label, full)
					}
					a, err := c.Parse(ch.token[i])
					if err != nil || !a.TokenAware || a.Legacy {
						t.Errorf("%s/%s: Parse(token) = %+v, %v", name, w.Label, a, err)
					}
				}
			}
			for i, st := range w.ReceivingScriptTypes {
				a, err := c.Parse(w.Receiving[i])
				wantKind := map[string]CashKind{"p2pkh": CashKindP2PKH, "p2sh": CashKindP2SH}[st]
				if err != nil || a.Kind != wantKind {
					t.Errorf("%s/%s: kind of %s = %v, want %s", name, w.Label, w.Receiving[i], a.Kind, st)
				}
			}
		}
		if count < 50 {
			t.Fatalf("%s: only %d addresses checked", name, count)
		}
	}
}

// TestBCHValidateAddressVectors is Electron Cash's Address.is_valid on every
// input of the vectors, on every network (testnet4, scalenet and chipnet
// answer as testnet).
func TestBCHValidateAddressVectors(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range BCHNetworks() {
		nv := v.Networks[vectorNet(name)]
		if len(nv.ValidateAddress) < 15 {
			t.Fatalf("%s: %d validateaddress vectors", name, len(nv.ValidateAddress))
		}
		b := mustBCH(t, name)
		valid := 0
		for in, want := range nv.ValidateAddress {
			if got := b.ValidAddress(in); got != want {
				t.Errorf("%s: ValidAddress(%q) = %v, want %v", name, in, got, want)
			}
			_, err := b.PkScript(in)
			if (err == nil) != want {
				t.Errorf("%s: PkScript(%q) error %v", name, in, err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidAddress) {
					t.Errorf("%s: PkScript(%q) = %v, want ErrInvalidAddress", name, in, err)
				}
				if in != "" && strings.Contains(err.Error(), in) {
					t.Errorf("%s: error %q repeats the input", name, err)
				}
			} else {
				valid++
			}
		}
		if valid == 0 || valid == len(nv.ValidateAddress) {
			t.Fatalf("%s: %d of %d valid: vectors lack one side", name, valid, len(nv.ValidateAddress))
		}
	}
}

// TestCashAddrChecksumError: a cashaddr whose checksum is wrong is reported
// as such (Electron Cash's "invalid checksum in address"); other invalid
// strings are not.
func TestCashAddrChecksumError(t *testing.T) {
	c := mustBCH(t, "mainnet").CashAddr()
	for _, s := range []string{
		"bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawa",
		"qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawa",
		"QPDHGCTL8GGYU7M77TPXF2AJ7WG4CGZX2C7LL9FAWA",
		"bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c6dmzt2fq", // a bchtest address under our prefix
	} {
		_, err := c.Decode(s)
		if !errors.Is(err, ErrInvalidAddress) || !errors.Is(err, ErrAddressChecksum) {
			t.Errorf("Decode(%s) = %v, want invalid checksum", s, err)
		}
	}
	for _, s := range []string{
		"19LZuju5iiYtRbnVvUs6fg3rF2iYSL4r7p",                     // base58, bad checksum
		"bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7lL9FAWU", // mixed case
		"bchtest:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c6dmzt2fq",     // another prefix
		"morXCnz4Xjz9CiG7e3qUVbGB72KFJYsVWS",                     // another network's base58
		"x", "", "bitcoincash:", "bitcoincash:qqqqqqq", " qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu",
		"bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu\n", "qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawü",
	} {
		_, err := c.Decode(s)
		if !errors.Is(err, ErrInvalidAddress) || errors.Is(err, ErrAddressChecksum) {
			t.Errorf("Decode(%q) = %v, want invalid but not a checksum error", s, err)
		}
	}
}

// TestCashAddrVersionByte covers the version byte rules of cashaddr.decode
// and Address: sizes other than 20/32 bytes, P2PKH with 32 bytes, unknown
// types and the reserved bit are refused; P2SH32 in both encodings is
// accepted and round-trips.
func TestCashAddrVersionByte(t *testing.T) {
	c := mustBCH(t, "regtest").CashAddr()
	h20 := bytes.Repeat([]byte{0x11}, 20)
	h32 := bytes.Repeat([]byte{0x22}, 32)
	cases := []struct {
		typ   byte
		hash  []byte
		valid bool
	}{
		{0, h20, true}, {1, h20, true}, {2, h20, true}, {3, h20, true},
		{1, h32, true}, {3, h32, true},
		{0, h32, false}, {2, h32, false}, // P2PKH is 20 bytes only
		{1, bytes.Repeat([]byte{1}, 24), false}, {1, bytes.Repeat([]byte{1}, 28), false},
		{1, bytes.Repeat([]byte{1}, 40), false}, {1, bytes.Repeat([]byte{1}, 64), false},
		{4, h20, false}, {7, h20, false}, {15, h20, false}, // unknown types
		{16, h20, false}, // reserved bit set
	}
	for _, tc := range cases {
		s := cashAddrEncode("bchreg", tc.typ, tc.hash)
		a, err := c.Parse(s)
		if (err == nil) != tc.valid {
			t.Errorf("type %d, %d bytes: Parse = %+v, %v; want valid=%v", tc.typ, len(tc.hash), a, err, tc.valid)
			continue
		}
		if !tc.valid {
			continue
		}
		if !bytes.Equal(a.Hash, tc.hash) || a.TokenAware != (tc.typ >= 2) || (a.Kind == CashKindP2SH) != (tc.typ%2 == 1) {
			t.Errorf("type %d: Parse = %+v", tc.typ, a)
		}
		script := a.Script()
		var tokenForm, plainForm string
		if tokenForm, err = c.Token(script); err != nil {
			t.Fatal(err)
		}
		if plainForm, err = c.Bare(script); err != nil {
			t.Fatal(err)
		}
		if want := "bchreg:" + s; tc.typ >= 2 && tokenForm != want || tc.typ < 2 && plainForm != s {
			t.Errorf("type %d: re-encoded as %s / %s, want %s", tc.typ, plainForm, tokenForm, s)
		}
	}
	// P2SH32 script shape, and its legacy (33-byte base58) form.
	a, err := c.Parse(cashAddrEncode("bchreg", 1, h32))
	if err != nil {
		t.Fatal(err)
	}
	script := a.Script()
	if len(script) != 35 || script[0] != 0xaa || script[1] != 32 || script[34] != 0x87 {
		t.Fatalf("P2SH32 script %x", script)
	}
	legacy, err := c.Legacy(script)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := c.Decode(legacy); err != nil || !bytes.Equal(s2, script) {
		t.Errorf("legacy P2SH32 %s: %x, %v", legacy, s2, err)
	}
	// Non-address scripts have no address.
	for _, s := range [][]byte{nil, {0x6a, 0x01, 0x00}, append([]byte{0xef}, p2pkhScript(h20)...),
		append(p2pkhScript(h20), 0x00), p2pkhScript(h20)[:24]} {
		if _, err := c.Encode(s); !errors.Is(err, ErrUnsupportedScript) {
			t.Errorf("Encode(%x) = %v, want ErrUnsupportedScript", s, err)
		}
	}
}

// TestCashAddrPadding: payloads whose 5-bit padding is not zero, or that
// carry a whole extra group, are refused although their checksum is right.
func TestCashAddrPadding(t *testing.T) {
	c := mustBCH(t, "mainnet").CashAddr()
	good := cashAddrEncode("bitcoincash", 0, bytes.Repeat([]byte{0x33}, 20))
	if !c.Valid(good) {
		t.Fatalf("%s invalid", good)
	}
	data := []byte{}
	for _, ch := range good[:len(good)-8] {
		data = append(data, byte(strings.IndexRune(cashCharset, ch)))
	}
	reencode := func(values []byte) string {
		all := []byte{}
		for i := 0; i < len("bitcoincash"); i++ {
			all = append(all, "bitcoincash"[i]&0x1f)
		}
		all = append(all, 0)
		all = append(all, values...)
		all = append(all, 0, 0, 0, 0, 0, 0, 0, 0)
		mod := cashPolymod(all)
		var b strings.Builder
		for _, v := range values {
			b.WriteByte(cashCharset[v])
		}
		for i := 0; i < 8; i++ {
			b.WriteByte(cashCharset[(mod>>(5*(7-i)))&31])
		}
		return b.String()
	}
	if reencode(data) != good {
		t.Fatal("test encoder disagrees")
	}
	nonZero := append([]byte(nil), data...)
	nonZero[len(nonZero)-1] |= 1 // 168 bits in 34 groups: 2 padding bits
	extra := append(append([]byte(nil), data...), 0)
	for _, s := range []string{reencode(nonZero), reencode(extra)} {
		if c.Valid(s) {
			t.Errorf("%s accepted", s)
		}
	}
}

// TestCashAddrAgreesWithBchutil: for plain 20-byte addresses, the spec
// encoder used for token-aware and P2SH32 forms gives bchutil's strings, and
// bchutil verifies the checksum of the token-aware forms it cannot encode.
func TestCashAddrAgreesWithBchutil(t *testing.T) {
	node := &bchcfg.Params{CashAddressPrefix: "bchtest"}
	for i := 0; i < 200; i++ {
		h := make([]byte, 20)
		if _, err := rand.Read(h); err != nil {
			t.Fatal(err)
		}
		pkh, _ := bchutil.NewAddressPubKeyHash(h, node)
		sh, _ := bchutil.NewAddressScriptHashFromHash(h, node)
		if got := cashAddrEncode("bchtest", 0, h); got != pkh.EncodeAddress() {
			t.Fatalf("P2PKH %x: %s, bchutil %s", h, got, pkh.EncodeAddress())
		}
		if got := cashAddrEncode("bchtest", 1, h); got != sh.EncodeAddress() {
			t.Fatalf("P2SH %x: %s, bchutil %s", h, got, sh.EncodeAddress())
		}
		for typ := byte(2); typ <= 3; typ++ {
			if _, _, err := bchutil.DecodeCashAddress("bchtest:" + cashAddrEncode("bchtest", typ, h)); err != nil {
				t.Fatalf("bchutil rejects token-aware type %d: %v", typ, err)
			}
		}
	}
}

func TestBCHPubKeyAddress(t *testing.T) {
	b := mustBCH(t, "mainnet")
	// Electron Cash's first imported-wif key (compressed) of the vectors.
	pub, _ := hex.DecodeString("03" + strings.Repeat("00", 32))
	if _, _, err := b.PubKeyAddress(P2PKH, pub[:20]); !errors.Is(err, ErrUnsupportedScript) {
		t.Errorf("short key: %v", err)
	}
	if _, _, err := b.PubKeyAddress(P2WPKH, pub); !errors.Is(err, ErrUnsupportedScript) {
		t.Errorf("segwit key on BCH: %v", err)
	}
	addr, script, err := b.PubKeyAddress(P2PKH, pub)
	if err != nil || !strings.HasPrefix(addr, "q") || len(script) != 25 {
		t.Fatalf("PubKeyAddress = %s %x %v", addr, script, err)
	}
	if s2, err := b.PkScript(addr); err != nil || !bytes.Equal(s2, script) {
		t.Errorf("round trip %x %v", s2, err)
	}
}

// FuzzCashAddrDecode: decoding never panics, an accepted string's canonical
// form decodes to the same script, and errors never repeat the input.
func FuzzCashAddrDecode(f *testing.F) {
	for _, s := range []string{
		"bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu", "qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu",
		"bitcoincash:zpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2ce4vm8m30", "19LZuju5iiYtRbnVvUs6fg3rF2iYSL4r7o",
		"bitcoincash:pd2c7yga5sn85h8ddfz9p6488hy2wua46k8jup9043zwmzg95x6454zpkt0dp", "", "qqqqqqqq", ":", "BITCOINCASH:",
	} {
		f.Add(s)
	}
	c := NewCashAddr("bitcoincash", 0, 5)
	// The fixed text of the errors (the prefix, "invalid address"…): an
	// input that is part of it is not echoed.
	var fixed strings.Builder
	for _, s := range []string{"0", "bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawv", strings.Repeat("q", 200)} {
		_, err := c.Decode(s)
		fixed.WriteString(err.Error() + "\n")
	}
	f.Fuzz(func(t *testing.T, s string) {
		script, err := c.Decode(s)
		if err != nil {
			if len(s) > 3 && strings.Contains(err.Error(), s) && !strings.Contains(fixed.String(), s) {
				t.Fatalf("error %q repeats the input", err)
			}
			return
		}
		full, err := c.Normalize(s)
		if err != nil {
			t.Fatalf("Normalize(%q): %v", s, err)
		}
		s2, err := c.Decode(full)
		if err != nil || !bytes.Equal(s2, script) {
			t.Fatalf("%q -> %q -> %x, %v; want %x", s, full, s2, err, script)
		}
		for _, enc := range []func([]byte) (string, error){c.Bare, c.Token, c.Legacy} {
			form, err := enc(script)
			if err != nil {
				t.Fatal(err)
			}
			if s3, err := c.Decode(form); err != nil || !bytes.Equal(s3, script) {
				t.Fatalf("%q: form %q decodes to %x, %v", s, form, s3, err)
			}
		}
	})
}
