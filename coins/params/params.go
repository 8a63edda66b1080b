// Package params holds the network parameters of the coins walletd serves:
// address version bytes, bech32 human-readable parts, WIF prefixes and the
// SLIP-132 HD key version bytes of every script type, plus the address codec
// built on them.
//
// Every rule here follows Electrum 4.3.4 (bitcoin.py, segwit_addr.py,
// constants.py) because walletd must accept and produce exactly what Electrum
// does for the same network. The package does no I/O and holds no mutable
// package-level state: every constructor returns a fresh *Network.
//
// BTC, LTC (ltc.go, Electrum-LTC's values) and BCH (bch.go, Electron Cash's
// values) are implemented as constructors filling the same Network struct;
// nothing below assumes BTC except the BTC constructor itself. A coin without
// segwit leaves Bech32HRP empty; a coin with another address format (BCH's
// cashaddr) sets Network.Codec, which every address method consults.
//
// Simnet: Electrum 4.3.4 has a "simnet" network (constants.BitcoinSimnet) that
// inherits the testnet HD version bytes (tpub/upub/vpub ...) and uses btcd's
// simnet address bytes (0x3f, 0x7b, WIF 0x64, bech32 "sb"). walletd follows
// Electrum: on simnet the t/u/v keys are the accepted HD keys and btcd's own
// simnet versions (spub/sprv) are NOT accepted, so that a key valid here is a
// key Electrum accepts.
package params

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (test with errors.Is); the wrapping text adds context but never the full
// input of a caller.
var (
	// ErrUnknownNetwork is returned when a network name is not known for a coin.
	ErrUnknownNetwork = errors.New("params: unknown network")
	// ErrInvalidAddress is returned when a string is not a valid address of
	// the network (bad encoding, bad checksum or another network's address).
	ErrInvalidAddress = errors.New("params: invalid address")
	// ErrUnsupportedScript is returned when a script type cannot be used for
	// the requested operation on this network (for instance a multisig script
	// type where a single public key is given, or segwit on a coin without it).
	ErrUnsupportedScript = errors.New("params: unsupported script type")
)

// ScriptType is an output script type, named as Electrum names it ("txin_type").
// The zero value is ScriptUnknown.
type ScriptType int

// Script types. P2PKH, P2WPKHP2SH and P2WPKH are the single-key types walletd
// derives addresses for; P2WSHP2SH and P2WSH are Electrum's multisig HD types,
// recognised in SLIP-132 versions and WIF prefixes but not derivable as
// single-key wallets.
const (
	// ScriptUnknown is the zero value: no script type (or an address whose
	// script type is not known, as in a watch-only address list).
	ScriptUnknown ScriptType = iota
	// P2PKH is pay-to-pubkey-hash ("p2pkh"; Electrum's xtype "standard").
	P2PKH
	// P2WPKHP2SH is pay-to-witness-pubkey-hash nested in P2SH ("p2wpkh-p2sh").
	P2WPKHP2SH
	// P2WPKH is native pay-to-witness-pubkey-hash ("p2wpkh").
	P2WPKH
	// P2WSHP2SH is pay-to-witness-script-hash nested in P2SH ("p2wsh-p2sh"), multisig only.
	P2WSHP2SH
	// P2WSH is native pay-to-witness-script-hash ("p2wsh"), multisig only.
	P2WSH
)

// String returns Electrum's name of the script type ("p2pkh", "p2wpkh-p2sh",
// "p2wpkh", "p2wsh-p2sh", "p2wsh"), or "unknown" for ScriptUnknown and
// out-of-range values.
func (t ScriptType) String() string {
	switch t {
	case P2PKH:
		return "p2pkh"
	case P2WPKHP2SH:
		return "p2wpkh-p2sh"
	case P2WPKH:
		return "p2wpkh"
	case P2WSHP2SH:
		return "p2wsh-p2sh"
	case P2WSH:
		return "p2wsh"
	}
	return "unknown"
}

// SingleKey reports whether the script type pays to one public key
// (P2PKH, P2WPKHP2SH, P2WPKH), i.e. whether walletd can derive addresses of it.
func (t ScriptType) SingleKey() bool {
	return t == P2PKH || t == P2WPKHP2SH || t == P2WPKH
}

// Segwit reports whether spending the script type uses a witness.
func (t ScriptType) Segwit() bool {
	return t == P2WPKHP2SH || t == P2WPKH || t == P2WSHP2SH || t == P2WSH
}

