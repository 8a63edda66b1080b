package btcdws

import (
	"crypto/rand"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// TestSegwitV0Address: the direct encoding of version-0 witness programs
// gives btcd's own address string on every network, and scripts it does
// not cover (other lengths, other versions, other kinds) are left to
// btcd's path.
func TestSegwitV0Address(t *testing.T) {
	nets := []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params, &chaincfg.RegressionNetParams, &chaincfg.SimNetParams}
	for _, p := range nets {
		of := defaultAddressOf(p)
		for _, n := range []int{20, 32} {
			for range 200 {
				script := make([]byte, 2+n)
				script[0], script[1] = txscript.OP_0, byte(n)
				_, _ = rand.Read(script[2:])
				got, ok := segwitV0Address(script, p.Bech32HRPSegwit)
				if !ok {
					t.Fatalf("%s: v0 program of %d bytes not encoded directly", p.Name, n)
				}
				_, addrs, _, err := txscript.ExtractPkScriptAddrs(script, p)
				if err != nil || len(addrs) != 1 {
					t.Fatalf("btcd: %v %v", addrs, err)
				}
				if want := addrs[0].EncodeAddress(); got != want {
					t.Fatalf("%s: %x encoded %s, btcd says %s", p.Name, script, got, want)
				}
				if a, err := of(script); err != nil || a != got {
					t.Fatalf("defaultAddressOf = %q, %v", a, err)
				}
			}
		}
		taproot := append([]byte{txscript.OP_1, 32}, make([]byte, 32)...)
		taproot[5] = 1
		for _, s := range [][]byte{
			taproot,
			append([]byte{txscript.OP_0, 21}, make([]byte, 21)...),
			append([]byte{txscript.OP_0, 32}, make([]byte, 20)...)[:22],
			append([]byte{txscript.OP_DUP, txscript.OP_HASH160, 20}, append(make([]byte, 20), txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)...),
		} {
			if a, ok := segwitV0Address(s, p.Bech32HRPSegwit); ok {
				t.Fatalf("%x encoded directly as %s", s, a)
			}
		}
		if a, err := of(taproot); err != nil || a[:len(p.Bech32HRPSegwit)+2] != p.Bech32HRPSegwit+"1p" {
			t.Fatalf("taproot via btcd: %q, %v", a, err)
		}
	}
}
