package keys

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/params"
)

// hardened is the first hardened BIP32 child index.
const hardened = uint32(0x80000000)

// errInvalidChild marks a BIP32 child whose derivation falls outside the
// curve (probability below 2^-127); Electrum then skips to the next index.
var errInvalidChild = errors.New("keys: invalid bip32 child")

// extKey is a BIP32 extended key. It is immutable once built, so it can be
// shared between goroutines. Unlike btcd's hdkeychain.ExtendedKey it keeps the
// parent point in affine form (so public derivation costs one base-point
// multiplication and one addition) and never memoizes lazily.
type extKey struct {
	depth     byte
	parentFP  [4]byte
	childNum  uint32
	chainCode [32]byte
	pub       [33]byte            // compressed public key
	point     btcec.JacobianPoint // pub as an affine point (Z = 1)
	priv      *btcec.ModNScalar   // nil for a public key
}

// newExtKeyFromPriv builds an extended key from a private scalar, computing
// its public key.
func newExtKeyFromPriv(k *btcec.ModNScalar, chainCode []byte) *extKey {
	x := &extKey{priv: new(btcec.ModNScalar).Set(k)}
	copy(x.chainCode[:], chainCode)
	btcec.ScalarBaseMultNonConst(k, &x.point)
	x.point.ToAffine()
	x.pub = compressPoint(&x.point)
	return x
}

// compressPoint serializes an affine point in compressed form.
func compressPoint(p *btcec.JacobianPoint) [33]byte {
	var out [33]byte
	out[0] = 0x02
	if p.Y.IsOdd() {
		out[0] = 0x03
	}
	p.X.PutBytesUnchecked(out[1:])
	return out
}

// masterFromSeed is BIP32's master key: HMAC-SHA512("Bitcoin seed", seed).
// Like Electrum (BIP32Node.from_rootseed) it fails rather than retrying when
// the left half is not a valid scalar.
func masterFromSeed(seed []byte) (*extKey, error) {
	m := hmac.New(sha512.New, []byte("Bitcoin seed"))
	m.Write(seed)
	I := m.Sum(nil)
	var k btcec.ModNScalar
	if overflow := k.SetByteSlice(I[:32]); overflow || k.IsZero() {
		return nil, errInvalidChild
	}
	x := newExtKeyFromPriv(&k, I[32:])
	k.Zero()
	return x, nil
}

// child derives child index i with Electrum's protect_against_invalid_ecpoint:
// an invalid child is skipped for the next index (without crossing into or
// out of the hardened range), and the result keeps the requested index as its
// child number. A public key derives only non-hardened children.
func (k *extKey) child(i uint32) (*extKey, error) {
	j := i
	for {
		c, err := k.childOnce(j)
		if err == nil {
			c.childNum = i
			return c, nil
		}
		if !errors.Is(err, errInvalidChild) || (j+1)&hardened != i&hardened {
			return nil, err
		}
		j++
	}
}