// ParseScriptType returns the script type with Electrum's name s ("p2pkh",
// "p2wpkh-p2sh", "p2wpkh", "p2wsh-p2sh", "p2wsh"; Electrum's xtype "standard"
// is accepted for p2pkh). Any other string is an error wrapping
// ErrUnsupportedScript.
func ParseScriptType(s string) (ScriptType, error) {
	switch s {
	case "p2pkh", "standard":
		return P2PKH, nil
	case "p2wpkh-p2sh":
		return P2WPKHP2SH, nil
	case "p2wpkh":
		return P2WPKH, nil
	case "p2wsh-p2sh":
		return P2WSHP2SH, nil
	case "p2wsh":
		return P2WSH, nil
	}
	return ScriptUnknown, fmt.Errorf("%w: %q", ErrUnsupportedScript, s)
}

// HDVersion is the pair of SLIP-132 version bytes of one script type on one
// network, as the first four bytes of a serialized extended key.
type HDVersion struct {
	// ScriptType is the script type these version bytes select.
	ScriptType ScriptType
	// Public is the version of extended public keys (e.g. 0488b21e, "xpub").
	Public [4]byte
	// Private is the version of extended private keys (e.g. 0488ade4, "xprv").
	Private [4]byte
}

// Network is the parameter set of one coin on one network. A *Network is
// returned fresh by its constructor and never modified by this package, so it
// is safe for concurrent use as long as callers do not modify it either.
type Network struct {
	// Coin is the ticker in upper case ("BTC").
	Coin string
	// Name is the network name ("mainnet", "testnet", "regtest", "signet", "simnet").
	Name string
	// Chain is the btcd chain parameter set of this network. It is shared with
	// chaincfg and must not be modified.
	Chain *chaincfg.Params
	// URIScheme is the BIP21 URI scheme ("bitcoin").
	URIScheme string
	// P2PKHAddrID is the base58check version byte of P2PKH addresses.
	P2PKHAddrID byte
	// P2SHAddrID is the base58check version byte of P2SH addresses.
	P2SHAddrID byte
	// Bech32HRP is the human-readable part of segwit addresses ("bc", "tb",
	// "bcrt", "sb"), lower case; empty on a coin without segwit addresses.
	Bech32HRP string
	// WIFPrefix is the first byte of WIF private keys (0x80 mainnet, 0xef testnet).
	WIFPrefix byte
	// WIFBase is Electrum's constants.net.WIF_PREFIX: the version byte of a
	// WIF key is WIFBase plus the key's WIFScriptTypes offset (Electrum
	// 3.0.x export format). BTC: WIFPrefix; LTC: WIFPrefix-48 (see WIFVersion).
	WIFBase byte
	// WIFScriptTypes is Electrum's WIF_SCRIPT_TYPES: the offset added to
	// WIFBase for each script type name a WIF key may carry.
	WIFScriptTypes map[string]byte
	// MessageMagic is the signed-message prefix hashed before a message
	// ("\x18Bitcoin Signed Message:\n").
	MessageMagic string
	// MWEBHRP is the bech32 human-readable part of MWEB addresses (LTC's
	// "ltcmweb"/"tmweb"); empty on a coin without MWEB. Such addresses are
	// never valid destinations here (see DecodeAddress).
	MWEBHRP string
	// PoW is the proof-of-work hash of block headers (see PoWHash).
	PoW PoWAlgorithm
	// BIP44CoinType is the SLIP-44 coin type used in BIP44 paths (0 mainnet, 1 test networks).
	BIP44CoinType uint32
	// HD lists the SLIP-132 version bytes accepted on this network, one entry
	// per script type, in Electrum's order (p2pkh, p2wpkh-p2sh, p2wsh-p2sh,
	// p2wpkh, p2wsh).
	HD []HDVersion
	// Codec, when set, is the network's own address format (BCH's
	// cashaddr): ValidAddress, DecodeAddress, PkScript, AddressFromScript
	// and PubKeyAddress go through it. Nil means base58 and bech32 with the
	// bytes above.
	Codec AddressCodec
}

// networkNames lists the accepted BTC network names, in documentation order.
func btcNetworkNames() []string {
	return []string{"mainnet", "testnet", "regtest", "signet", "simnet"}
}

// BTCNetworks returns the names BTC accepts, in a fixed order
// ("mainnet", "testnet", "regtest", "signet", "simnet").
func BTCNetworks() []string { return btcNetworkNames() }

