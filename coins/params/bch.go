package params

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bchcfg "github.com/gcash/bchd/chaincfg"
)

// This file adds Bitcoin Cash as Electron Cash 4.4.2 (the version Bitcart
// pins, Electron-Cash/Electron-Cash@492f050) and Bitcart's BCH daemon use it.
// A BCH Network carries its cashaddr codec in Network.Codec: every address
// method of Network (ValidAddress, PkScript, AddressFromScript,
// PubKeyAddress) goes through it, so the wallet engine and the daemon treat
// BCH exactly as BTC.

// AddressCodec is the address format of one coin on one network: what
// strings a wallet of that coin accepts as destinations and how it prints
// the output scripts it owns. A Network without one uses the base58/bech32
// rules of address.go. Implementations are immutable and safe for
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
// counterparts are not BCH keys. The BIP44 coin type is 145 everywhere.
// Codec is the network's cashaddr codec (legacy base58 accepted on input;
// addresses printed bare, as Electron Cash's to_ui_string); MessageMagic is
// Bitcoin's; WIF keys carry Electron Cash's SCRIPT_TYPES offsets (p2pkh 0,
// p2sh 5). Any other name is an error wrapping ErrUnknownNetwork.
func BCH(network string) (*Network, error) {
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
	n.WIFBase = n.WIFPrefix
	n.WIFScriptTypes = map[string]byte{"p2pkh": 0, "p2sh": 5}
	n.MessageMagic = BCHMessageMagic
	n.Codec = NewCashAddr(prefix, n.P2PKHAddrID, n.P2SHAddrID)
	return n, nil
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

// CashAddr returns the network's cashaddr codec, or nil for a network
// whose addresses are not cashaddr.
func (n *Network) CashAddr() *CashAddr {
	c, _ := n.Codec.(*CashAddr)
	return c
}