// childOnce is BIP32's CKDpriv / CKDpub for one index.
func (k *extKey) childOnce(i uint32) (*extKey, error) {
	var data [37]byte
	if i >= hardened {
		if k.priv == nil {
			return nil, errors.New("keys: hardened derivation needs a private key")
		}
		k.priv.PutBytesUnchecked(data[1:33])
	} else {
		copy(data[:33], k.pub[:])
	}
	binary.BigEndian.PutUint32(data[33:], i)
	m := hmac.New(sha512.New, k.chainCode[:])
	m.Write(data[:])
	I := m.Sum(nil)
	clear(data[:])
	var il btcec.ModNScalar
	if overflow := il.SetByteSlice(I[:32]); overflow {
		return nil, errInvalidChild
	}
	var c *extKey
	if k.priv != nil {
		il.Add(k.priv)
		if il.IsZero() {
			return nil, errInvalidChild
		}
		c = newExtKeyFromPriv(&il, I[32:])
		il.Zero()
	} else {
		var sum btcec.JacobianPoint
		kb := il.Bytes()
		parent := affine{x: fromFieldVal(&k.point.X), y: fromFieldVal(&k.point.Y)}
		var p jac
		if mulBaseAdd(&kb, &parent, &p) {
			sum = btcec.JacobianPoint{X: p.x.fieldVal(), Y: p.y.fieldVal(), Z: p.z.fieldVal()}
		} else {
			var ilG btcec.JacobianPoint
			btcec.ScalarBaseMultNonConst(&il, &ilG)
			btcec.AddNonConst(&ilG, &k.point, &sum)
			if (sum.X.IsZero() && sum.Y.IsZero()) || sum.Z.IsZero() {
				return nil, errInvalidChild
			}
		}
		sum.ToAffine()
		c = &extKey{point: sum}
		c.pub = compressPoint(&sum)
		copy(c.chainCode[:], I[32:])
	}
	c.depth = k.depth + 1
	copy(c.parentFP[:], address.Hash160(k.pub[:])[:4])
	return c, nil
}

