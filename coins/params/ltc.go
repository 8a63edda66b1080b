package params

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// ErrMWEBAddress is returned (wrapped, together with ErrInvalidAddress) for
// a Litecoin MWEB address (ltcmweb1…, tmweb1…) given where an on-chain
// destination is needed: walletd does not send into Litecoin's MWEB
// extension block.
var ErrMWEBAddress = fmt.Errorf("MWEB addresses are not supported: walletd can only pay canonical (non-MWEB) Litecoin addresses")

// LTCNetworks returns the names LTC accepts, in a fixed order
// ("mainnet", "testnet", "regtest").
func LTCNetworks() []string { return []string{"mainnet", "testnet", "regtest"} }

// LTC returns the Litecoin parameters of the named network, "mainnet",
// "testnet" or "regtest" (case-insensitive, surrounding spaces ignored),
// exactly as Electrum-LTC (bitcart/electrum-ltc@5fd9931, the version Bitcart
// pins) uses them:
//
//   - HD key versions are Bitcoin's (x/y/z on mainnet, t/u/v on testnet and
//     regtest); Litecoin's Ltub/Mtub are not accepted;
//   - base58 versions 48 ("L") and 50 ("M") on mainnet, 111 and 58 ("Q") on
//     testnet and regtest (Bitcoin's P2SH versions 5 and 196 are refused);
//   - bech32 HRP "ltc", "tltc", "rltc";
//   - WIF first byte 0xb0 (mainnet) and 0xef (testnet, regtest): Electrum-LTC's
//     WIF_PREFIX 0x80/0xbf plus its p2pkh offset 48;
//   - BIP44 coin type 2 on mainnet, 1 elsewhere;
//   - the "\x19Litecoin Signed Message:\n" message magic, scrypt proof of
//     work, and the MWEB HRP "ltcmweb" (mainnet) or "tmweb".
//
// Chain is a chaincfg.Params value built here with Litecoin's bytes, network
// magic and genesis hash; it is not registered with chaincfg (its IDs would
// collide with Bitcoin's). Any other name is an error wrapping
// ErrUnknownNetwork.
func LTC(network string) (*Network, error) {
	name := strings.ToLower(strings.TrimSpace(network))
	n := &Network{
		Coin:          "LTC",
		Name:          name,
		URIScheme:     "litecoin",
		MessageMagic:  "\x19Litecoin Signed Message:\n",
		PoW:           PoWScrypt,
		BIP44CoinType: 1,
		MWEBHRP:       "tmweb",
	}
	btcName := "testnet"
	switch name {
	case "mainnet":
		n.P2PKHAddrID, n.P2SHAddrID, n.Bech32HRP, n.WIFBase = 48, 50, "ltc", 0x80
		n.BIP44CoinType = 2
		n.MWEBHRP = "ltcmweb"
		btcName = "mainnet"
	case "testnet":
		n.P2PKHAddrID, n.P2SHAddrID, n.Bech32HRP, n.WIFBase = 111, 58, "tltc", 0xbf
	case "regtest":
		n.P2PKHAddrID, n.P2SHAddrID, n.Bech32HRP, n.WIFBase = 111, 58, "rltc", 0xbf
	default:
		return nil, fmt.Errorf("%w: LTC has no network %q (accepted: %s)",
			ErrUnknownNetwork, network, strings.Join(LTCNetworks(), ", "))
	}
	n.WIFScriptTypes = electrumWIFScriptTypes(48, 50)
	n.WIFPrefix = n.WIFBase + n.WIFScriptTypes["p2pkh"]
	btc, err := BTC(btcName)
	if err != nil {
		return nil, err
	}
	n.HD = btc.HD
	n.Chain = ltcChain(n, btc.Chain)
	return n, nil
}

// ltcChain returns btcd chain parameters carrying Litecoin's values for n,
// starting from a copy of Bitcoin's of the same kind (so fields walletd does
// not use keep sane values).
func ltcChain(n *Network, base *chaincfg.Params) *chaincfg.Params {
	c := *base
	c.Name = "litecoin-" + n.Name
	c.PubKeyHashAddrID = n.P2PKHAddrID
	c.ScriptHashAddrID = n.P2SHAddrID
	c.PrivateKeyID = n.WIFPrefix
	c.Bech32HRPSegwit = n.Bech32HRP
	c.HDCoinType = n.BIP44CoinType
	c.Checkpoints = nil
	c.DNSSeeds = nil
	var genesis string
	switch n.Name {
	case "mainnet":
		c.Net, c.DefaultPort = wire.BitcoinNet(0xdbb6c0fb), "9333"
		genesis = "12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2"
	case "testnet":
		c.Net, c.DefaultPort = wire.BitcoinNet(0xf1c8d2fd), "19335"
		genesis = "4966625a4b2851d9fdee139e56211a0d88575f59ed816ff5e6a63deb4e3e29a0"
	default: // regtest
		c.Net, c.DefaultPort = wire.BitcoinNet(0xdab5bffa), "19444"
		genesis = "530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9"
	}
	h, err := chainhash.NewHashFromStr(genesis)
	if err != nil {
		panic(err) // constant above
	}
	c.GenesisHash = h
	c.GenesisBlock = nil // Bitcoin's would contradict GenesisHash
	ltcConsensus(&c, n.Name)
	return &c
}

