package utxo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/wallet"
)

// Amount is an amount argument in coin units parsed exactly from a JSON
// string or number ("0.1", 0.1, "1.", "1e-3"), never through float64. Max
// means "!": everything. Set reports that a value was given (null and an
// absent argument leave it false). It converts to Amount.
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
			return fmt.Errorf("%w: %v", wallet.ErrInvalidAmount, err)
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
// fractional digits, and amounts beyond amount.MaxSats
// (wallet.ErrInvalidAmount).
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
func FormatFixed(sats int64) string { return amount.Fixed(sats) }

// FormatElectrum renders sats as Electrum does for request amounts: no
// trailing zeros, no trailing point ("0.5", "1", "0.00001").
func FormatElectrum(sats int64) string { return amount.Trimmed(sats) }
