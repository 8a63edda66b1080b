package wallet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/walletd/walletd/coins/amount"
)

// ErrInvalidAmount is returned for an amount that is not a non-negative
// decimal with at most 8 fractional digits (or "!" where allowed). It is
// amount.ErrInvalid.
var ErrInvalidAmount = amount.ErrInvalid

// Amount is a coin amount in satoshis parsed exactly from a JSON string or
// number ("0.1", 0.1, "1.", "1e-3"), never through float64. Max means "!":
// everything.
type Amount struct {
	Sats int64
	Max  bool
	Set  bool
}

// UnmarshalJSON parses a JSON string or number without float rounding.
func (a *Amount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*a = Amount{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidAmount, err)
		}
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseAmount parses a decimal coin amount exactly (amount.Parse): "0.5",
// "1.", ".1", "1e-8", or "!" (Max). It rejects negatives, more than 8
// fractional digits, and amounts beyond amount.MaxSats.
func ParseAmount(s string) (Amount, error) {
	if strings.TrimSpace(s) == "!" {
		return Amount{Max: true, Set: true}, nil
	}
	v, err := amount.Parse(s)
	if err != nil {
		return Amount{}, err
	}
	return Amount{Sats: v, Set: true}, nil
}

// FormatFixed renders sats as a fixed 8-decimal string: "0.00010000".
func FormatFixed(sats int64) string {
	neg := sats < 0
	if neg {
		sats = -sats
	}
	s := fmt.Sprintf("%d.%08d", sats/1e8, sats%1e8)
	if neg {
		s = "-" + s
	}
	return s
}

// FormatElectrum renders sats as Electrum does for request amounts: no
// trailing zeros, "1." style kept out ("0.5", "1", "0.00001").
func FormatElectrum(sats int64) string {
	s := FormatFixed(sats)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
