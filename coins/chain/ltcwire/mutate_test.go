package ltcwire

import (
	"math/rand"
	"testing"
)

// TestMutatedInputs: random corruptions of a real MWEB block never panic
// (the fuzz target covers more when run with -fuzz).
func TestMutatedInputs(t *testing.T) {
	for _, name := range []string{"block432.hex", "tx_mwebonly.hex"} {
		raw := fixture(t, name)
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 3000; i++ {
			b := append([]byte(nil), raw...)
			for j := 0; j < 1+rng.Intn(4); j++ {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
			_, _ = DecodeBlock(b)
			_, _ = DecodeTx(b)
		}
	}
}
