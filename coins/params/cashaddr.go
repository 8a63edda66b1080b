package params

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2/base58"
	bchcfg "github.com/gcash/bchd/chaincfg"
	"github.com/gcash/bchutil"
)

// ErrAddressChecksum is returned, wrapped together with ErrInvalidAddress,
// when a string is a cashaddr of the network's form whose checksum is wrong
// and not a base58 string either: the case Electron Cash reports as "invalid
// checksum in address" (Bitcart's BCH spec maps it to its own code).
var ErrAddressChecksum = errors.New("params: invalid checksum in address")

// opHash256 is OP_HASH256, the hash of P2SH32 output scripts.
const opHash256 = 0xaa

// Cashaddr types (the high bits of the version byte): plain and token-aware
// (CashTokens CHIP) forms of the two address kinds.
const (
	cashP2PKH      = 0
	cashP2SH       = 1
	cashTokenP2PKH = 2
	cashTokenP2SH  = 3
)

// cashCharset is the cashaddr base32 alphabet.
const cashCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// CashKind is the kind of a Bitcoin Cash address: the output script it pays.
type CashKind int

const (
	// CashKindP2PKH pays to a public key hash (20 bytes).
	CashKindP2PKH CashKind = iota + 1
	// CashKindP2SH pays to a script hash: 20 bytes (P2SH) or 32 bytes
	// (P2SH32, OP_HASH256).
	CashKindP2SH
)

// CashAddress is a decoded Bitcoin Cash address: Electron Cash's Address
// (kind and hash) plus how it was written.
type CashAddress struct {
	// Kind is CashKindP2PKH or CashKindP2SH.
	Kind CashKind
	// Hash is the 20-byte hash160, or the 32-byte hash256 of a P2SH32.
	Hash []byte
	// TokenAware is true when the address was written with a token-aware
	// cashaddr type (2 or 3, "z…"/"r…"): it pays the same script, and
	// tells the payer the receiver accepts CashTokens.
	TokenAware bool
	// Legacy is true when the address was written in base58.
	Legacy bool
}

// Script returns the output script the address pays: P2PKH, P2SH
// (OP_HASH160 <20> OP_EQUAL) or P2SH32 (OP_HASH256 <32> OP_EQUAL).
func (a CashAddress) Script() []byte {
	if a.Kind == CashKindP2PKH {
		return p2pkhScript(a.Hash)
	}
	if len(a.Hash) == 32 {
		s := make([]byte, 0, 35)
		s = append(s, opHash256, 32)
		s = append(s, a.Hash...)
		return append(s, opEqual)
	}
	return p2shScript(a.Hash)
}

// CashAddr is the address codec of one Bitcoin Cash network, with Electron
// Cash 4.4.2's rules (address.py, cashaddr.py). It implements AddressCodec;
// it is immutable and safe for concurrent use.
//
// Decoding goes through bchd's bchutil for the cashaddr checksum; encoding
// uses bchutil for plain 20-byte addresses and, where bchutil cannot
// (token-aware types 2 and 3, 32-byte P2SH32 hashes, which its encoder
// truncates to 20 bytes), the cashaddr packing and checksum of the spec
// (cashAddrEncode below).
type CashAddr struct {
	prefix  string
	p2pkhID byte
	p2shID  byte
	node    *bchcfg.Params // carries only CashAddressPrefix, for bchutil
}

// maxCashAddrPayloadLen is the longest cashaddr after its prefix and ':':
// the specification's largest hash (64 bytes) with its version byte in
// 5-bit groups (104) and the 8-character checksum.
const maxCashAddrPayloadLen = 112

// maxCashBase58Len is the longest legacy address Parse decodes: a 33-byte
// payload with its 4-byte checksum is at most 51 base58 characters.
const maxCashBase58Len = 51

// NewCashAddr returns the codec of the network whose cashaddr prefix is
// prefix ("bitcoincash", "bchtest", "bchreg", lower case) and whose legacy
// base58 version bytes are p2pkhID and p2shID.
func NewCashAddr(prefix string, p2pkhID, p2shID byte) *CashAddr {
	return &CashAddr{prefix: prefix, p2pkhID: p2pkhID, p2shID: p2shID,
		node: &bchcfg.Params{CashAddressPrefix: prefix}}
}

// Prefix returns the cashaddr prefix (lower case, without ':').
func (c *CashAddr) Prefix() string { return c.prefix }

