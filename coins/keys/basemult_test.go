package keys

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/params"
)

var bigP, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16)

func feBig(a *fe) *big.Int {
	b := new(big.Int)
	for i := 3; i >= 0; i-- {
		b.Lsh(b, 64)
		b.Or(b, new(big.Int).SetUint64(a[i]))
	}
	return b
}

// feSamples are field inputs: edge values (0, 1, p-1, p, p+1 and the
// largest 256-bit values, which the weakly reduced form allows), values
// with long runs of ones or zeros, and random ones.
func feSamples(r *rand.Rand) []fe {
	m := ^uint64(0)
	out := []fe{{}, {1}, {2}, feP, {feP[0] - 1, m, m, m}, {feP[0] + 1, m, m, m}, {m, m, m, m}, {m - 1, m, m, m},
		{0, 0, 0, 1 << 63}, {m, 0, m, 0}, {0, m, 0, m}, {feC, 0, 0, 0}, {feC - 1, 0, 0, 0}, {1 << 32, 0, 0, m}}
	for range 2000 {
		var a fe
		for i := range a {
			switch r.IntN(4) {
			case 0:
				a[i] = m
			case 1:
				a[i] = 0
			default:
				a[i] = r.Uint64()
			}
		}
		out = append(out, a)
	}
	return out
}

// TestFieldOps checks the 4×64 field against math/big: mul, sqr, add, sub
// and normalize on edge and random inputs (weakly reduced ones included),
// and that results stay below 2^256.
func TestFieldOps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := feSamples(r)
	mod := func(b *big.Int) *big.Int { return b.Mod(b, bigP) }
	check := func(op string, a, b fe, got fe, want *big.Int) {
		t.Helper()
		if g := mod(feBig(&got)); g.Cmp(mod(want)) != 0 {
			t.Fatalf("%s(%x, %x) = %x, want %x", op, a, b, g, want)
		}
		n := got
		n.normalize()
		if feBig(&n).Cmp(bigP) >= 0 || mod(feBig(&n)).Cmp(mod(feBig(&got))) != 0 {
			t.Fatalf("normalize(%x) = %x", got, n)
		}
	}
	for i, a := range xs {
		for _, b := range []fe{xs[(i*7+3)%len(xs)], xs[(i*13+1)%len(xs)], xs[i%14]} {
			bigA, bigB := feBig(&a), feBig(&b)
			var s fe
			s.mul(&a, &b)
			check("mul", a, b, s, new(big.Int).Mul(bigA, bigB))
			s.add(&a, &b)
			check("add", a, b, s, new(big.Int).Add(bigA, bigB))
			s.sub(&a, &b)
			check("sub", a, b, s, new(big.Int).Sub(bigA, bigB))
		}
		var s fe
		s.sqr(&a)
		check("sqr", a, a, s, new(big.Int).Mul(A(a), A(a)))
		// In place.
		s = a
		s.mul(&s, &s)
		check("mul in place", a, a, s, new(big.Int).Mul(A(a), A(a)))
		var conv fe
		v := a.fieldVal()
		conv = fromFieldVal(&v)
		check("fieldVal", a, a, conv, A(a))
	}
}

// A is feBig for a value.
func A(a fe) *big.Int { return feBig(&a) }

// TestRecode: the signed digits sum back to the scalar and stay in range.
func TestRecode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ks := [][32]byte{{}, {31: 1}}
	var all [32]byte
	for i := range all {
		all[i] = 0xff
	}
	ks = append(ks, all)
	for range 500 {
		var k [32]byte
		for i := 0; i < 32; i += 8 {
			binary.BigEndian.PutUint64(k[i:], r.Uint64())
		}
		ks = append(ks, k)
	}
	for _, k := range ks {
		d := recode(&k)
		sum := new(big.Int)
		for w := baseWindows - 1; w >= 0; w-- {
			if d[w] < -baseHalf || d[w] > baseHalf {
				t.Fatalf("digit %d of %x is %d", w, k, d[w])
			}
			sum.Lsh(sum, baseWindow)
			sum.Add(sum, big.NewInt(int64(d[w])))
		}
		if sum.Cmp(new(big.Int).SetBytes(k[:])) != 0 {
			t.Fatalf("recode(%x) sums to %x", k, sum)
		}
	}
}

