package params

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bchcfg "github.com/gcash/bchd/chaincfg"
)

// This file adds Bitcoin Cash as Electron Cash 4.4.2 (the version Bitcart
// pins, Electron-Cash/Electron-Cash@492f050) and Bitcart's BCH daemon use it.
//
// It is written as new code beside params.go and address.go so that it
// merges cleanly while those files change. The family refactor (issue 12,
// phase 2; docs/family.md) hooks the codec into Network:
//
//   - Network gains a field `Codec AddressCodec` (nil: the base58/bech32
//     rules of address.go, i.e. a btcCodec wrapping decode/AddressFromScript);
//   - ValidAddress, PkScript, AddressFromScript and PubKeyHashAddress
//     (P2PKH) consult n.Codec first when it is set (Decode, Encode);
//   - BCH(name) then returns the *Network itself with Codec set, and
//     BCHNetwork shrinks to that (its Codec field moves into Network);
//   - MessageMagic, WIFBase and WIFScriptTypes (added by the LTC work) are
//     set for BCH: "\x18Bitcoin Signed Message:\n", WIFPrefix, and
//     Electron Cash's SCRIPT_TYPES {"p2pkh": 0, "p2sh": 5}.
//
// Until then a BCH caller uses BCHNetwork.Codec for every address question
// and Network only for the values the BTC family shares (HD versions, WIF
// prefix, legacy version bytes): Network's own address methods know base58
// and bech32 only and would answer in legacy form.

// AddressCodec is the address format of one coin on one network: what
// strings a wallet of that coin accepts as destinations and how it prints
// the output scripts it owns. Implementations are immutable and safe for
// concurrent use.
type AddressCodec interface {
	// Decode returns the output script paid by address s, with the
	// reference wallet's validity rules (Electrum's is_address,
	// Electron Cash's Address.from_string). Nothing is trimmed. An
	// invalid address is an error wrapping ErrInvalidAddress that does
	// not contain s.
	Decode(s string) (pkScript []byte, err error)
	// Encode returns the canonical full address of pkScript (for
	// cashaddr, with its prefix, "bitcoincash:q…"). A script with no
	// address form is an error wrapping ErrUnsupportedScript.
	Encode(pkScript []byte) (string, error)
	// Bare returns the form the reference wallet prints in its replies
	// and events (Electron Cash's to_ui_string: the cashaddr without its
	// prefix). For base58/bech32 coins it equals Encode.
	Bare(pkScript []byte) (string, error)
	// Normalize returns the canonical full form of a valid address s
	// (Encode of Decode), so that two spellings of one address compare
	// equal.
	Normalize(s string) (string, error)
}

// BCHNetwork is Bitcoin Cash on one network: the values it shares with the
// Bitcoin family in Network, and its cashaddr codec. It is immutable.
type BCHNetwork struct {
	// Network holds Coin "BCH", the network Name, URIScheme (the cashaddr
	// prefix, as Electron Cash builds URIs), the legacy base58 version
	// bytes (P2PKHAddrID, P2SHAddrID), WIFPrefix, BIP44CoinType 145, and
	// HD with the p2pkh (xpub/tpub) versions only. Bech32HRP is empty.
	// Chain is a btcd chaincfg.Params value built here with the network's
	// bytes, magic and genesis hash (not registered with chaincfg). Use
	// Codec, not Network's address methods, for addresses (see above).
	Network *Network
	// Codec is the network's cashaddr codec (legacy accepted on input).
	Codec *CashAddr
}

// BCHNetworks returns the network names BCH accepts, those of Bitcart's BCH
// daemon, in a fixed order ("mainnet", "testnet", "testnet4", "scalenet",
// "regtest", "chipnet").
func BCHNetworks() []string {
	return []string{"mainnet", "testnet", "testnet4", "scalenet", "regtest", "chipnet"}
}

// BCHMessageMagic is the prefix Electron Cash hashes before a signed message
// (bitcoin.msg_magic): Bitcoin's, unchanged.
const BCHMessageMagic = "\x18Bitcoin Signed Message:\n"

// BCHCoinType is the BIP44 coin type Electron Cash derives BIP39 seeds with
// on every network (keystore.bip44_derivation_145: m/44'/145'/0'; test
// networks do not use coin type 1).
const BCHCoinType = 145

