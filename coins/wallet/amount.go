package wallet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
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
func FormatFixed(sats int64) string { return string(AppendFixed(make([]byte, 0, 24), sats)) }

// AppendFixed appends FormatFixed(sats) to b.
func AppendFixed(b []byte, sats int64) []byte {
	u := uint64(sats)
	if sats < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/coin, 10)
	frac := u % coin
	var d [9]byte
	d[0] = '.'
	for i := 8; i >= 1; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:]...)
}

// FormatElectrum renders sats as Electrum does for request amounts: no
// trailing zeros, "1." style kept out ("0.5", "1", "0.00001").
func FormatElectrum(sats int64) string {
	s := FormatFixed(sats)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