// pubChildren returns the compressed public keys of k's non-hardened
// children [from, from+n) (only k's public part is used): each is what
// child(i).pub is, computed with one field inversion per goroutine for all
// of them (Montgomery's trick) instead of one each, and split over up to
// GOMAXPROCS goroutines when there are enough. An index whose derivation
// is invalid (probability below 2^-127) takes child's path, with its skip.
func (k *extKey) pubChildren(from uint32, n int) ([][33]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	if from >= hardened || uint64(from)+uint64(n) > uint64(hardened) {
		return nil, errors.New("keys: hardened derivation needs a private key")
	}
	out := make([][33]byte, n)
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker)
	if workers <= 1 {
		return out, k.pubChildrenInto(from, out)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per, min((w+1)*per, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = k.pubChildrenInto(from+uint32(lo), out[lo:hi])
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// minPerWorker is the fewest children a goroutine of pubChildren derives.
const minPerWorker = 8

// pubChildrenInto derives children from, from+1, … into out: each is
// parent + IL·G (mulBaseAdd), then all are made affine with one field
// inversion (Montgomery's trick).
func (k *extKey) pubChildrenInto(from uint32, out [][33]byte) error {
	mac := hmac.New(sha512.New, k.chainCode[:])
	pts := make([]jac, len(out))
	slow := make([]bool, len(out))
	parent := affine{x: fromFieldVal(&k.point.X), y: fromFieldVal(&k.point.Y)}
	var data [37]byte
	copy(data[:33], k.pub[:])
	var I [64]byte
	for j := range out {
		binary.BigEndian.PutUint32(data[33:], from+uint32(j))
		mac.Reset()
		mac.Write(data[:])
		mac.Sum(I[:0])
		var il btcec.ModNScalar
		if overflow := il.SetByteSlice(I[:32]); overflow {
			slow[j] = true
			continue
		}
		kb := il.Bytes()
		if !mulBaseAdd(&kb, &parent, &pts[j]) {
			slow[j] = true
		}
	}
	clear(I[:])
	// Montgomery's trick: invert the product of the Zs once.
	prefix := make([]fe, len(out))
	acc := fe{1}
	for j := range pts {
		prefix[j] = acc
		if !slow[j] {
			acc.mul(&acc, &pts[j].z)
		}
	}
	inv := acc.fieldVal()
	inv.Inverse()
	acc = fromFieldVal(&inv)
	for j := len(pts) - 1; j >= 0; j-- {
		if slow[j] {
			continue
		}
		p := &pts[j]
		var zInv, zInv2, x, y fe
		zInv.mul(&acc, &prefix[j]) // 1/Z_j
		acc.mul(&acc, &p.z)        // 1/(Z_1…Z_{j-1})
		zInv2.sqr(&zInv)
		x.mul(&p.x, &zInv2)
		zInv2.mul(&zInv2, &zInv)
		y.mul(&p.y, &zInv2)
		y.normalize()
		out[j][0] = 0x02 | byte(y[0]&1)
		xb := x.bytes()
		copy(out[j][1:], xb[:])
	}
	for j := range out {
		if slow[j] {
			c, err := k.child(from + uint32(j))
			if err != nil {
				return err
			}
			out[j] = c.pub
		}
	}
	return nil
}

// public returns the key without its private part.
func (k *extKey) public() *extKey {
	c := *k
	c.priv = nil
	return &c
}

// serialize returns the 78-byte BIP32 serialization with the given version;
// the private form when private is true (k must then hold a private key).
func (k *extKey) serialize(version [4]byte, private bool) []byte {
	b := make([]byte, 0, 78)
	b = append(b, version[:]...)
	b = append(b, k.depth)
	b = append(b, k.parentFP[:]...)
	b = binary.BigEndian.AppendUint32(b, k.childNum)
	b = append(b, k.chainCode[:]...)
	if private {
		var s [32]byte
		k.priv.PutBytesUnchecked(s[:])
		b = append(b, 0)
		b = append(b, s[:]...)
		clear(s[:])
	} else {
		b = append(b, k.pub[:]...)
	}
	return b
}

// base58Check returns the base58check encoding (double-SHA256 checksum) of payload.
func base58Check(payload []byte) string {
	sum := chainhash.DoubleHashB(payload)
	b := make([]byte, 0, len(payload)+4)
	b = append(b, payload...)
	b = append(b, sum[:4]...)
	s := base58.Encode(b)
	clear(b)
	return s
}

// decodeBase58Check is Electrum's DecodeBase58Check: the payload, or ok=false
// on a bad character, a short string or a checksum mismatch. A string longer
// than maxLen is refused before decoding (btcd's base58 decoding is
// quadratic in its length).
func decodeBase58Check(s string, maxLen int) ([]byte, bool) {
	if len(s) > maxLen {
		return nil, false
	}
	b := base58.Decode(s)
	if len(b) < 4 {
		return nil, false
	}
	payload, sum := b[:len(b)-4], b[len(b)-4:]
	want := chainhash.DoubleHashB(payload)
	if !hmac.Equal(sum, want[:4]) {
		clear(b)
		return nil, false
	}
	return payload, true
}

// parseExtKey is Electrum 4.3.4's BIP32Node.from_xkey for network n: a
// base58check string of 78 bytes whose version is one of n's SLIP-132
// versions. The version alone decides public or private, as in Electrum: a
// private key is the last 32 bytes (the padding byte is not checked) and must
// be a scalar in [1, n-1]; a public key must be a valid compressed point.
func parseExtKey(s string, n *params.Network) (k *extKey, t params.ScriptType, private bool, ok bool) {
	b, ok := decodeBase58Check(s, maxExtKeyLen)
	if !ok || len(b) != 78 {
		clear(b)
		return nil, 0, false, false
	}
	defer clear(b)
	var version [4]byte
	copy(version[:], b[:4])
	t, private, ok = n.LookupHDVersion(version)
	if !ok {
		return nil, 0, false, false
	}
	chain := b[13:45]
	if private {
		var sc btcec.ModNScalar
		if overflow := sc.SetByteSlice(b[46:78]); overflow || sc.IsZero() {
			return nil, 0, false, false
		}
		k = newExtKeyFromPriv(&sc, chain)
		sc.Zero()
	} else {
		pk, err := btcec.ParsePubKey(b[45:78])
		if err != nil {
			return nil, 0, false, false
		}
		k = &extKey{}
		pk.AsJacobian(&k.point)
		copy(k.pub[:], b[45:78])
		copy(k.chainCode[:], chain)
	}
	k.depth = b[4]
	copy(k.parentFP[:], b[5:9])
	k.childNum = binary.BigEndian.Uint32(b[9:13])
	return k, t, private, true
}