// BTC returns the Bitcoin parameters of the named network: "mainnet",
// "testnet", "regtest", "signet" or "simnet" (case-insensitive, surrounding
// spaces ignored). Any other name is an error wrapping ErrUnknownNetwork that
// names the network and the accepted names. The values are Electrum 4.3.4's
// (constants.py) and agree with btcd's chaincfg for the address bytes.
func BTC(network string) (*Network, error) {
	name := strings.ToLower(strings.TrimSpace(network))
	mainHD := []HDVersion{
		{P2PKH, [4]byte{0x04, 0x88, 0xb2, 0x1e}, [4]byte{0x04, 0x88, 0xad, 0xe4}},      // xpub xprv
		{P2WPKHP2SH, [4]byte{0x04, 0x9d, 0x7c, 0xb2}, [4]byte{0x04, 0x9d, 0x78, 0x78}}, // ypub yprv
		{P2WSHP2SH, [4]byte{0x02, 0x95, 0xb4, 0x3f}, [4]byte{0x02, 0x95, 0xb0, 0x05}},  // Ypub Yprv
		{P2WPKH, [4]byte{0x04, 0xb2, 0x47, 0x46}, [4]byte{0x04, 0xb2, 0x43, 0x0c}},     // zpub zprv
		{P2WSH, [4]byte{0x02, 0xaa, 0x7e, 0xd3}, [4]byte{0x02, 0xaa, 0x7a, 0x99}},      // Zpub Zprv
	}
	testHD := []HDVersion{
		{P2PKH, [4]byte{0x04, 0x35, 0x87, 0xcf}, [4]byte{0x04, 0x35, 0x83, 0x94}},      // tpub tprv
		{P2WPKHP2SH, [4]byte{0x04, 0x4a, 0x52, 0x62}, [4]byte{0x04, 0x4a, 0x4e, 0x28}}, // upub uprv
		{P2WSHP2SH, [4]byte{0x02, 0x42, 0x89, 0xef}, [4]byte{0x02, 0x42, 0x85, 0xb5}},  // Upub Uprv
		{P2WPKH, [4]byte{0x04, 0x5f, 0x1c, 0xf6}, [4]byte{0x04, 0x5f, 0x18, 0xbc}},     // vpub vprv
		{P2WSH, [4]byte{0x02, 0x57, 0x54, 0x83}, [4]byte{0x02, 0x57, 0x50, 0x48}},      // Vpub Vprv
	}
	n := &Network{Coin: "BTC", Name: name, URIScheme: "bitcoin"}
	switch name {
	case "mainnet":
		n.Chain = &chaincfg.MainNetParams
		n.HD = mainHD
	case "testnet":
		n.Chain = &chaincfg.TestNet3Params
		n.HD = testHD
		n.BIP44CoinType = 1
	case "regtest":
		n.Chain = &chaincfg.RegressionNetParams
		n.HD = testHD
		n.BIP44CoinType = 1
	case "signet":
		n.Chain = &chaincfg.SigNetParams
		n.HD = testHD
		n.BIP44CoinType = 1
	case "simnet":
		n.Chain = &chaincfg.SimNetParams
		n.HD = testHD
		n.BIP44CoinType = 1
	default:
		return nil, fmt.Errorf("%w: BTC has no network %q (accepted: %s)",
			ErrUnknownNetwork, network, strings.Join(btcNetworkNames(), ", "))
	}
	n.P2PKHAddrID = n.Chain.PubKeyHashAddrID
	n.P2SHAddrID = n.Chain.ScriptHashAddrID
	n.Bech32HRP = n.Chain.Bech32HRPSegwit
	n.WIFPrefix = n.Chain.PrivateKeyID
	n.WIFBase = n.WIFPrefix
	n.WIFScriptTypes = electrumWIFScriptTypes(0, 5)
	n.MessageMagic = "\x18Bitcoin Signed Message:\n"
	return n, nil
}

// String returns "<coin> <network>", e.g. "BTC regtest".
func (n *Network) String() string { return n.Coin + " " + n.Name }

// HDVersionFor returns the SLIP-132 version bytes of script type t on this
// network; ok is false when the network has none for t.
func (n *Network) HDVersionFor(t ScriptType) (v HDVersion, ok bool) {
	for _, v := range n.HD {
		if v.ScriptType == t {
			return v, true
		}
	}
	return HDVersion{}, false
}

// LookupHDVersion returns the script type selected by the four version bytes
// of a serialized extended key and whether they are a private-key version; ok
// is false when the version is not one of this network's (a mainnet xpub on
// regtest, for instance).
func (n *Network) LookupHDVersion(version [4]byte) (t ScriptType, private bool, ok bool) {
	for _, v := range n.HD {
		if v.Private == version {
			return v.ScriptType, true, true
		}
		if v.Public == version {
			return v.ScriptType, false, true
		}
	}
	return ScriptUnknown, false, false
}
