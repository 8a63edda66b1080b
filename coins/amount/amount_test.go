package amount

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	ok := map[string]int64{"0.1": 10000000, "1.": 100000000, ".5": 50000000, "0.00000001": 1, "21000000": 21e14,
		"1e-8": 1, "1.5e2": 15000000000, "0": 0, "+2": 200000000, " 3 ": 300000000, "100E-2": 100000000,
		"1e-05": 1000, "0.00012345": 12345, "2.1e-06": 210}
	for s, want := range ok {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1", "-1e-05", "0.000000001", "abc", "1e", "1e99", "NaN", "Infinity", "!",
		"99999999999999999999", "0x10", ".", "2100000000000000000"} {
		if got, err := Parse(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %d, %v; want ErrInvalid", s, got, err)
		}
	}
}

func TestParseRounded(t *testing.T) {
	for s, want := range map[string]int64{"5.1733333e-05": 5173, "0.000051735": 5174, "0.000000004": 0, "0.0000000099": 1,
		"0.99999999999": 100000000, "1e-05": 1000} {
		if got, err := ParseRounded(s); err != nil || got != want {
			t.Errorf("ParseRounded(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"-1", "abc", "1e99"} {
		if _, err := ParseRounded(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRounded(%q) accepted", s)
		}
	}
}
