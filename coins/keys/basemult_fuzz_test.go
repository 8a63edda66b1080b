package keys

import (
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// FuzzFieldOps: the 4×64 field's mul, sqr, add and sub agree with
// math/big mod p for any two 256-bit inputs (weakly reduced ones
// included), and their results stay below 2^256 (fe holds no more).
func FuzzFieldOps(f *testing.F) {
	m := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	p := bigP.FillBytes(make([]byte, 32))
	f.Add(make([]byte, 32), make([]byte, 32))
	f.Add(m, m)
	f.Add(p, m)
	f.Add(p, p)
	f.Add(m, make([]byte, 32))
	f.Fuzz(func(t *testing.T, ab, bb []byte) {
		if len(ab) != 32 || len(bb) != 32 {
			return
		}
		var a, b fe
		a.setBytes((*[32]byte)(ab))
		b.setBytes((*[32]byte)(bb))
		A, B := new(big.Int).SetBytes(ab), new(big.Int).SetBytes(bb)
		check := func(op string, got fe, want *big.Int) {
			t.Helper()
			g := feBig(&got)
			if g.Cmp(new(big.Int).Lsh(big.NewInt(1), 256)) >= 0 {
				t.Fatalf("%s(%x, %x) left 256 bits", op, ab, bb)
			}
			if g.Mod(g, bigP).Cmp(want.Mod(want, bigP)) != 0 {
				t.Fatalf("%s(%x, %x) = %x, want %x", op, ab, bb, g, want)
			}
		}
		var r fe
		r.mul(&a, &b)
		check("mul", r, new(big.Int).Mul(A, B))
		r.sqr(&a)
		check("sqr", r, new(big.Int).Mul(A, A))
		r.add(&a, &b)
		check("add", r, new(big.Int).Add(A, B))
		r.sub(&a, &b)
		check("sub", r, new(big.Int).Sub(A, B))
		r = a
		r.normalize()
		if feBig(&r).Cmp(bigP) >= 0 || feBig(&r).Cmp(new(big.Int).Mod(A, bigP)) != 0 {
			t.Fatalf("normalize(%x) = %x", ab, feBig(&r))
		}
	})
}

// FuzzMulBaseAdd: k·G + q equals btcec's result for any scalar k and any
// point q = s·G, or the fast path declines (then the caller uses btcec).
func FuzzMulBaseAdd(f *testing.F) {
	f.Add(make([]byte, 32), []byte{1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x40}, []byte{7})
	f.Add([]byte{1, 2, 3}, []byte{0xff, 0xee})
	f.Fuzz(func(t *testing.T, kb, sb []byte) {
		if len(kb) > 32 || len(sb) > 32 {
			return
		}
		var k, s btcec.ModNScalar
		k.SetByteSlice(kb)
		s.SetByteSlice(sb)
		if s.IsZero() {
			return // q at infinity: never a parent key
		}
		var q, kg, want btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&s, &q)
		q.ToAffine()
		btcec.ScalarBaseMultNonConst(&k, &kg)
		btcec.AddNonConst(&kg, &q, &want)
		kbytes := k.Bytes()
		qa := affine{x: fromFieldVal(&q.X), y: fromFieldVal(&q.Y)}
		var p jac
		if !mulBaseAdd(&kbytes, &qa, &p) {
			return
		}
		if (want.X.IsZero() && want.Y.IsZero()) || want.Z.IsZero() {
			t.Fatalf("k=%x s=%x: the sum is at infinity, the fast path gave a point", kbytes, s.Bytes())
		}
		want.ToAffine()
		pts := []btcec.JacobianPoint{{X: p.x.fieldVal(), Y: p.y.fieldVal(), Z: p.z.fieldVal()}}
		toAffineAll(pts)
		if !pts[0].X.Equals(&want.X) || !pts[0].Y.Equals(&want.Y) {
			t.Fatalf("k=%x s=%x: got (%v, %v), want (%v, %v)", kbytes, s.Bytes(), pts[0].X, pts[0].Y, want.X, want.Y)
		}
	})
}
