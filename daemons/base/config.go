package base

import (
	"fmt"
	"strings"
)

// Bool is a configuration boolean with the contract's forms: 1/yes/true/on
// and 0/no/false/off/"" in any case. Anything else is an error. It
// implements envconfig's Decoder (Decode(string) error) without importing
// envconfig: only cmd/daemon reads the environment.
type Bool bool

// Decode parses one of the accepted forms.
func (b *Bool) Decode(value string) error {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "1", "yes", "true", "on":
		*b = true
	case "0", "no", "false", "off", "":
		*b = false
	default:
		return fmt.Errorf("invalid boolean %q (use yes/no, true/false, on/off or 1/0)", value)
	}
	return nil
}
