package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/params"
)

// ecOldKeys is an Electrum 1.x ("old") keystore as Electron Cash's
// Old_KeyStore derives it: a 64-byte master public key (the uncompressed
// point without its 0x04 byte), and child i of chain c (0 receiving, 1
// change) is mpk + z·G with z = sha256d("i:c:" || mpk). Addresses pay the
// UNCOMPRESSED child key. It is immutable once built.
type ecOldKeys struct {
	mpk         [64]byte
	mpkText     string              // what getmpk shows
	point       btcec.JacobianPoint // mpk, affine
	fingerprint string
	sec         *ecOldSecret // nil for a master public key
}

// ecOldSecret is the stretched master secret of an old seed.
type ecOldSecret struct{ k btcec.ModNScalar }

// ecOldSeedHex is Old_KeyStore.format_seed: the normalized text when
// bytes.fromhex accepts it (the hex form, kept as typed after
// normalization), else the hex that mn_decode gives its words.
func ecOldSeedHex(text string) (string, bool) {
	t := ecNormalizeText(text)
	if _, ok := pyFromHexLen(t); ok && t != "" {
		return t, true
	}
	h, ok := ecOldMnDecode(pySplit(t))
	return h, ok && h != ""
}

// ecOldFromSeed is Old_KeyStore.add_seed: the master secret is the seed's
// hex text stretched by 100000 rounds of x = sha256(x || seed), read as a
// big-endian number that must be a valid secret (below the curve order).
func ecOldFromSeed(text string, n *params.Network) (*ecOldKeys, error) {
	seedHex, ok := ecOldSeedHex(text)
	if !ok {
		return nil, fmt.Errorf("%w: invalid old seed", ErrUnrecognized)
	}
	seed := []byte(seedHex)
	h := sha256.New()
	h.Write(seed)
	h.Write(seed)
	x := h.Sum(make([]byte, 0, sha256.Size))
	for i := 1; i < 100000; i++ {
		h.Reset()
		h.Write(x)
		h.Write(seed)
		x = h.Sum(x[:0])
	}
	h.Reset()
	clear(seed)
	sec := &ecOldSecret{}
	overflow := sec.k.SetByteSlice(x)
	clear(x)
	if overflow || sec.k.IsZero() {
		return nil, fmt.Errorf("%w: old seed stretches to an invalid secret", ErrUnsupportedKey)
	}
	var p btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&sec.k, &p)
	p.ToAffine()
	pub := btcec.NewPublicKey(&p.X, &p.Y).SerializeUncompressed()
	o := newECOldKeys(pub[1:], hex.EncodeToString(pub[1:]), n)
	o.sec = sec
	return o, nil
}

// ecOldFromMPK is keystore.from_old_mpk for a master public key that is 128
// hex digits of a point on the curve (Electron Cash accepts any 128-digit
// number here, then fails to derive from one that is not a point).
func ecOldFromMPK(text string, n *params.Network) (*ecOldKeys, error) {
	b, err := hex.DecodeString(text)
	if err != nil || len(b) != 64 {
		return nil, fmt.Errorf("%w: old master public key is not 64 bytes of hex", ErrUnsupportedKey)
	}
	if _, err := btcec.ParsePubKey(append([]byte{0x04}, b...)); err != nil {
		return nil, fmt.Errorf("%w: old master public key is not a point", ErrUnsupportedKey)
	}
	return newECOldKeys(b, text, n), nil
}

func newECOldKeys(mpk []byte, text string, n *params.Network) *ecOldKeys {
	o := &ecOldKeys{mpkText: text}
	copy(o.mpk[:], mpk)
	pk, _ := btcec.ParsePubKey(append([]byte{0x04}, mpk...)) // checked by callers
	pk.AsJacobian(&o.point)
	h := sha256.New()
	h.Write(fingerprintHeader(n, "old"))
	h.Write(mpk)
	o.fingerprint = hex.EncodeToString(h.Sum(nil))
	return o
}

// sequence is Old_KeyStore.get_sequence: sha256d("%d:%d:" % (n, for_change)
// + mpk) as a scalar (reduced modulo the order, as z·G is).
func (o *ecOldKeys) sequence(change bool, index uint32) btcec.ModNScalar {
	c := 0
	if change {
		c = 1
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d:%d:", index, c)
	h.Write(o.mpk[:])
	first := h.Sum(nil)
	z := sha256.Sum256(first)
	var s btcec.ModNScalar
	s.SetByteSlice(z[:])
	return s
}

// derive is Old_KeyStore.get_pubkey_from_mpk with its P2PKH script.
func (o *ecOldKeys) derive(change bool, index uint32) (Key, error) {
	z := o.sequence(change, index)
	var zG, sum btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&z, &zG)
	btcec.AddNonConst(&o.point, &zG, &sum)
	if (sum.X.IsZero() && sum.Y.IsZero()) || sum.Z.IsZero() {
		return Key{}, fmt.Errorf("keys: old keystore child %d is the point at infinity", index)
	}
	sum.ToAffine()
	pub := btcec.NewPublicKey(&sum.X, &sum.Y).SerializeUncompressed()
	return Key{PubKey: pub, PkScript: p2pkhScriptOf(pub), ScriptType: params.P2PKH,
		Change: change, Index: index}, nil
}

// privKey is Old_KeyStore.get_private_key_from_stretched_exponent:
// (secret + z) mod n.
func (o *ecOldKeys) privKey(change bool, index uint32) (*btcec.PrivateKey, error) {
	z := o.sequence(change, index)
	var k btcec.ModNScalar
	k.Set(&o.sec.k).Add(&z)
	if k.IsZero() {
		return nil, fmt.Errorf("keys: old keystore child %d has a zero key", index)
	}
	p := btcec.PrivKeyFromScalar(&k)
	k.Zero()
	return p, nil
}

// p2pkhScriptOf returns the P2PKH output script of a serialized public key.
func p2pkhScriptOf(pub []byte) []byte {
	s := make([]byte, 0, 25)
	s = append(s, 0x76, 0xa9, 20) // OP_DUP OP_HASH160 <20>
	s = append(s, address.Hash160(pub)...)
	return append(s, 0x88, 0xac) // OP_EQUALVERIFY OP_CHECKSIG
}
