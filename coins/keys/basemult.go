package keys

import (
	"math/bits"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
)

// This file is the public derivation's hot path: child = parent + IL·G for
// many children at once (a new wallet's addresses). btcec's base-point
// multiplication adds 32 table points (8-bit windows) with its 10×26-bit
// field arithmetic; here the field is 4×64 bits (math/bits products, about
// a third of the multiplications) and the table has signed windows of
// baseWindow bits (baseWindows additions instead of 32), built once, on the
// first derivation, and only read afterwards (baseTableBytes of memory).
// Any case the formulas below do not cover (a point at infinity on the
// way, an addition of equal x) makes the caller fall back to btcec.
//
// Nothing here is constant-time: it only ever sees public data (an
// extended public key and child indexes). Private derivation stays on
// btcec's paths.

// fe is a field element mod p = 2^256 - 2^32 - 977, four little-endian
// 64-bit limbs holding a value in [0, 2^256) (not necessarily below p
// until normalized).
type fe [4]uint64

// feC is 2^256 mod p.
const feC = 0x1000003D1

// feP is p.
var feP = fe{0xFFFFFFFEFFFFFC2F, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF}

// mul sets r = a·b (schoolbook, unrolled).
func (r *fe) mul(a, b *fe) {
	var t [8]uint64
	var c, hi, lo, carry uint64
	b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
	// row 0
	ai := a[0]
	carry = 0
	hi, lo = bits.Mul64(ai, b0)
	t[0] = lo
	carry = hi
	hi, lo = bits.Mul64(ai, b1)
	lo, c = bits.Add64(lo, carry, 0)
	t[1] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b2)
	lo, c = bits.Add64(lo, carry, 0)
	t[2] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b3)
	lo, c = bits.Add64(lo, carry, 0)
	t[3] = lo
	carry = hi + c
	t[4] = carry
	// row 1
	ai = a[1]
	carry = 0
	hi, lo = bits.Mul64(ai, b0)
	lo, c = bits.Add64(lo, t[1], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[1] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b1)
	lo, c = bits.Add64(lo, t[2], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[2] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b2)
	lo, c = bits.Add64(lo, t[3], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[3] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b3)
	lo, c = bits.Add64(lo, t[4], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[4] = lo
	carry = hi + c
	t[5] = carry
	// row 2
	ai = a[2]
	carry = 0
	hi, lo = bits.Mul64(ai, b0)
	lo, c = bits.Add64(lo, t[2], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[2] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b1)
	lo, c = bits.Add64(lo, t[3], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[3] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b2)
	lo, c = bits.Add64(lo, t[4], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[4] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b3)
	lo, c = bits.Add64(lo, t[5], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[5] = lo
	carry = hi + c
	t[6] = carry
	// row 3
	ai = a[3]
	carry = 0
	hi, lo = bits.Mul64(ai, b0)
	lo, c = bits.Add64(lo, t[3], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[3] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b1)
	lo, c = bits.Add64(lo, t[4], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[4] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b2)
	lo, c = bits.Add64(lo, t[5], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[5] = lo
	carry = hi + c
	hi, lo = bits.Mul64(ai, b3)
	lo, c = bits.Add64(lo, t[6], 0)
	hi += c
	lo, c = bits.Add64(lo, carry, 0)
	t[6] = lo
	carry = hi + c
	t[7] = carry
	r.reduce(&t)
}

// sqr sets r = a².
func (r *fe) sqr(a *fe) {
	// The cross products once, doubled, then the squares.
	var t [8]uint64
	var c uint64
	h01, l01 := bits.Mul64(a[0], a[1])
	h02, l02 := bits.Mul64(a[0], a[2])
	h03, l03 := bits.Mul64(a[0], a[3])
	h12, l12 := bits.Mul64(a[1], a[2])
	h13, l13 := bits.Mul64(a[1], a[3])
	h23, l23 := bits.Mul64(a[2], a[3])
	// a0·(a1, a2, a3) at limbs 1..4
	t[1] = l01
	t[2], c = bits.Add64(h01, l02, 0)
	t[3], c = bits.Add64(h02, l03, c)
	t[4] = h03 + c
	// a1·(a2, a3) at limbs 3..5
	u4, c := bits.Add64(h12, l13, 0)
	u5 := h13 + c
	t[3], c = bits.Add64(t[3], l12, 0)
	t[4], c = bits.Add64(t[4], u4, c)
	t[5], c = bits.Add64(u5, 0, c)
	t[6] = c
	// a2·a3 at limbs 5, 6
	t[5], c = bits.Add64(t[5], l23, 0)
	t[6], c = bits.Add64(t[6], h23, c)
	t[7] = c
	// double
	t[7] = t[7]<<1 | t[6]>>63
	t[6] = t[6]<<1 | t[5]>>63
	t[5] = t[5]<<1 | t[4]>>63
	t[4] = t[4]<<1 | t[3]>>63
	t[3] = t[3]<<1 | t[2]>>63
	t[2] = t[2]<<1 | t[1]>>63
	t[1] <<= 1
	// squares
	h0, l0 := bits.Mul64(a[0], a[0])
	h1, l1 := bits.Mul64(a[1], a[1])
	h2, l2 := bits.Mul64(a[2], a[2])
	h3, l3 := bits.Mul64(a[3], a[3])
	t[0] = l0
	t[1], c = bits.Add64(t[1], h0, 0)
	t[2], c = bits.Add64(t[2], l1, c)
	t[3], c = bits.Add64(t[3], h1, c)
	t[4], c = bits.Add64(t[4], l2, c)
	t[5], c = bits.Add64(t[5], h2, c)
	t[6], c = bits.Add64(t[6], l3, c)
	t[7], _ = bits.Add64(t[7], h3, c)
	r.reduce(&t)
}

// reduce sets r to the 512-bit t mod p (weakly: below 2^256).
func (r *fe) reduce(t *[8]uint64) {
	// t = L + H·2^256 ≡ L + H·feC.
	var carry, c uint64
	var s [4]uint64
	for i := 0; i < 4; i++ {
		hi, lo := bits.Mul64(t[4+i], feC)
		lo, c = bits.Add64(lo, t[i], 0)
		hi += c
		lo, c = bits.Add64(lo, carry, 0)
		hi += c
		s[i] = lo
		carry = hi // < 2^34
	}
	// s + carry·2^256 ≡ s + carry·feC (below 2^67).
	hi, lo := bits.Mul64(carry, feC)
	s[0], c = bits.Add64(s[0], lo, 0)
	s[1], c = bits.Add64(s[1], hi, c)
	s[2], c = bits.Add64(s[2], 0, c)
	s[3], c = bits.Add64(s[3], 0, c)
	// A carry out leaves s small: adding feC once more cannot carry out.
	if c != 0 {
		s[0], c = bits.Add64(s[0], feC, 0)
		s[1], c = bits.Add64(s[1], 0, c)
		s[2], c = bits.Add64(s[2], 0, c)
		s[3] += c
	}
	*r = s
}

// add sets r = a + b.
func (r *fe) add(a, b *fe) {
	var c uint64
	var s fe
	s[0], c = bits.Add64(a[0], b[0], 0)
	s[1], c = bits.Add64(a[1], b[1], c)
	s[2], c = bits.Add64(a[2], b[2], c)
	s[3], c = bits.Add64(a[3], b[3], c)
	// 2^256 ≡ feC. Adding it carries out again only when both inputs
	// were at or above p (rare): then once more.
	s[0], c = bits.Add64(s[0], feC&-c, 0)
	s[1], c = bits.Add64(s[1], 0, c)
	s[2], c = bits.Add64(s[2], 0, c)
	s[3], c = bits.Add64(s[3], 0, c)
	if c != 0 {
		s[0], c = bits.Add64(s[0], feC, 0)
		s[1], c = bits.Add64(s[1], 0, c)
		s[2], c = bits.Add64(s[2], 0, c)
		s[3] += c
	}
	*r = s
}

// sub sets r = a - b.
func (r *fe) sub(a, b *fe) {
	var c uint64
	var s fe
	s[0], c = bits.Sub64(a[0], b[0], 0)
	s[1], c = bits.Sub64(a[1], b[1], c)
	s[2], c = bits.Sub64(a[2], b[2], c)
	s[3], c = bits.Sub64(a[3], b[3], c)
	// A borrow added 2^256 ≡ feC too many: take feC off; that borrows
	// again only when the result was below feC (rare): then once more.
	s[0], c = bits.Sub64(s[0], feC&-c, 0)
	s[1], c = bits.Sub64(s[1], 0, c)
	s[2], c = bits.Sub64(s[2], 0, c)
	s[3], c = bits.Sub64(s[3], 0, c)
	if c != 0 {
		s[0], c = bits.Sub64(s[0], feC, 0)
		s[1], c = bits.Sub64(s[1], 0, c)
		s[2], c = bits.Sub64(s[2], 0, c)
		s[3] -= c
	}
	*r = s
}

// normalize reduces r below p.
func (r *fe) normalize() {
	var s fe
	var c uint64
	s[0], c = bits.Sub64(r[0], feP[0], 0)
	s[1], c = bits.Sub64(r[1], feP[1], c)
	s[2], c = bits.Sub64(r[2], feP[2], c)
	s[3], c = bits.Sub64(r[3], feP[3], c)
	if c == 0 {
		*r = s
	}
}

// isZero reports whether r ≡ 0 (it normalizes r).
func (r *fe) isZero() bool {
	r.normalize()
	return r[0]|r[1]|r[2]|r[3] == 0
}

// setBytes sets r from a 32-byte big-endian value below 2^256.
func (r *fe) setBytes(b *[32]byte) {
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		r[i] = uint64(b[o])<<56 | uint64(b[o+1])<<48 | uint64(b[o+2])<<40 | uint64(b[o+3])<<32 |
			uint64(b[o+4])<<24 | uint64(b[o+5])<<16 | uint64(b[o+6])<<8 | uint64(b[o+7])
	}
}

// bytes returns r (normalized) as 32 big-endian bytes.
func (r *fe) bytes() [32]byte {
	r.normalize()
	var b [32]byte
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		v := r[i]
		b[o], b[o+1], b[o+2], b[o+3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
		b[o+4], b[o+5], b[o+6], b[o+7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return b
}

// fromFieldVal converts a btcec field value.
func fromFieldVal(v *btcec.FieldVal) fe {
	var n btcec.FieldVal
	n.Set(v).Normalize()
	var b [32]byte
	n.PutBytes(&b)
	var r fe
	r.setBytes(&b)
	return r
}

// fieldVal converts r to a btcec field value.
func (r *fe) fieldVal() btcec.FieldVal {
	b := r.bytes()
	var v btcec.FieldVal
	v.SetBytes(&b)
	return v
}

// affine is a point with Z = 1.
type affine struct{ x, y fe }

// jac is a point in Jacobian coordinates (x/z², y/z³); never infinity here.
type jac struct{ x, y, z fe }

// addAffine sets p = p + q (madd-2007-bl, 7M + 4S). It returns false,
// leaving p unusable, when the formula does not apply: p and q have the
// same x (p = ±q).
func (p *jac) addAffine(q *affine) bool {
	var z1z1, u2, s2, h, hh, i, j, r, v, t fe
	z1z1.sqr(&p.z)
	u2.mul(&q.x, &z1z1)
	s2.mul(&q.y, &p.z)
	s2.mul(&s2, &z1z1)
	h.sub(&u2, &p.x)
	if t = h; t.isZero() {
		return false
	}
	hh.sqr(&h)
	i.add(&hh, &hh)
	i.add(&i, &i)
	j.mul(&h, &i)
	r.sub(&s2, &p.y)
	r.add(&r, &r)
	v.mul(&p.x, &i)
	// x3 = r² - j - 2v
	var x3 fe
	x3.sqr(&r)
	x3.sub(&x3, &j)
	x3.sub(&x3, &v)
	x3.sub(&x3, &v)
	// y3 = r(v - x3) - 2·y1·j
	var y3 fe
	t.sub(&v, &x3)
	y3.mul(&r, &t)
	t.mul(&p.y, &j)
	t.add(&t, &t)
	y3.sub(&y3, &t)
	// z3 = (z1 + h)² - z1z1 - hh
	var z3 fe
	z3.add(&p.z, &h)
	z3.sqr(&z3)
	z3.sub(&z3, &z1z1)
	z3.sub(&z3, &hh)
	p.x, p.y, p.z = x3, y3, z3
	return true
}

// The base-point table: baseWindows windows of baseWindow bits; window w
// holds j·2^(baseWindow·w)·G for j in [1, 2^(baseWindow-1)] in affine
// form. A scalar is recoded into signed digits in [-2^(baseWindow-1),
// 2^(baseWindow-1)], so a multiplication adds at most baseWindows points
// (a negative digit adds the point with y negated).
const (
	baseWindow     = 11
	baseWindows    = (256 + baseWindow) / baseWindow // room for the recoding's last carry
	baseHalf       = 1 << (baseWindow - 1)
	baseTableBytes = baseWindows * baseHalf * 64
)

// PrepareDerivation builds the table that public derivation (DeriveRange)
// uses, if it is not built yet: about 1.5 MB (baseTableBytes), built once
// per process in tens of milliseconds and only read afterwards. Without
// it, the first DeriveRange builds it.
func PrepareDerivation() { baseTable() }

// baseTable is built on its first use (about 25,000 point additions) and
// only read afterwards.
var baseTable = sync.OnceValue(buildBaseTable)

func buildBaseTable() *[baseWindows][baseHalf]affine {
	t := new([baseWindows][baseHalf]affine)
	var base btcec.JacobianPoint // 2^(baseWindow·w)·G, affine
	var one btcec.ModNScalar
	one.SetInt(1)
	btcec.ScalarBaseMultNonConst(&one, &base)
	pts := make([]btcec.JacobianPoint, baseHalf)
	for w := 0; w < baseWindows; w++ {
		pts[0] = base
		for j := 1; j < baseHalf; j++ {
			btcec.AddNonConst(&pts[j-1], &base, &pts[j])
		}
		toAffineAll(pts)
		for j := range pts {
			t[w][j] = affine{x: fromFieldVal(&pts[j].X), y: fromFieldVal(&pts[j].Y)}
		}
		next := base
		for range baseWindow {
			btcec.DoubleNonConst(&next, &next)
		}
		next.ToAffine()
		base = next
	}
	return t
}

// toAffineAll converts Jacobian points (none at infinity) to affine with
// one field inversion (Montgomery's trick).
func toAffineAll(pts []btcec.JacobianPoint) {
	prefix := make([]btcec.FieldVal, len(pts))
	var acc btcec.FieldVal
	acc.SetInt(1)
	for j := range pts {
		prefix[j].Set(&acc)
		acc.Mul(&pts[j].Z).Normalize()
	}
	acc.Inverse().Normalize()
	for j := len(pts) - 1; j >= 0; j-- {
		p := &pts[j]
		var zInv, zInv2 btcec.FieldVal
		zInv.Mul2(&acc, &prefix[j]).Normalize()
		acc.Mul(&p.Z).Normalize()
		zInv2.SquareVal(&zInv)
		p.X.Mul(&zInv2).Normalize()
		p.Y.Mul(zInv2.Mul(&zInv)).Normalize()
		p.Z.SetInt(1)
	}
}

// recode splits the 256-bit big-endian scalar k into baseWindows signed
// digits of baseWindow bits, least significant first:
// k = Σ d[w]·2^(baseWindow·w), each d in [-baseHalf, baseHalf].
func recode(k *[32]byte) [baseWindows]int32 {
	var d [baseWindows]int32
	var limbs [5]uint64 // little-endian, one spare so a window may read past bit 255
	for i := 0; i < 4; i++ {
		o := 24 - 8*i
		limbs[i] = uint64(k[o])<<56 | uint64(k[o+1])<<48 | uint64(k[o+2])<<40 | uint64(k[o+3])<<32 |
			uint64(k[o+4])<<24 | uint64(k[o+5])<<16 | uint64(k[o+6])<<8 | uint64(k[o+7])
	}
	var carry int32
	for w := 0; w < baseWindows; w++ {
		bit := baseWindow * w
		i, sh := bit/64, uint(bit%64)
		v := limbs[i] >> sh
		if sh > 64-baseWindow {
			v |= limbs[i+1] << (64 - sh)
		}
		x := int32(v&(1<<baseWindow-1)) + carry
		carry = 0
		if x > baseHalf {
			x -= 1 << baseWindow
			carry = 1
		}
		d[w] = x
	}
	return d
}

// mulBaseAdd sets p = k·G + q for the big-endian scalar k (q affine). It
// returns false when a case the formulas leave out was met (a sum at
// infinity or of points with equal x: probability about 2^-200 for a
// hashed k); the caller then computes it with btcec.
func mulBaseAdd(k *[32]byte, q *affine, p *jac) bool {
	tab := baseTable()
	d := recode(k)
	p.x, p.y = q.x, q.y
	p.z = fe{1}
	for w, v := range d {
		switch {
		case v > 0:
			if !p.addAffine(&tab[w][v-1]) {
				return false
			}
		case v < 0:
			pt := tab[w][-v-1]
			pt.y.sub(&fe{}, &pt.y)
			if !p.addAffine(&pt) {
				return false
			}
		}
	}
	return !p.z.isZero()
}