// Valid is Electron Cash's Address.is_valid: s is a cashaddr of this network
// with or without its prefix (all lower or all upper case; types 0-3; a
// 20-byte P2PKH hash or a 20- or 32-byte P2SH hash), or a base58 address
// with this network's P2PKH or P2SH version byte. Nothing is trimmed.
func (c *CashAddr) Valid(s string) bool {
	_, err := c.Parse(s)
	return err == nil
}

// Decode returns the output script paid by address s (see Valid for the
// accepted forms). An invalid address is an error wrapping ErrInvalidAddress
// (and ErrAddressChecksum for a bad cashaddr checksum); it never contains s.
func (c *CashAddr) Decode(s string) ([]byte, error) {
	a, err := c.Parse(s)
	if err != nil {
		return nil, err
	}
	return a.Script(), nil
}

// Parse decodes s as Electron Cash's Address.from_string does: first as a
// cashaddr (the prefix is added when absent), then as base58. See Decode for
// the errors.
func (c *CashAddr) Parse(s string) (CashAddress, error) {
	if len(s) > len(c.prefix)+1+maxCashAddrPayloadLen {
		// Refused before any decoding: base58 decoding is quadratic in
		// the input's length (a megabyte would cost seconds of CPU).
		return CashAddress{}, fmt.Errorf("%w for BCH %s: %d characters", ErrInvalidAddress, c.prefix, len(s))
	}
	a, cashErr := c.parseCash(s)
	if cashErr == nil {
		return a, nil
	}
	raw, ok := base58CheckDecode(s)
	if !ok {
		if errors.Is(cashErr, ErrAddressChecksum) {
			return CashAddress{}, fmt.Errorf("%w for BCH %s: %w", ErrInvalidAddress, c.prefix, ErrAddressChecksum)
		}
		return CashAddress{}, fmt.Errorf("%w for BCH %s", ErrInvalidAddress, c.prefix)
	}
	if len(raw) != 21 && len(raw) != 33 {
		return CashAddress{}, fmt.Errorf("%w for BCH %s: base58 payload of %d bytes", ErrInvalidAddress, c.prefix, len(raw))
	}
	a = CashAddress{Hash: raw[1:], Legacy: true}
	switch raw[0] {
	case c.p2pkhID:
		a.Kind = CashKindP2PKH
		if len(a.Hash) != 20 {
			return CashAddress{}, fmt.Errorf("%w for BCH %s: P2PKH hash of %d bytes", ErrInvalidAddress, c.prefix, len(a.Hash))
		}
	case c.p2shID:
		a.Kind = CashKindP2SH
	default:
		return CashAddress{}, fmt.Errorf("%w for BCH %s: version byte %d", ErrInvalidAddress, c.prefix, raw[0])
	}
	return a, nil
}

// parseCash is Address.from_cashaddr_string with cashaddr.decode.
func (c *CashAddr) parseCash(s string) (CashAddress, error) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 { // no cashaddr (nor base58) character is outside ASCII
			return CashAddress{}, errors.New("non-ASCII character")
		}
	}
	prefix := c.prefix
	if strings.ToUpper(s) == s {
		prefix = strings.ToUpper(prefix)
	}
	if !strings.HasPrefix(s, prefix+":") {
		s = prefix + ":" + s
	}
	lower := strings.ToLower(s)
	if lower != s && strings.ToUpper(s) != s {
		return CashAddress{}, errors.New("mixed case")
	}
	payload := lower[len(prefix)+1:]
	if len(payload) < 8 || len(payload) > 124 {
		return CashAddress{}, errors.New("payload length")
	}
	if strings.Trim(payload, cashCharset) != "" {
		return CashAddress{}, errors.New("invalid character")
	}
	// The checksum (and the 5-bit values) through bchutil.
	_, data, err := bchutil.DecodeCashAddress(s)
	if errors.Is(err, bchutil.ErrChecksumMismatch) {
		return CashAddress{}, ErrAddressChecksum
	}
	if err != nil {
		return CashAddress{}, err
	}
	if len(data) == 0 {
		return CashAddress{}, errors.New("empty payload")
	}
	extra := len(data) * 5 % 8
	if extra >= 5 {
		return CashAddress{}, errors.New("excess padding")
	}
	if data[len(data)-1]&(1<<extra-1) != 0 {
		return CashAddress{}, errors.New("non-zero padding")
	}
	decoded := regroup(data, 5, 8, false)
	if len(decoded) == 0 {
		return CashAddress{}, errors.New("empty payload")
	}
	version, hash := decoded[0], decoded[1:]
	size := int(version&0x03)*4 + 20
	if version&0x04 != 0 {
		size <<= 1
	}
	if size != len(hash) {
		return CashAddress{}, errors.New("hash length does not match its version byte")
	}
	a := CashAddress{Hash: hash}
	switch version >> 3 {
	case cashP2PKH, cashTokenP2PKH:
		a.Kind = CashKindP2PKH
	case cashP2SH, cashTokenP2SH:
		a.Kind = CashKindP2SH
	default:
		return CashAddress{}, errors.New("unknown cashaddr type")
	}
	a.TokenAware = version>>3 >= cashTokenP2PKH
	if (a.Kind == CashKindP2PKH && len(hash) != 20) || (len(hash) != 20 && len(hash) != 32) {
		return CashAddress{}, errors.New("hash length not allowed for the kind")
	}
	return a, nil
}

