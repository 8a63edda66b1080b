package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidAmount is returned for an amount that is not a non-negative
// decimal with at most 8 fractional digits (or "!" where allowed).
var ErrInvalidAmount = errors.New("invalid amount")

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

// ParseAmount parses a decimal coin amount exactly: "0.5", "1.", ".1",
// "1e-8", "!" (Max). It rejects negatives, more than 8 fractional digits,
// and amounts beyond 21e6*1e8 satoshis times 100 (room for forks).
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "!" {
		return Amount{Max: true, Set: true}, nil
	}
	if s == "" {
		return Amount{}, fmt.Errorf("%w: empty", ErrInvalidAmount)
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 30 || e < -30 {
			return Amount{}, fmt.Errorf("%w: %q", ErrInvalidAmount, s)
		}
		mant, exp = s[:i], e
	}
	mant = strings.TrimPrefix(mant, "+")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) {
		return Amount{}, fmt.Errorf("%w: %q", ErrInvalidAmount, s)
	}
	all := strings.TrimLeft(intPart+frac, "0")
	// value = all * 10^(exp - len(frac)) coins = all * 10^(exp-len(frac)+8) sats
	shift := exp - len(frac) + 8
	if shift < 0 {
		cut := -shift
		if len(all) < cut {
			all = strings.Repeat("0", cut-len(all)) + all
		}
		if strings.Trim(all[len(all)-cut:], "0") != "" {
			return Amount{}, fmt.Errorf("%w: %q has more than 8 decimals", ErrInvalidAmount, s)
		}
		all = all[:len(all)-cut]
		shift = 0
	}
	all += strings.Repeat("0", shift)
	all = strings.TrimLeft(all, "0")
	if all == "" {
		return Amount{Set: true}, nil
	}
	if len(all) > 18 {
		return Amount{}, fmt.Errorf("%w: %q is too large", ErrInvalidAmount, s)
	}
	v, err := strconv.ParseInt(all, 10, 64)
	if err != nil || v > MaxAmount {
		return Amount{}, fmt.Errorf("%w: %q is too large", ErrInvalidAmount, s)
	}
	return Amount{Sats: v, Set: true}, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// FormatFixed renders sats as a fixed 8-decimal string: "0.00010000".
func FormatFixed(sats int64) string {
	neg := sats < 0
	if neg {
		sats = -sats
	}
	s := fmt.Sprintf("%d.%08d", sats/coin, sats%coin)
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
