package btcdws

import (
	"encoding/json"
	"testing"
)

// TestSatPerKvB: the node's BTC/kB answer converts exactly to sat/kvB
// (as Go and btcd print floats: plain or with an exponent), rounding half
// up; absurd answers are errors, never a wrapped int64.
func TestSatPerKvB(t *testing.T) {
	for in, want := range map[string]int64{
		"0.0001": 10_000, "1e-05": 1000, "1E-5": 1000, "0.00001234": 1234, "0.000012345": 1235,
		"0.000012344": 1234, "0": 0, "-1": -100_000_000, "1": 100_000_000, "0.1e1": 100_000_000,
		"12.5": 1_250_000_000, "2e+1": 2_000_000_000, "0.000000004": 0, "0.000000005": 1,
	} {
		got, err := satPerKvB(json.RawMessage(in))
		if err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1e20", "1e300", "NaN", "", "\"0.1\"", "1..2", "9999999999999999999"} {
		if got, err := satPerKvB(json.RawMessage(in)); err == nil {
			t.Errorf("%s: %d, want an error", in, got)
		}
	}
}
