package base

import (
	"fmt"
	"strings"
)

// Bool is a configuration boolean with the forms Bitcart accepts
// (python-decouple's cast=bool): 1/yes/y/true/t/on and 0/no/n/false/f/off
// and "" in any case, surrounding whitespace ignored. Anything else is an
// error. It
// implements envconfig's Decoder (Decode(string) error) without importing
// envconfig: only cmd/daemon reads the environment.
type Bool bool

// Decode parses one of the accepted forms.
func (b *Bool) Decode(value string) error {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "1", "yes", "y", "true", "t", "on":
		*b = true
	case "0", "no", "n", "false", "f", "off", "":
		*b = false
	default:
		return fmt.Errorf("invalid boolean %q (use yes/no, true/false, on/off or 1/0)", shorten(value))
	}
	return nil
}