// TestMulBaseAdd: k·G + Q equals btcec's result for hashed scalars, small
// and large ones (n-1, digits at the window bounds), and Q = G or -G
// (equal x on the first addition: the fallback).
func TestMulBaseAdd(t *testing.T) {
	var qs []btcec.JacobianPoint
	for i := range 4 {
		var s btcec.ModNScalar
		s.SetInt(uint32(1000 + i))
		var q btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&s, &q)
		q.ToAffine()
		qs = append(qs, q)
	}
	var scalars []btcec.ModNScalar
	for i := range 300 {
		h := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		var s btcec.ModNScalar
		s.SetBytes(&h)
		scalars = append(scalars, s)
	}
	for _, v := range []uint32{1, 2, 3, baseHalf - 1, baseHalf, baseHalf + 1, 1<<baseWindow - 1, 1 << baseWindow} {
		var s btcec.ModNScalar
		s.SetInt(v)
		scalars = append(scalars, s)
	}
	var nm1 btcec.ModNScalar
	nm1.SetInt(1)
	nm1.Negate()
	scalars = append(scalars, nm1)
	falls := 0
	for i, s := range scalars {
		q := qs[i%len(qs)]
		var want, kg btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&s, &kg)
		btcec.AddNonConst(&kg, &q, &want)
		want.ToAffine()
		kb := s.Bytes()
		qa := affine{x: fromFieldVal(&q.X), y: fromFieldVal(&q.Y)}
		var p jac
		if !mulBaseAdd(&kb, &qa, &p) {
			falls++
			continue
		}
		var pts = []btcec.JacobianPoint{{X: p.x.fieldVal(), Y: p.y.fieldVal(), Z: p.z.fieldVal()}}
		toAffineAll(pts)
		if !pts[0].X.Equals(&want.X) || !pts[0].Y.Equals(&want.Y) {
			t.Fatalf("scalar %x: got (%v, %v), want (%v, %v)", kb, pts[0].X, pts[0].Y, want.X, want.Y)
		}
	}
	if falls != 0 {
		t.Fatalf("%d fallbacks for ordinary scalars", falls)
	}
	// Q = -k·G: the sum is at infinity; Q = k·G with k one digit: equal x.
	for _, v := range []uint32{5, baseHalf} {
		var s btcec.ModNScalar
		s.SetInt(v)
		var q btcec.JacobianPoint
		btcec.ScalarBaseMultNonConst(&s, &q)
		q.ToAffine()
		kb := s.Bytes()
		for _, neg := range []bool{false, true} {
			qa := affine{x: fromFieldVal(&q.X), y: fromFieldVal(&q.Y)}
			if neg {
				qa.y.sub(&fe{}, &qa.y)
			}
			var p jac
			if mulBaseAdd(&kb, &qa, &p) {
				t.Fatalf("k=%d, Q=%s k·G: no fallback", v, map[bool]string{false: "", true: "-"}[neg])
			}
		}
	}
}

func BenchmarkFieldMul(b *testing.B) {
	x, y := fe{1, 2, 3, 4}, fe{^uint64(0), 5, 6, 7}
	for b.Loop() {
		x.mul(&x, &y)
	}
}

func BenchmarkFieldSqr(b *testing.B) {
	x := fe{1, 2, 3, 4}
	for b.Loop() {
		x.sqr(&x)
	}
}

func BenchmarkMulBaseAdd(b *testing.B) {
	baseTable()
	h := sha256.Sum256([]byte("k"))
	q := baseTable()[3][5]
	b.ResetTimer()
	for b.Loop() {
		var p jac
		mulBaseAdd(&h, &q, &p)
		h[0]++
	}
}

func BenchmarkBuildBaseTable(b *testing.B) {
	for b.Loop() {
		buildBaseTable()
	}
}

// BenchmarkDeriveRange10 is one step of a new wallet's first load: 10
// receiving addresses of a parsed xpub (chain keys and table ready).
func BenchmarkDeriveRange10(b *testing.B) {
	n, _ := params.BTC("mainnet")
	m, err := Parse(mainXpub, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.DeriveRange(false, 0, 10); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var from uint32
	for b.Loop() {
		if _, err := m.DeriveRange(false, from, 10); err != nil {
			b.Fatal(err)
		}
		from += 10
	}
}
