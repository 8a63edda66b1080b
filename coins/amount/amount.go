// Package amount parses coin amounts exactly: a decimal number of coins
// (as a client or a node writes it, "0.5", "1.", ".1", "1e-05") becomes an
// integer number of satoshis without ever going through float64. It has no
// dependencies, so backends can read a node's amounts and fee rates with it
// without importing the wallet engine.
package amount

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is returned for a string that is not a non-negative decimal
// with at most 8 fractional digits, or beyond MaxSats.
var ErrInvalid = errors.New("invalid amount")

// MaxSats bounds parsed amounts: 21 million coins times 100 (room for
// forks with larger supplies).
const MaxSats = 21e6 * 1e8 * 100

// Parse parses a decimal amount of coins into satoshis exactly: "0.5",
// "1.", ".1", "+2", "1e-8", "1.5E2", surrounding spaces allowed. It rejects
// negatives, more than 8 fractional digits, exponents beyond ±30 and
// amounts above MaxSats.
func Parse(s string) (int64, error) { return parse(s, false) }

// ParseRounded is Parse for amounts a node computed (fee rates): digits
// past the 8th decimal round to the nearest satoshi (halves up) instead of
// being an error.
func ParseRounded(s string) (int64, error) { return parse(s, true) }

func parse(s string, round bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalid)
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 30 || e < -30 {
			return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
		}
		mant, exp = s[:i], e
	}
	mant = strings.TrimPrefix(mant, "+")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) {
		return 0, fmt.Errorf("%w: %q", ErrInvalid, s)
	}
	all := strings.TrimLeft(intPart+frac, "0")
	// value = all * 10^(exp - len(frac)) coins = all * 10^(exp-len(frac)+8) sats
	shift := exp - len(frac) + 8
	if shift < 0 {
		cut := -shift
		if len(all) < cut {
			all = strings.Repeat("0", cut-len(all)) + all
		}
		dropped := all[len(all)-cut:]
		if !round && strings.Trim(dropped, "0") != "" {
			return 0, fmt.Errorf("%w: %q has more than 8 decimals", ErrInvalid, s)
		}
		all = all[:len(all)-cut]
		shift = 0
		if round && dropped[0] >= '5' {
			all = increment(all)
		}
	}
	all += strings.Repeat("0", shift)
	all = strings.TrimLeft(all, "0")
	if all == "" {
		return 0, nil
	}
	if len(all) > 18 {
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalid, s)
	}
	v, err := strconv.ParseInt(all, 10, 64)
	if err != nil || v > MaxSats {
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalid, s)
	}
	return v, nil
}

// increment adds one to a string of decimal digits ("" is 0).
func increment(d string) string {
	b := []byte(d)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Fixed renders sats as a fixed 8-decimal string of coins: "0.00010000",
// "-0.00000005".
func Fixed(sats int64) string { return string(AppendFixed(make([]byte, 0, 24), sats)) }

// AppendFixed appends Fixed(sats) to b (no allocation when b has room):
// the hand-written replies of the daemon's hot paths use it.
func AppendFixed(b []byte, sats int64) []byte {
	u := uint64(sats)
	if sats < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e8, 10)
	frac := u % 1e8
	var d [9]byte
	d[0] = '.'
	for i := 8; i >= 1; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, d[:]...)
}

// Trimmed renders sats in coins without trailing zeros nor a trailing
// point: "0.5", "1", "0.00001".
func Trimmed(sats int64) string {
	return strings.TrimSuffix(strings.TrimRight(Fixed(sats), "0"), ".")
}
