package params

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
)

func mustBTC(t *testing.T, name string) *Network {
	t.Helper()
	n, err := BTC(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBTCNetworks(t *testing.T) {
	tests := []struct {
		name           string
		hrp            string
		p2pkh, p2sh    byte
		wif            byte
		xpub, zprv     string
		chainName      string
		bip44CoinType  uint32
		acceptedAsName []string
	}{
		{"mainnet", "bc", 0x00, 0x05, 0x80, "0488b21e", "04b2430c", "mainnet", 0, []string{"mainnet", " MainNet "}},
		{"testnet", "tb", 0x6f, 0xc4, 0xef, "043587cf", "045f18bc", "testnet3", 1, []string{"testnet"}},
		{"regtest", "bcrt", 0x6f, 0xc4, 0xef, "043587cf", "045f18bc", "regtest", 1, []string{"regtest"}},
		{"signet", "tb", 0x6f, 0xc4, 0xef, "043587cf", "045f18bc", "signet", 1, []string{"signet"}},
		{"simnet", "sb", 0x3f, 0x7b, 0x64, "043587cf", "045f18bc", "simnet", 1, []string{"simnet"}},
	}
	for _, tc := range tests {
		for _, alias := range tc.acceptedAsName {
			n := mustBTC(t, alias)
			if n.Name != tc.name || n.Coin != "BTC" || n.URIScheme != "bitcoin" {
				t.Errorf("%q: got %s %s %s", alias, n.Coin, n.Name, n.URIScheme)
			}
			if n.Bech32HRP != tc.hrp || n.P2PKHAddrID != tc.p2pkh || n.P2SHAddrID != tc.p2sh || n.WIFPrefix != tc.wif {
				t.Errorf("%s: bytes %q %x %x %x", tc.name, n.Bech32HRP, n.P2PKHAddrID, n.P2SHAddrID, n.WIFPrefix)
			}
			if n.Chain.Name != tc.chainName || n.BIP44CoinType != tc.bip44CoinType {
				t.Errorf("%s: chain %s coin type %d", tc.name, n.Chain.Name, n.BIP44CoinType)
			}
			v, ok := n.HDVersionFor(P2PKH)
			if !ok || hex.EncodeToString(v.Public[:]) != tc.xpub {
				t.Errorf("%s: p2pkh version %x", tc.name, v.Public)
			}
			v, ok = n.HDVersionFor(P2WPKH)
			if !ok || hex.EncodeToString(v.Private[:]) != tc.zprv {
				t.Errorf("%s: p2wpkh private version %x", tc.name, v.Private)
			}
			if n.String() != "BTC "+tc.name {
				t.Errorf("String = %q", n.String())
			}
		}
	}
	if got := strings.Join(BTCNetworks(), ","); got != "mainnet,testnet,regtest,signet,simnet" {
		t.Errorf("BTCNetworks = %s", got)
	}
}

func TestBTCUnknownNetwork(t *testing.T) {
	for _, name := range []string{"", "main", "testnet4", "litecoin"} {
		n, err := BTC(name)
		if err == nil || n != nil {
			t.Fatalf("BTC(%q) = %v, %v", name, n, err)
		}
		if !errors.Is(err, ErrUnknownNetwork) {
			t.Errorf("BTC(%q) error %v does not wrap ErrUnknownNetwork", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "\""+name+"\"") || !strings.Contains(msg, "mainnet, testnet, regtest, signet, simnet") {
			t.Errorf("BTC(%q) error %q does not name the network and the accepted names", name, msg)
		}
	}
}

func TestHDVersionTables(t *testing.T) {
	cases := []struct {
		net     string
		version string
		st      ScriptType
		private bool
		ok      bool
	}{
		{"mainnet", "0488b21e", P2PKH, false, true},
		{"mainnet", "0488ade4", P2PKH, true, true},
		{"mainnet", "049d7cb2", P2WPKHP2SH, false, true},
		{"mainnet", "049d7878", P2WPKHP2SH, true, true},
		{"mainnet", "04b24746", P2WPKH, false, true},
		{"mainnet", "04b2430c", P2WPKH, true, true},
		{"mainnet", "02aa7ed3", P2WSH, false, true},
		{"mainnet", "0295b005", P2WSHP2SH, true, true},
		{"mainnet", "043587cf", 0, false, false},
		{"regtest", "043587cf", P2PKH, false, true},
		{"regtest", "04358394", P2PKH, true, true},
		{"regtest", "044a5262", P2WPKHP2SH, false, true},
		{"regtest", "044a4e28", P2WPKHP2SH, true, true},
		{"regtest", "045f1cf6", P2WPKH, false, true},
		{"regtest", "045f18bc", P2WPKH, true, true},
		{"regtest", "0488b21e", 0, false, false},
		{"signet", "045f1cf6", P2WPKH, false, true},
		{"testnet", "045f1cf6", P2WPKH, false, true},
		{"simnet", "043587cf", P2PKH, false, true},
		{"simnet", "0420bd3a", 0, false, false}, // btcd's spub: not an Electrum key
	}
	for _, tc := range cases {
		n := mustBTC(t, tc.net)
		b, _ := hex.DecodeString(tc.version)
		var v [4]byte
		copy(v[:], b)
		st, priv, ok := n.LookupHDVersion(v)
		if st != tc.st || priv != tc.private || ok != tc.ok {
			t.Errorf("%s %s: got %v %v %v", tc.net, tc.version, st, priv, ok)
		}
	}
}

func TestScriptTypeNames(t *testing.T) {
	for st, name := range map[ScriptType]string{P2PKH: "p2pkh", P2WPKHP2SH: "p2wpkh-p2sh", P2WPKH: "p2wpkh",
		P2WSHP2SH: "p2wsh-p2sh", P2WSH: "p2wsh", ScriptUnknown: "unknown", ScriptType(99): "unknown"} {
		if st.String() != name {
			t.Errorf("%d.String() = %s, want %s", int(st), st.String(), name)
		}
		if st == ScriptUnknown || st == ScriptType(99) {
			if _, err := ParseScriptType(name); !errors.Is(err, ErrUnsupportedScript) {
				t.Errorf("ParseScriptType(%q) err %v", name, err)
			}
			continue
		}
		got, err := ParseScriptType(name)
		if err != nil || got != st {
			t.Errorf("ParseScriptType(%q) = %v, %v", name, got, err)
		}
	}
	if st, err := ParseScriptType("standard"); err != nil || st != P2PKH {
		t.Errorf("standard: %v %v", st, err)
	}
	if !P2WPKH.SingleKey() || P2WSH.SingleKey() || P2PKH.Segwit() || !P2WPKHP2SH.Segwit() {
		t.Error("SingleKey/Segwit wrong")
	}
}

// Address vectors made with Electrum 4.3.4 (see coins/keys/testdata for the
// exhaustive Electrum-generated table run by the keys tests).
func TestValidAddress(t *testing.T) {
	const (
		mainP2PKH   = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
		mainP2SH    = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
		mainP2WPKH  = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
		mainP2WSH   = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"
		mainTaproot = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
		testP2PKH   = "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"
		testP2SH    = "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc"
		testP2WPKH  = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
		testP2WSH   = "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"
		testTaproot = "tb1pqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0slua5fd"
		regP2WPKH   = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
		// BIP350 test vector: witness v16 program of 2 bytes, valid for Electrum
		mainV16 = "BC1SW50QGDZ25J"
	)
	cases := []struct {
		net  string
		addr string
		ok   bool
	}{
		{"mainnet", mainP2PKH, true},
		{"mainnet", mainP2SH, true},
		{"mainnet", mainP2WPKH, true},
		{"mainnet", strings.ToUpper(mainP2WPKH), true},
		{"mainnet", mainP2WSH, true},
		{"mainnet", mainTaproot, true},
		{"mainnet", mainV16, true},
		{"mainnet", strings.ToLower(mainV16), true},
		{"mainnet", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", true}, // v2, BIP350
		{"mainnet", "bc1Qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", false},
		{"mainnet", " " + mainP2WPKH, false},
		{"mainnet", mainP2WPKH + "\n", false},
		{"mainnet", mainP2PKH + " ", false},
		{"mainnet", testP2PKH, false},
		{"mainnet", testP2WPKH, false},
		{"mainnet", "", false},
		{"mainnet", "garbage", false},
		{"mainnet", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", false}, // checksum
		{"mainnet", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", true},
		{"mainnet", "bc1qr508d6qejxtdg4y5r3zarvaryvaxxpcs", false},                           // v0 16-byte program
		{"mainnet", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", false}, // v1 with bech32 checksum
		{"mainnet", "02" + strings.Repeat("ab", 32), false},                                  // raw pubkey hex
		{"testnet", testP2PKH, true},
		{"testnet", testP2SH, true},
		{"testnet", testP2WPKH, true},
		{"testnet", testP2WSH, true},
		{"testnet", testTaproot, true},
		{"testnet", regP2WPKH, false},
		{"testnet", mainP2PKH, false},
		{"regtest", testP2PKH, true}, // Electrum's regtest shares testnet's base58 bytes
		{"regtest", testP2SH, true},
		{"regtest", regP2WPKH, true},
		{"regtest", strings.ToUpper(regP2WPKH), true},
		{"regtest", testP2WPKH, false}, // tb1 is not regtest
		{"regtest", mainP2PKH, false},
		{"regtest", mainP2WPKH, false},
		{"signet", testP2WPKH, true},
		{"signet", testP2PKH, true},
		{"signet", regP2WPKH, false},
		{"simnet", testP2PKH, false},
	}
	for _, tc := range cases {
		n := mustBTC(t, tc.net)
		if got := n.ValidAddress(tc.addr); got != tc.ok {
			t.Errorf("%s: ValidAddress(%q) = %v, want %v", tc.net, tc.addr, got, tc.ok)
		}
		a, err := n.DecodeAddress(tc.addr)
		if tc.ok != (err == nil) {
			t.Errorf("%s: DecodeAddress(%q) err %v", tc.net, tc.addr, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidAddress) {
				t.Errorf("%s: DecodeAddress(%q) error %v does not wrap ErrInvalidAddress", tc.net, tc.addr, err)
			}
			if tc.addr != "" && strings.Contains(err.Error(), tc.addr) {
				t.Errorf("error echoes input: %v", err)
			}
			if _, err := n.PkScript(tc.addr); !errors.Is(err, ErrInvalidAddress) {
				t.Errorf("PkScript(%q) err %v", tc.addr, err)
			}
			continue
		}
		if !a.IsForNet(n.Chain) {
			t.Errorf("%s: %q decoded IsForNet false", tc.net, tc.addr)
		}
		if !strings.EqualFold(a.EncodeAddress(), tc.addr) {
			t.Errorf("%s: %q re-encodes as %q", tc.net, tc.addr, a.EncodeAddress())
		}
		script, err := n.PkScript(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		back, ok := n.AddressFromScript(script)
		if !ok || !strings.EqualFold(back, tc.addr) {
			t.Errorf("%s: AddressFromScript(PkScript(%q)) = %q, %v", tc.net, tc.addr, back, ok)
		}
	}
}

func TestDecodeAddressTypes(t *testing.T) {
	n := mustBTC(t, "mainnet")
	check := func(s string, want any) {
		t.Helper()
		a, err := n.DecodeAddress(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		switch want.(type) {
		case *address.AddressPubKeyHash:
			_, ok := a.(*address.AddressPubKeyHash)
			if !ok {
				t.Errorf("%s: %T", s, a)
			}
		case *address.AddressScriptHash:
			if _, ok := a.(*address.AddressScriptHash); !ok {
				t.Errorf("%s: %T", s, a)
			}
		case *address.AddressWitnessPubKeyHash:
			if _, ok := a.(*address.AddressWitnessPubKeyHash); !ok {
				t.Errorf("%s: %T", s, a)
			}
		case *address.AddressTaproot:
			if _, ok := a.(*address.AddressTaproot); !ok {
				t.Errorf("%s: %T", s, a)
			}
		case *WitnessAddress:
			w, ok := a.(*WitnessAddress)
			if !ok {
				t.Fatalf("%s: %T", s, a)
			}
			if w.WitnessVersion() == 0 || len(w.WitnessProgram()) == 0 || w.String() != strings.ToLower(s) ||
				len(w.ScriptAddress()) != len(w.WitnessProgram()) {
				t.Errorf("%s: witness address %v %x", s, w.WitnessVersion(), w.WitnessProgram())
			}
		}
	}
	check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", (*address.AddressPubKeyHash)(nil))
	check("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", (*address.AddressScriptHash)(nil))
	check("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", (*address.AddressWitnessPubKeyHash)(nil))
	check("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", (*address.AddressTaproot)(nil))
	check("BC1SW50QGDZ25J", (*WitnessAddress)(nil))
	check("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", (*WitnessAddress)(nil))
}

func TestAddressFromScript(t *testing.T) {
	n := mustBTC(t, "regtest")
	h20 := strings.Repeat("11", 20)
	cases := []struct {
		script string
		want   string // "" = not an address
	}{
		{"76a914" + h20 + "88ac", "mh5CE8Nbj38iND267s4XnvhSmhDW7yWc6Q"},
		{"a914" + h20 + "87", "2MtoTvMi65NXBt3sTCXNd1aqKGa7gXsX8CC"},
		{"0014" + h20, "bcrt1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3lgth6c"},
		{"76a9144c" + h20, ""},                              // truncated
		{"76a94c14" + h20 + "88ac", ""},                     // non-minimal push
		{"0015" + strings.Repeat("11", 21), ""},             // v0 with 21 bytes
		{"5129" + strings.Repeat("11", 41), ""},             // 41-byte program
		{"0014" + h20 + "00", ""},                           // trailing byte
		{"6a0401020304", ""},                                // OP_RETURN
		{"21" + "02" + strings.Repeat("ab", 32) + "ac", ""}, // bare pubkey
		{"", ""},
		{"00", ""},
	}
	for _, tc := range cases {
		b, _ := hex.DecodeString(tc.script)
		got, ok := n.AddressFromScript(b)
		if ok != (tc.want != "") {
			t.Errorf("AddressFromScript(%s) ok=%v (%s)", tc.script, ok, got)
			continue
		}
		if ok && tc.want != "" && got != tc.want {
			t.Errorf("AddressFromScript(%s) = %s, want %s", tc.script, got, tc.want)
		}
	}
}

func TestPubKeyAddress(t *testing.T) {
	n := mustBTC(t, "mainnet")
	// BIP143 / BIP84 style key: 0279be66... (generator point G)
	g := "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	gu := "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
	pub, _ := hex.DecodeString(g)
	upub, _ := hex.DecodeString(gu)
	for _, tc := range []struct {
		st   ScriptType
		pub  []byte
		want string
	}{
		{P2PKH, pub, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{P2PKH, upub, "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"},
		{P2WPKH, pub, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{P2WPKHP2SH, pub, "3JvL6Ymt8MVWiCNHC7oWU6nLeHNJKLZGLN"},
	} {
		addr, script, err := n.PubKeyAddress(tc.st, tc.pub)
		if err != nil || addr != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.st, addr, err, tc.want)
			continue
		}
		if back, ok := n.AddressFromScript(script); !ok || back != addr {
			t.Errorf("%s: script round trip %s", tc.st, back)
		}
	}
	if _, _, err := n.PubKeyAddress(P2WPKH, upub); !errors.Is(err, ErrUnsupportedScript) {
		t.Errorf("uncompressed p2wpkh: %v", err)
	}
	if _, _, err := n.PubKeyAddress(P2WSH, pub); !errors.Is(err, ErrUnsupportedScript) {
		t.Errorf("p2wsh single key: %v", err)
	}
}

// TestLongAddressRejectedCheaply: an address string past the longest
// address (90 characters) is refused without decoding: a 1 MB string
// allocates nothing (base58-decoding it used to cost 20 s of CPU), and a
// base58 string past 35 characters is not decoded either.
func TestLongAddressRejectedCheaply(t *testing.T) {
	n, err := BTC("mainnet")
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("z", 1<<20)
	if n.ValidAddress(huge) {
		t.Fatal("1 MB string is an address")
	}
	if _, err := n.PkScript(huge); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("PkScript: %v", err)
	}
	if _, err := n.DecodeAddress(huge); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("DecodeAddress: %v", err)
	}
	if a := testing.AllocsPerRun(20, func() { n.ValidAddress(huge) }); a != 0 {
		t.Errorf("ValidAddress of a 1 MB string allocates %v times", a)
	}
	long58 := strings.Repeat("1", 36)
	if a := testing.AllocsPerRun(20, func() { n.ValidAddress(long58) }); a != 0 {
		t.Errorf("a 36-character base58 string was decoded (%v allocations)", a)
	}
	// The longest real addresses still pass: a 35-character base58
	// address and the longest bech32m one (witness v16, 40-byte program).
	script := append([]byte{0x60, 40}, bytes.Repeat([]byte{0xab}, 40)...)
	longest, ok := n.AddressFromScript(script)
	if !ok || len(longest) != 74 {
		t.Fatalf("witness v16 address %q", longest)
	}
	for _, a := range []string{longest, strings.ToUpper(longest)} {
		if !n.ValidAddress(a) {
			t.Errorf("%s refused", a)
		}
	}
	tn, _ := BTC("testnet") // testnet P2SH addresses ("2N…") have 35 characters
	p2sh, _ := tn.AddressFromScript(append(append([]byte{0xa9, 20}, bytes.Repeat([]byte{0xff}, 20)...), 0x87))
	if len(p2sh) != MaxBase58AddressLen || !tn.ValidAddress(p2sh) {
		t.Errorf("the longest base58 address %q (%d characters) refused", p2sh, len(p2sh))
	}
}

// BenchmarkValidAddressHuge is ValidAddress of a 1 MB string.
func BenchmarkValidAddressHuge(b *testing.B) {
	n, _ := BTC("mainnet")
	huge := strings.Repeat("z", 1<<20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n.ValidAddress(huge)
	}
}
