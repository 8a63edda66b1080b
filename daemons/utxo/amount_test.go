package utxo

import (
	"encoding/json"
	"errors"
	"github.com/walletd/walletd/coins/wallet"
	"testing"
)

func TestParseAmount(t *testing.T) {
	ok := map[string]int64{"0.1": 10000000, "1.": 100000000, ".5": 50000000, "0.00000001": 1, "21000000": 21e14,
		"1e-8": 1, "1.5e2": 15000000000, "0": 0, "0.10000000": 10000000, "+2": 200000000, " 3 ": 300000000,
		"0.123456780": 12345678, "100E-2": 100000000}
	for s, want := range ok {
		a, err := ParseAmount(s)
		if err != nil || a.Sats != want || a.Max || !a.Set {
			t.Errorf("ParseAmount(%q) = %+v, %v; want %d", s, a, err, want)
		}
	}
	for _, s := range []string{"", "-1", "0.000000001", "abc", "1.2.3", "1e", "1e99", "NaN", "Infinity", "1,5",
		"99999999999999999999", "0x10", "."} {
		if a, err := ParseAmount(s); !errors.Is(err, wallet.ErrInvalidAmount) {
			t.Errorf("ParseAmount(%q) = %+v, %v; want ErrInvalidAmount", s, a, err)
		}
	}
	if a, _ := ParseAmount("!"); !a.Max {
		t.Error("! is not Max")
	}
}

func TestAmountJSON(t *testing.T) {
	var v struct{ A, B, C Amount }
	if err := json.Unmarshal([]byte(`{"A":"0.1","B":0.1,"C":0.30000000000000004e0}`), &v); err == nil {
		t.Errorf("a 17-decimal float parsed: %+v", v)
	}
	if err := json.Unmarshal([]byte(`{"A":"0.1","B":0.1,"C":null}`), &v); err != nil || v.A.Sats != 1e7 || v.B.Sats != 1e7 || v.C.Set {
		t.Errorf("%+v %v", v, err)
	}
}

func TestFormat(t *testing.T) {
	for sats, want := range map[int64][2]string{0: {"0.00000000", "0"}, 1: {"0.00000001", "0.00000001"},
		50000000: {"0.50000000", "0.5"}, 100000000: {"1.00000000", "1"}, 2100000000000000: {"21000000.00000000", "21000000"},
		-5: {"-0.00000005", "-0.00000005"}} {
		if got := FormatFixed(sats); got != want[0] {
			t.Errorf("FormatFixed(%d) = %q", sats, got)
		}
		if got := FormatElectrum(sats); got != want[1] {
			t.Errorf("FormatElectrum(%d) = %q", sats, got)
		}
	}
}
