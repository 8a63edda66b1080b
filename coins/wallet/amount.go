package wallet

import (
	"github.com/walletd/walletd/coins/amount"
)

// ErrInvalidAmount is returned for an amount out of range (negative, or
// above MaxAmount). It is amount.ErrInvalid.
var ErrInvalidAmount = amount.ErrInvalid

// Amount is the value of an output to build, in satoshis. Max means "!":
// everything that is left. Set reports that a value was given. Parsing it
// from a client's decimal is the daemon's job.
type Amount struct {
	Sats int64
	Max  bool
	Set  bool
}