// ltcConsensus sets the header consensus rules of Litecoin Core 0.21
// (src/chainparams.cpp) that a light client checks: the proof-of-work limit,
// the 3.5-day retarget of 2016 blocks of 2.5 minutes, testnet's and
// regtest's minimum-difficulty blocks (after twice the block spacing),
// regtest's fixed target, and the heights from which block versions 2, 3
// and 4 are required. Litecoin measures a retarget over the full period
// (see coins/chain/electrum/headers), which these values do not express.
func ltcConsensus(c *chaincfg.Params, network string) {
	one := big.NewInt(1)
	c.TargetTimespan = 84 * time.Hour                 // 3.5 days
	c.TargetTimePerBlock = 150 * time.Second          // 2.5 minutes
	c.RetargetAdjustmentFactor = 4                    // at most 4x either way
	c.MinDiffReductionTime = 2 * c.TargetTimePerBlock // Core: 2 * nPowTargetSpacing
	c.CoinbaseMaturity = 100
	c.EnforceBIP94 = false
	switch network {
	case "mainnet":
		c.PowLimit = new(big.Int).Sub(new(big.Int).Lsh(one, 236), one) // 00000fff…
		c.PowLimitBits = 0x1e0fffff
		c.PoWNoRetargeting, c.ReduceMinDifficulty = false, false
		c.MinDiffReductionTime = 0
		c.BIP0034Height, c.BIP0065Height, c.BIP0066Height = 710000, 918684, 811879
	case "testnet":
		c.PowLimit = new(big.Int).Sub(new(big.Int).Lsh(one, 236), one)
		c.PowLimitBits = 0x1e0fffff
		c.PoWNoRetargeting, c.ReduceMinDifficulty = false, true
		c.BIP0034Height, c.BIP0065Height, c.BIP0066Height = 76, 76, 76
	default: // regtest
		c.PowLimit = new(big.Int).Sub(new(big.Int).Lsh(one, 255), one) // 7fff…
		c.PowLimitBits = 0x207fffff
		c.PoWNoRetargeting, c.ReduceMinDifficulty = true, true
		c.BIP0034Height, c.BIP0065Height, c.BIP0066Height = 500, 1351, 1251
	}
}

// electrumWIFScriptTypes is Electrum's WIF_SCRIPT_TYPES with the p2pkh and
// p2sh offsets of the coin (0 and 5 in Electrum, 48 and 50 in Electrum-LTC).
func electrumWIFScriptTypes(p2pkh, p2sh byte) map[string]byte {
	return map[string]byte{
		"p2pkh": p2pkh, "p2wpkh": 1, "p2wpkh-p2sh": 2,
		"p2sh": p2sh, "p2wsh": 6, "p2wsh-p2sh": 7,
	}
}

// WIFVersion returns the WIF version byte that names script type name (an
// Electrum WIF_SCRIPT_TYPES key: "p2pkh", "p2wpkh", …) in Electrum's 3.0.x
// export format: WIFBase plus the type's offset. ok is false for an unknown
// name or when the sum does not fit in a byte (Electrum can then never read
// such a key).
func (n *Network) WIFVersion(name string) (v byte, ok bool) {
	off, ok := n.WIFScriptTypes[name]
	if !ok || int(n.WIFBase)+int(off) > 0xff {
		return 0, false
	}
	return n.WIFBase + off, true
}

// IsMWEBAddress reports whether s is an MWEB address of this network (a
// bech32 string with the network's MWEB HRP, in one case). It is false on
// coins without MWEB.
func (n *Network) IsMWEBAddress(s string) bool {
	if n.MWEBHRP == "" {
		return false
	}
	low := strings.ToLower(s)
	if !strings.HasPrefix(low, n.MWEBHRP+"1") || (s != low && s != strings.ToUpper(s)) {
		return false
	}
	hrp, _, err := bech32.DecodeNoLimit(s)
	return err == nil && hrp == n.MWEBHRP
}

// invalidAddress is the error for a string that is not a valid address of
// n: it wraps ErrInvalidAddress and, for an MWEB address, ErrMWEBAddress.
func (n *Network) invalidAddress(s string) error {
	if n.IsMWEBAddress(s) {
		return fmt.Errorf("%w for %s: %w", ErrInvalidAddress, n, ErrMWEBAddress)
	}
	return fmt.Errorf("%w for %s", ErrInvalidAddress, n)
}
