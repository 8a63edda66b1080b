package params

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// Script opcodes used by the templates below.
const (
	opFalse       = 0x00
	op1           = 0x51
	op16          = 0x60
	opDup         = 0x76
	opEqual       = 0x87
	opEqualVerify = 0x88
	opHash160     = 0xa9
	opCheckSig    = 0xac
)

// addrKind is the decoded form of an address.
type addrKind int

const (
	kindP2PKH addrKind = iota + 1
	kindP2SH
	kindWitness
)

// decodedAddr is an address reduced to what its output script needs.
type decodedAddr struct {
	kind    addrKind
	version byte   // witness version, kindWitness only
	program []byte // hash160 for base58 kinds, witness program otherwise
}

// Longest addresses: a bech32 string is at most 90 characters (BIP173); a
// base58check address (25 bytes) at most 35. Longer strings are refused
// before any decoding: btcd's base58 decoding is quadratic in the length of
// its input.
const (
	MaxBech32AddressLen = 90
	MaxBase58AddressLen = 35
)

// decode parses s with exactly Electrum 4.3.4's is_address rules for this
// network: a segwit address whose (case-insensitive, but not mixed-case) HRP
// is the network's, witness version 0..16, program 2..40 bytes (20 or 32 for
// version 0), bech32 for version 0 and bech32m otherwise, at most 90
// characters; or a base58check string of 21 bytes whose version byte is the
// network's P2PKH or P2SH byte. Nothing is trimmed. A string longer than
// MaxBech32AddressLen is refused at once.
func (n *Network) decode(s string) (decodedAddr, bool) {
	if len(s) > MaxBech32AddressLen {
		return decodedAddr{}, false
	}
	if n.Bech32HRP != "" {
		if d, ok := n.decodeSegwit(s); ok {
			return d, true
		}
	}
	if len(s) > MaxBase58AddressLen {
		return decodedAddr{}, false
	}
	payload, version, err := base58.CheckDecode(s)
	if err != nil || len(payload) != 20 {
		return decodedAddr{}, false
	}
	switch version {
	case n.P2PKHAddrID:
		return decodedAddr{kind: kindP2PKH, program: payload}, true
	case n.P2SHAddrID:
		return decodedAddr{kind: kindP2SH, program: payload}, true
	}
	return decodedAddr{}, false
}

// decodeSegwit is Electrum's segwit_addr.decode_segwit_address(net.SEGWIT_HRP, s).
func (n *Network) decodeSegwit(s string) (decodedAddr, bool) {
	hrp, data, enc, err := bech32.DecodeGeneric(s)
	if err != nil || hrp != n.Bech32HRP || len(data) < 1 {
		return decodedAddr{}, false
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil || len(prog) < 2 || len(prog) > 40 {
		return decodedAddr{}, false
	}
	ver := data[0]
	if ver > 16 {
		return decodedAddr{}, false
	}
	if ver == 0 && len(prog) != 20 && len(prog) != 32 {
		return decodedAddr{}, false
	}
	if (ver == 0 && enc != bech32.Version0) || (ver != 0 && enc != bech32.VersionM) {
		return decodedAddr{}, false
	}
	return decodedAddr{kind: kindWitness, version: ver, program: prog}, true
}

// ValidAddress reports whether s is a valid address of this network with
// Electrum's is_address semantics: surrounding whitespace makes it invalid,
// bech32 addresses must be all lower or all upper case, base58 addresses must
// carry this network's P2PKH or P2SH version byte (so testnet's m/n/2
// addresses are valid on regtest and signet, which share them, as in
// Electrum), bech32 addresses must carry this network's HRP ("bcrt" on
// regtest, "tb" on testnet and signet), and any witness version 0..16 is
// accepted (taproot and future versions included).
//
// A network with a Codec answers with it (Electron Cash's Address.is_valid
// for BCH).
func (n *Network) ValidAddress(s string) bool {
	if n.Codec != nil {
		_, err := n.Codec.Decode(s)
		return err == nil
	}
	_, ok := n.decode(s)
	return ok
}

// DecodeAddress decodes s with the rules of ValidAddress and returns it as a
// btcd address bound to this network's chain parameters. Witness v0 and v1
// (taproot, pay-to-anchor) programs are returned as btcd's own types; other
// witness programs Electrum accepts (future versions, unusual lengths) are
// returned as *WitnessAddress. An invalid address, or one of another network,
// is an error wrapping ErrInvalidAddress.
//
// A network with a Codec decodes s with it and returns btcd's base58 form of
// the same P2PKH or P2SH script (its legacy address); another script (BCH's
// P2SH32) is an error wrapping ErrUnsupportedScript.
func (n *Network) DecodeAddress(s string) (address.Address, error) {
	var d decodedAddr
	if n.Codec != nil {
		script, err := n.Codec.Decode(s)
		if err != nil {
			return nil, err
		}
		if d, err = decodeLegacyScript(script); err != nil {
			return nil, err
		}
	} else {
		var ok bool
		if d, ok = n.decode(s); !ok {
			return nil, n.invalidAddress(s)
		}
	}
	var (
		a   address.Address
		err error
	)
	switch {
	case d.kind == kindP2PKH:
		a, err = address.NewAddressPubKeyHash(d.program, n.chainForBase58())
	case d.kind == kindP2SH:
		a, err = address.NewAddressScriptHashFromHash(d.program, n.chainForBase58())
	case d.version == 0 && len(d.program) == 20:
		a, err = address.NewAddressWitnessPubKeyHash(d.program, n.Chain)
	case d.version == 0 && len(d.program) == 32:
		a, err = address.NewAddressWitnessScriptHash(d.program, n.Chain)
	case d.version == 1 && len(d.program) == 32:
		a, err = address.NewAddressTaproot(d.program, n.Chain)
	case d.version == 1 && bytes.Equal(d.program, []byte{0x4e, 0x73}):
		a, err = address.NewAddressPayToAnchor(n.Chain)
	default:
		a = &WitnessAddress{hrp: n.Bech32HRP, version: d.version, program: d.program}
	}
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %v", ErrInvalidAddress, n, err)
	}
	return a, nil
}

