package params

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func mustLTC(t *testing.T, name string) *Network {
	t.Helper()
	n, err := LTC(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLTCNetworkNames(t *testing.T) {
	for _, name := range []string{"mainnet", " Regtest ", "TESTNET"} {
		n := mustLTC(t, name)
		if n.Coin != "LTC" || n.URIScheme != "litecoin" || n.String() != "LTC "+strings.ToLower(strings.TrimSpace(name)) {
			t.Errorf("%q: %s %s", name, n, n.URIScheme)
		}
	}
	for _, name := range []string{"", "simnet", "signet", "testnet4", "bitcoin"} {
		if n, err := LTC(name); err == nil || n != nil || !errors.Is(err, ErrUnknownNetwork) ||
			!strings.Contains(err.Error(), "mainnet, testnet, regtest") {
			t.Errorf("LTC(%q) = %v, %v", name, n, err)
		}
	}
}

// A regtest MWEB address from litecoind 0.21.2.1 (getnewaddress "" mweb).
const regtestMWEB = "tmweb1qq0guwnau3tlf66xqjv4ejxusawgxrrdh9w835kkzk4q9fqk0wnxczqj4wp3hdaga8wlzrvvcuvueqgq76c0qjv3xty3r02p8klmvzjwua5083sz5"

func TestLTCRefusesMWEBClearly(t *testing.T) {
	n := mustLTC(t, "regtest")
	if n.ValidAddress(regtestMWEB) {
		t.Fatal("an MWEB address is a valid destination")
	}
	for _, a := range []string{regtestMWEB, strings.ToUpper(regtestMWEB)} {
		_, err := n.PkScript(a)
		if !errors.Is(err, ErrInvalidAddress) || !errors.Is(err, ErrMWEBAddress) || !strings.Contains(err.Error(), "MWEB") {
			t.Fatalf("PkScript(MWEB) = %v", err)
		}
		if _, err := n.DecodeAddress(a); !errors.Is(err, ErrMWEBAddress) {
			t.Fatalf("DecodeAddress(MWEB) = %v", err)
		}
	}
	// Not an MWEB address: mixed case, another HRP, garbage.
	for _, a := range []string{"tmweb1QQ0guwnau3tlf66xqjv4ejxusawgxrrdh9w835kkzk4q9fqk0wnxczqj4wp3hdaga8wlzrvvcuvueqgq76c0qjv3xty3r02p8klmvzjwua5083sz5",
		"tmweb1qq", "ltcmweb1qq0guwnau3tlf66xqjv4ejxusawgxrrdh9w835kkzk4q9fqk0wnxczqj4wp3hdaga8wlzrvvcuvueqgq76c0qjv3xty3r02p8klmvzjwua5083sz5", "x"} {
		if _, err := n.PkScript(a); !errors.Is(err, ErrInvalidAddress) || errors.Is(err, ErrMWEBAddress) {
			t.Errorf("PkScript(%.16q…) = %v", a, err)
		}
	}
	if btc := mustBTC(t, "regtest"); btc.IsMWEBAddress(regtestMWEB) {
		t.Fatal("BTC has no MWEB")
	}
	if m := mustLTC(t, "mainnet"); m.MWEBHRP != "ltcmweb" || m.IsMWEBAddress(regtestMWEB) {
		t.Fatalf("mainnet MWEB HRP %q", m.MWEBHRP)
	}
}

func TestLTCMessageMagicAndWIF(t *testing.T) {
	n := mustLTC(t, "mainnet")
	if n.MessageMagic != "\x19Litecoin Signed Message:\n" || len(n.MessageMagic) != 26 {
		t.Fatalf("magic %q", n.MessageMagic)
	}
	if b := mustBTC(t, "mainnet"); b.MessageMagic != "\x18Bitcoin Signed Message:\n" {
		t.Fatalf("BTC magic %q", b.MessageMagic)
	}
	// Electrum-LTC WIF_SCRIPT_TYPES: p2pkh 48, p2sh 50 on top of WIF_PREFIX.
	for name, want := range map[string]byte{"p2pkh": 0xb0, "p2wpkh": 0x81, "p2wpkh-p2sh": 0x82, "p2sh": 0xb2} {
		if v, ok := n.WIFVersion(name); !ok || v != want {
			t.Errorf("WIFVersion(%s) = %#x %v, want %#x", name, v, ok, want)
		}
	}
	tn := mustLTC(t, "testnet")
	if v, ok := tn.WIFVersion("p2pkh"); !ok || v != 0xef {
		t.Errorf("testnet p2pkh WIF %#x", v)
	}
	if _, ok := n.WIFVersion("p2tr"); ok {
		t.Error("unknown WIF type accepted")
	}
}

// TestLTCScryptPoW: Litecoin's genesis header meets its target with scrypt,
// not with SHA-256d (its block hash).
func TestLTCScryptPoW(t *testing.T) {
	merkle, _ := chainhash.NewHashFromStr("97ddfbbae6be97fd6cdf3e7ca13232a3afff2353e29badfab7f73011edd4ced9")
	raw := headerBytes(t, 1, *merkle, 1317972665, 0x1e0ffff0, 2084524493)
	n := mustLTC(t, "mainnet")
	if got := chainhash.DoubleHashH(raw); got != *n.Chain.GenesisHash {
		t.Fatalf("genesis block hash %v, want %v", got, n.Chain.GenesisHash)
	}
	target := compactToBig(0x1e0ffff0)
	pow := n.PoWHash(raw)
	if hashToBig(pow).Cmp(target) > 0 {
		t.Fatalf("scrypt hash %x above the target", pow)
	}
	sha := mustBTC(t, "mainnet").PoWHash(raw)
	if hashToBig(sha).Cmp(target) <= 0 {
		t.Fatal("sha256d meets the target too: the test proves nothing")
	}
	if chainhash.Hash(sha) != *n.Chain.GenesisHash {
		t.Fatal("BTC PoWHash is not the block hash")
	}
}

func headerBytes(t *testing.T, version int32, merkle chainhash.Hash, ts, bits, nonce uint32) []byte {
	t.Helper()
	b := make([]byte, 0, 80)
	le := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	le(uint32(version))
	b = append(b, make([]byte, 32)...)
	b = append(b, merkle[:]...)
	le(ts)
	le(bits)
	le(nonce)
	if len(b) != 80 {
		t.Fatalf("header %d bytes", len(b))
	}
	return b
}

func compactToBig(bits uint32) *big.Int {
	mant := big.NewInt(int64(bits & 0x007fffff))
	exp := uint(bits >> 24)
	return mant.Lsh(mant, 8*(exp-3))
}

func hashToBig(h [32]byte) *big.Int {
	r := make([]byte, 32)
	for i := range h {
		r[31-i] = h[i]
	}
	return new(big.Int).SetBytes(r)
}

func TestLTCChainParams(t *testing.T) {
	n := mustLTC(t, "regtest")
	if n.Chain.Name != "litecoin-regtest" || n.Chain.Net != wire.BitcoinNet(0xdab5bffa) || n.Chain.HDCoinType != 1 {
		t.Fatalf("chain %s %x %d", n.Chain.Name, uint32(n.Chain.Net), n.Chain.HDCoinType)
	}
	if hex.EncodeToString(n.Chain.GenesisHash[:1]) != "f9" {
		t.Fatalf("regtest genesis %v", n.Chain.GenesisHash)
	}
	// The BTC parameters are untouched.
	if b := mustBTC(t, "regtest"); b.Chain.Bech32HRPSegwit != "bcrt" || b.Chain.ScriptHashAddrID != 0xc4 {
		t.Fatal("LTC changed btcd's shared chaincfg")
	}
}

// TestLTCConsensus: the header rules are Litecoin Core's, not the Bitcoin
// values the chain parameters were copied from: a 2016-block retarget of
// 3.5 days, the 0x1e0fffff limit (0x207fffff on regtest, which never
// retargets), minimum-difficulty blocks after 5 minutes on testnet. The
// genesis blocks' bits are within the limit.
func TestLTCConsensus(t *testing.T) {
	for _, tc := range []struct {
		net         string
		limitBits   uint32
		genesisBits uint32
		noRetarget  bool
		minDiff     bool
		bip34       int32
	}{
		{"mainnet", 0x1e0fffff, 0x1e0ffff0, false, false, 710000},
		{"testnet", 0x1e0fffff, 0x1e0ffff0, false, true, 76},
		{"regtest", 0x207fffff, 0x207fffff, true, true, 500},
	} {
		c := mustLTC(t, tc.net).Chain
		if c.TargetTimespan != 84*time.Hour || c.TargetTimePerBlock != 150*time.Second ||
			int(c.TargetTimespan/c.TargetTimePerBlock) != 2016 || c.RetargetAdjustmentFactor != 4 {
			t.Errorf("%s: retarget %v / %v x%d", tc.net, c.TargetTimespan, c.TargetTimePerBlock, c.RetargetAdjustmentFactor)
		}
		if c.PowLimitBits != tc.limitBits || blockchain.BigToCompact(c.PowLimit) != tc.limitBits ||
			compactToBig(tc.genesisBits).Cmp(c.PowLimit) > 0 {
			t.Errorf("%s: limit %x (%x)", tc.net, c.PowLimitBits, blockchain.BigToCompact(c.PowLimit))
		}
		if c.PoWNoRetargeting != tc.noRetarget || c.ReduceMinDifficulty != tc.minDiff || c.BIP0034Height != tc.bip34 || c.EnforceBIP94 {
			t.Errorf("%s: no retarget %v, min difficulty %v, BIP34 at %d, BIP94 %v", tc.net, c.PoWNoRetargeting,
				c.ReduceMinDifficulty, c.BIP0034Height, c.EnforceBIP94)
		}
		if tc.minDiff && c.MinDiffReductionTime != 5*time.Minute {
			t.Errorf("%s: min-difficulty after %v", tc.net, c.MinDiffReductionTime)
		}
	}
	// Bitcoin's parameters are untouched.
	if b := mustBTC(t, "testnet").Chain; b.TargetTimespan != 14*24*time.Hour || b.PowLimitBits != 0x1d00ffff {
		t.Fatalf("LTC changed Bitcoin's testnet parameters: %v %x", b.TargetTimespan, b.PowLimitBits)
	}
}