// regroup is cashaddr._convertbits: values of from bits regrouped into
// values of to bits; with pad a last partial group is zero-padded, without
// it the leftover bits are dropped (the decoder checks them first).
func regroup(data []byte, from, to uint, pad bool) []byte {
	out := make([]byte, 0, (len(data)*int(from)+int(to)-1)/int(to))
	mask := uint32(1)<<to - 1
	var acc uint32
	var bits uint
	for _, v := range data {
		acc = acc<<from | uint32(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&mask))
		}
	}
	if pad && bits > 0 {
		out = append(out, byte(acc<<(to-bits)&mask))
	}
	return out
}

// base58CheckDecode is Electron Cash's Base58.decode_check: the payload
// (version byte included), or ok=false for an empty string, a character
// outside the alphabet or a checksum mismatch.
func base58CheckDecode(s string) ([]byte, bool) {
	if s == "" || len(s) > maxCashBase58Len {
		return nil, false
	}
	b := base58.Decode(s)
	if len(b) < 4 {
		return nil, false
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	h1 := sha256.Sum256(payload)
	h2 := sha256.Sum256(h1[:])
	if !bytes.Equal(sum, h2[:4]) {
		return nil, false
	}
	return payload, true
}

// addressOf returns the address paid by one of the three output script
// templates Electron Cash gives an address (get_address_from_output_script):
// P2PKH, P2SH and P2SH32, each with a direct push of its hash.
func addressOf(pkScript []byte) (CashAddress, bool) {
	s := pkScript
	switch {
	case len(s) == 25 && s[0] == opDup && s[1] == opHash160 && s[2] == 20 &&
		s[23] == opEqualVerify && s[24] == opCheckSig:
		return CashAddress{Kind: CashKindP2PKH, Hash: bytes.Clone(s[3:23])}, true
	case len(s) == 23 && s[0] == opHash160 && s[1] == 20 && s[22] == opEqual:
		return CashAddress{Kind: CashKindP2SH, Hash: bytes.Clone(s[2:22])}, true
	case len(s) == 35 && s[0] == opHash256 && s[1] == 32 && s[34] == opEqual:
		return CashAddress{Kind: CashKindP2SH, Hash: bytes.Clone(s[2:34])}, true
	}
	return CashAddress{}, false
}

func (c *CashAddr) scriptAddress(pkScript []byte) (CashAddress, error) {
	a, ok := addressOf(pkScript)
	if !ok {
		return CashAddress{}, fmt.Errorf("%w: not a P2PKH, P2SH or P2SH32 output script", ErrUnsupportedScript)
	}
	return a, nil
}

// Encode returns the full cashaddr of pkScript, with the prefix
// ("bitcoincash:q…"): Electron Cash's to_full_string(FMT_CASHADDR). Scripts
// other than P2PKH, P2SH and P2SH32 (a CashTokens-prefixed script included:
// split the token prefix off first) are an error wrapping
// ErrUnsupportedScript.
func (c *CashAddr) Encode(pkScript []byte) (string, error) {
	b, err := c.Bare(pkScript)
	if err != nil {
		return "", err
	}
	return c.prefix + ":" + b, nil
}

// Bare returns the cashaddr of pkScript without its prefix, the form
// Electron Cash prints (to_ui_string) and Bitcart puts in a request's
// "address" and in new_payment.
func (c *CashAddr) Bare(pkScript []byte) (string, error) {
	a, err := c.scriptAddress(pkScript)
	if err != nil {
		return "", err
	}
	return c.encode(a, false), nil
}

// Token returns the full token-aware cashaddr of pkScript (type 2 or 3,
// "bitcoincash:z…" for P2PKH, "r…" for P2SH): Electron Cash's
// to_full_token_string.
func (c *CashAddr) Token(pkScript []byte) (string, error) {
	a, err := c.scriptAddress(pkScript)
	if err != nil {
		return "", err
	}
	return c.prefix + ":" + c.encode(a, true), nil
}

// Legacy returns the base58 form of pkScript with the network's version
// bytes (Electron Cash's FMT_LEGACY, also its storage form).
func (c *CashAddr) Legacy(pkScript []byte) (string, error) {
	a, err := c.scriptAddress(pkScript)
	if err != nil {
		return "", err
	}
	v := c.p2pkhID
	if a.Kind == CashKindP2SH {
		v = c.p2shID
	}
	return base58.CheckEncode(a.Hash, v), nil
}

// Normalize returns the full cashaddr of a valid address s in any accepted
// form (a token-aware one becomes the plain form: both pay the same script).
func (c *CashAddr) Normalize(s string) (string, error) {
	script, err := c.Decode(s)
	if err != nil {
		return "", err
	}
	return c.Encode(script)
}

// IsTokenAware is Electron Cash's Address.is_token: s is a valid cashaddr of
// this network written with a token-aware type.
func (c *CashAddr) IsTokenAware(s string) bool {
	a, err := c.parseCash(s)
	return err == nil && a.TokenAware
}

// encode returns the prefix-less cashaddr of a, token-aware when token is
// set. Plain 20-byte forms go through bchutil.
func (c *CashAddr) encode(a CashAddress, token bool) string {
	if !token && len(a.Hash) == 20 {
		var addr bchutil.Address
		var err error
		if a.Kind == CashKindP2PKH {
			addr, err = bchutil.NewAddressPubKeyHash(a.Hash, c.node)
		} else {
			addr, err = bchutil.NewAddressScriptHashFromHash(a.Hash, c.node)
		}
		if err == nil {
			return addr.EncodeAddress()
		}
	}
	typ := byte(cashP2PKH)
	if a.Kind == CashKindP2SH {
		typ = cashP2SH
	}
	if token {
		typ += cashTokenP2PKH
	}
	return cashAddrEncode(c.prefix, typ, a.Hash)
}

// cashAddrEncode is cashaddr.encode: the version byte (type << 3 | size
// bits) and the hash in 5-bit groups, then the 8-character checksum over
// the expanded prefix. The hash must be 20, 24, 28, 32, 40, 48, 56 or 64
// bytes (callers pass 20 or 32).
func cashAddrEncode(prefix string, typ byte, hash []byte) string {
	offset, sizeBits := 1, byte(0)
	if len(hash) >= 40 {
		offset, sizeBits = 2, 0x04
	}
	sizeBits |= byte((len(hash) - 20*offset) / (4 * offset))
	five := regroup(append([]byte{typ<<3 | sizeBits}, hash...), 8, 5, true)
	values := make([]byte, 0, len(prefix)+1+len(five)+8)
	for i := 0; i < len(prefix); i++ {
		values = append(values, prefix[i]&0x1f)
	}
	values = append(values, 0)
	values = append(values, five...)
	values = append(values, 0, 0, 0, 0, 0, 0, 0, 0)
	mod := cashPolymod(values)
	var b strings.Builder
	b.Grow(len(five) + 8)
	for _, v := range five {
		b.WriteByte(cashCharset[v])
	}
	for i := 0; i < 8; i++ {
		b.WriteByte(cashCharset[(mod>>(5*(7-i)))&31])
	}
	return b.String()
}

// cashPolymod is the cashaddr BCH-code checksum (cashaddr._polymod).
func cashPolymod(values []byte) uint64 {
	c := uint64(1)
	for _, d := range values {
		c0 := c >> 35
		c = (c&0x07ffffffff)<<5 ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	return c ^ 1
}

// Compile-time check: CashAddr is an AddressCodec.
var _ AddressCodec = (*CashAddr)(nil)