// decodeLegacyScript returns the base58 form of a P2PKH or P2SH script.
func decodeLegacyScript(s []byte) (decodedAddr, error) {
	switch {
	case len(s) == 25 && s[0] == opDup && s[1] == opHash160 && s[2] == 20 &&
		s[23] == opEqualVerify && s[24] == opCheckSig:
		return decodedAddr{kind: kindP2PKH, program: s[3:23]}, nil
	case len(s) == 23 && s[0] == opHash160 && s[1] == 20 && s[22] == opEqual:
		return decodedAddr{kind: kindP2SH, program: s[2:22]}, nil
	}
	return decodedAddr{}, fmt.Errorf("%w: the address has no base58 form", ErrUnsupportedScript)
}

// chainForBase58 returns chain parameters whose base58 version bytes are this
// network's (they are the same object unless a future coin differs).
func (n *Network) chainForBase58() *chaincfg.Params {
	if n.Chain.PubKeyHashAddrID == n.P2PKHAddrID && n.Chain.ScriptHashAddrID == n.P2SHAddrID {
		return n.Chain
	}
	c := *n.Chain
	c.PubKeyHashAddrID = n.P2PKHAddrID
	c.ScriptHashAddrID = n.P2SHAddrID
	return &c
}

// PkScript returns the output script paying to addr (Electrum's
// address_to_script): OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG,
// OP_HASH160 <20> OP_EQUAL, or OP_n <program> for segwit. An address that is
// not valid on this network is an error wrapping ErrInvalidAddress. A
// network with a Codec decodes with it.
func (n *Network) PkScript(addr string) ([]byte, error) {
	if n.Codec != nil {
		return n.Codec.Decode(addr)
	}
	d, ok := n.decode(addr)
	if !ok {
		return nil, n.invalidAddress(addr)
	}
	return d.script(), nil
}

// script returns the output script of a decoded address.
func (d decodedAddr) script() []byte {
	switch d.kind {
	case kindP2PKH:
		return p2pkhScript(d.program)
	case kindP2SH:
		return p2shScript(d.program)
	default:
		return witnessScript(d.version, d.program)
	}
}

func p2pkhScript(h []byte) []byte {
	s := make([]byte, 0, 25)
	s = append(s, opDup, opHash160, 20)
	s = append(s, h...)
	return append(s, opEqualVerify, opCheckSig)
}

func p2shScript(h []byte) []byte {
	s := make([]byte, 0, 23)
	s = append(s, opHash160, 20)
	s = append(s, h...)
	return append(s, opEqual)
}

func witnessScript(version byte, prog []byte) []byte {
	s := make([]byte, 0, 2+len(prog))
	op := byte(opFalse)
	if version > 0 {
		op = op1 - 1 + version
	}
	s = append(s, op, byte(len(prog)))
	return append(s, prog...)
}

// AddressFromScript returns the address of an output script on this network,
// with Electrum's get_address_from_output_script templates: P2PKH and P2SH
// with direct 20-byte pushes, witness v0 with a 20- or 32-byte program, and
// witness v1..v16 with a 2..40-byte program. Any other script (bare pubkey,
// multisig, OP_RETURN, non-minimal pushes, trailing bytes) returns ok=false.
//
// A network with a Codec answers with its Bare form, the address as the
// reference wallet prints it (BCH: the cashaddr without its prefix, for
// P2PKH, P2SH and P2SH32 scripts).
func (n *Network) AddressFromScript(pkScript []byte) (addr string, ok bool) {
	if n.Codec != nil {
		a, err := n.Codec.Bare(pkScript)
		return a, err == nil
	}
	s := pkScript
	switch {
	case len(s) == 25 && s[0] == opDup && s[1] == opHash160 && s[2] == 20 &&
		s[23] == opEqualVerify && s[24] == opCheckSig:
		return base58.CheckEncode(s[3:23], n.P2PKHAddrID), true
	case len(s) == 23 && s[0] == opHash160 && s[1] == 20 && s[22] == opEqual:
		return base58.CheckEncode(s[2:22], n.P2SHAddrID), true
	case len(s) >= 4 && int(s[1]) == len(s)-2:
		var version byte
		switch {
		case s[0] == opFalse:
			if s[1] != 20 && s[1] != 32 {
				return "", false
			}
		case s[0] >= op1 && s[0] <= op16:
			if s[1] < 2 || s[1] > 40 {
				return "", false
			}
			version = s[0] - op1 + 1
		default:
			return "", false
		}
		a, err := n.encodeSegwit(version, s[2:])
		if err != nil {
			return "", false
		}
		return a, true
	}
	return "", false
}