// BCH returns the Bitcoin Cash parameters of the named network (case
// insensitive, surrounding spaces ignored) exactly as Electron Cash 4.4.2's
// networks.py has them:
//
//   - mainnet: cashaddr prefix "bitcoincash", legacy versions 0 and 5, WIF
//     0x80, xpub/xprv;
//   - testnet, testnet4, scalenet, chipnet: "bchtest", 111 and 196, WIF 0xef,
//     tpub/tprv (testnet4, scalenet and chipnet are TestNet subclasses
//     that change only the chain);
//   - regtest: "bchreg", otherwise as testnet.
//
// Only the p2pkh ("standard") HD versions exist: ypub/zpub and their test
// counterparts are not BCH keys. The BIP44 coin type is 145 everywhere. Any
// other name is an error wrapping ErrUnknownNetwork.
func BCH(network string) (*BCHNetwork, error) {
	name := strings.ToLower(strings.TrimSpace(network))
	n := &Network{Coin: "BCH", Name: name, BIP44CoinType: BCHCoinType}
	var node *bchcfg.Params // bchd's parameters of the same chain
	prefix := "bchtest"
	switch name {
	case "mainnet":
		node, prefix = &bchcfg.MainNetParams, "bitcoincash"
	case "testnet":
		node = &bchcfg.TestNet3Params
	case "testnet4":
		node = &bchcfg.TestNet4Params
	case "scalenet": // bchd has no scalenet
	case "chipnet":
		node = &bchcfg.ChipNetParams
	case "regtest":
		node, prefix = &bchcfg.RegressionNetParams, "bchreg"
	default:
		return nil, fmt.Errorf("%w: BCH has no network %q (accepted: %s)",
			ErrUnknownNetwork, network, strings.Join(BCHNetworks(), ", "))
	}
	base, err := BTC("testnet")
	if name == "mainnet" {
		base, err = BTC("mainnet")
	}
	if err != nil {
		return nil, err
	}
	n.URIScheme = prefix
	n.P2PKHAddrID, n.P2SHAddrID, n.WIFPrefix = base.P2PKHAddrID, base.P2SHAddrID, base.WIFPrefix
	p2pkh, _ := base.HDVersionFor(P2PKH)
	n.HD = []HDVersion{p2pkh}
	n.Chain = bchChain(n, base.Chain, node)
	return &BCHNetwork{Network: n, Codec: NewCashAddr(prefix, n.P2PKHAddrID, n.P2SHAddrID)}, nil
}

// scalenetGenesis is Electron Cash's networks.ScaleNet.GENESIS.
const scalenetGenesis = "00000000e6453dc2dfe1ffa19023f86002eb11dbb8e87d0291a4599f0430be52"

// bchChain returns btcd chain parameters carrying Bitcoin Cash's values for
// n, starting from a copy of Bitcoin's of the same kind (so that fields
// walletd does not use keep sane values). The network magic, port and genesis
// hash are bchd's (node); scalenet, which bchd lacks, has Electron Cash's
// genesis hash and no magic or port (walletd never speaks P2P on it).
func bchChain(n *Network, base *chaincfg.Params, node *bchcfg.Params) *chaincfg.Params {
	c := *base
	c.Name = "bitcoincash-" + n.Name
	c.PubKeyHashAddrID = n.P2PKHAddrID
	c.ScriptHashAddrID = n.P2SHAddrID
	c.PrivateKeyID = n.WIFPrefix
	c.Bech32HRPSegwit = ""
	c.HDCoinType = n.BIP44CoinType
	c.Checkpoints = nil
	c.DNSSeeds = nil
	c.GenesisBlock = nil // Bitcoin's would contradict GenesisHash on test networks
	if node == nil {
		h, err := chainhash.NewHashFromStr(scalenetGenesis)
		if err != nil {
			panic(err) // constant above
		}
		c.GenesisHash = h
		c.Net, c.DefaultPort = 0, ""
		return &c
	}
	h := chainhash.Hash(*node.GenesisHash)
	c.GenesisHash = &h
	c.Net, c.DefaultPort = wire.BitcoinNet(node.Net), node.DefaultPort
	return &c
}

// String returns "BCH <network>".
func (b *BCHNetwork) String() string { return b.Network.String() }

// ValidAddress is Electron Cash's Address.is_valid on this network (see
// CashAddr.Valid).
func (b *BCHNetwork) ValidAddress(s string) bool { return b.Codec.Valid(s) }

// PkScript returns the output script paid by address s (cashaddr with or
// without prefix, or legacy); see CashAddr.Decode.
func (b *BCHNetwork) PkScript(s string) ([]byte, error) { return b.Codec.Decode(s) }

// AddressFromScript returns the full cashaddr of a P2PKH, P2SH or P2SH32
// output script; ok is false for any other script.
func (b *BCHNetwork) AddressFromScript(pkScript []byte) (addr string, ok bool) {
	a, err := b.Codec.Encode(pkScript)
	return a, err == nil
}

// PubKeyAddress returns the full cashaddr and the P2PKH output script of a
// serialized public key (33 bytes compressed or 65 uncompressed; Electron
// Cash hashes the key as given).
func (b *BCHNetwork) PubKeyAddress(pubKey []byte) (addr string, pkScript []byte, err error) {
	if len(pubKey) != 33 && len(pubKey) != 65 {
		return "", nil, fmt.Errorf("%w: a public key is 33 or 65 bytes", ErrUnsupportedScript)
	}
	pkScript = p2pkhScript(address.Hash160(pubKey))
	addr, err = b.Codec.Encode(pkScript)
	return addr, pkScript, err
}