// encodeSegwit returns the bech32 (version 0) or bech32m (other versions)
// address of a witness program.
func (n *Network) encodeSegwit(version byte, program []byte) (string, error) {
	if n.Bech32HRP == "" {
		return "", fmt.Errorf("%w: %s has no segwit addresses", ErrUnsupportedScript, n)
	}
	conv, err := bech32.ConvertBits(program, 8, 5, true)
	if err != nil {
		return "", err
	}
	data := make([]byte, 0, 1+len(conv))
	data = append(data, version)
	data = append(data, conv...)
	if version == 0 {
		return bech32.Encode(n.Bech32HRP, data)
	}
	return bech32.EncodeM(n.Bech32HRP, data)
}

// PubKeyAddress returns the address and output script of a single-key script
// type paying to the serialized public key pubKey (Electrum's
// pubkey_to_address): P2PKH accepts a 33-byte compressed or 65-byte
// uncompressed key, the segwit types only a compressed key. Another script
// type, or a key that is not 33 or 65 bytes, is an error wrapping
// ErrUnsupportedScript.
func (n *Network) PubKeyAddress(t ScriptType, pubKey []byte) (addr string, pkScript []byte, err error) {
	if len(pubKey) != 33 && len(pubKey) != 65 {
		return "", nil, fmt.Errorf("%w: a public key is 33 or 65 bytes", ErrUnsupportedScript)
	}
	return n.PubKeyHashAddress(t, address.Hash160(pubKey), len(pubKey) == 33)
}

// PubKeyHashAddress is PubKeyAddress given the HASH160 of the public key;
// compressed tells whether the hashed key was compressed (segwit types
// require it). On a network with a Codec the address is its Bare form.
func (n *Network) PubKeyHashAddress(t ScriptType, pkh []byte, compressed bool) (addr string, pkScript []byte, err error) {
	if len(pkh) != 20 {
		return "", nil, fmt.Errorf("%w: public key hash must be 20 bytes", ErrUnsupportedScript)
	}
	if t.Segwit() && !compressed {
		return "", nil, fmt.Errorf("%w: %s needs a compressed public key", ErrUnsupportedScript, t)
	}
	switch t {
	case P2PKH:
		if n.Codec != nil {
			script := p2pkhScript(pkh)
			a, err := n.Codec.Bare(script)
			return a, script, err
		}
		return base58.CheckEncode(pkh, n.P2PKHAddrID), p2pkhScript(pkh), nil
	case P2WPKH:
		a, err := n.encodeSegwit(0, pkh)
		if err != nil {
			return "", nil, err
		}
		return a, witnessScript(0, pkh), nil
	case P2WPKHP2SH:
		if n.Bech32HRP == "" {
			return "", nil, fmt.Errorf("%w: %s has no segwit", ErrUnsupportedScript, n)
		}
		sh := address.Hash160(witnessScript(0, pkh))
		return base58.CheckEncode(sh, n.P2SHAddrID), p2shScript(sh), nil
	}
	return "", nil, fmt.Errorf("%w: %s is not a single-key script type", ErrUnsupportedScript, t)
}

// WitnessAddress is a segwit address that Electrum accepts but btcd has no
// type for: witness version 1 with a program other than 32 bytes (or the
// pay-to-anchor program), or witness versions 2..16.
type WitnessAddress struct {
	hrp     string
	version byte
	program []byte
}

// EncodeAddress returns the lower-case bech32m encoding of the address.
func (a *WitnessAddress) EncodeAddress() string {
	conv, err := bech32.ConvertBits(a.program, 8, 5, true)
	if err != nil {
		return ""
	}
	s, err := bech32.EncodeM(a.hrp, append([]byte{a.version}, conv...))
	if err != nil {
		return ""
	}
	return s
}

// String is EncodeAddress.
func (a *WitnessAddress) String() string { return a.EncodeAddress() }

// ScriptAddress returns a copy of the witness program.
func (a *WitnessAddress) ScriptAddress() []byte { return append([]byte(nil), a.program...) }

// IsForNet reports whether the address's HRP is the one of net.
func (a *WitnessAddress) IsForNet(net *chaincfg.Params) bool { return a.hrp == net.Bech32HRPSegwit }

// WitnessVersion returns the witness version (1..16).
func (a *WitnessAddress) WitnessVersion() byte { return a.version }

// WitnessProgram returns a copy of the witness program (2..40 bytes).
func (a *WitnessAddress) WitnessProgram() []byte { return append([]byte(nil), a.program...) }
