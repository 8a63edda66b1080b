package base

import (
	"errors"
	"fmt"
	"strings"

	"github.com/walletd/walletd/spec"
)

// Error is a JSON-RPC error with a contract code. Handlers may return one
// directly; deeper code returns its own sentinel errors and the daemon maps
// them with an ErrorTable.
type Error struct {
	Code    spec.Code
	Message string
}

// Error returns the message as sent on the wire.
func (e *Error) Error() string { return e.Message }

// RPCCode returns the contract code; it makes *Error a Coder.
func (e *Error) RPCCode() spec.Code { return e.Code }

// Errorf builds an *Error with a formatted message.
func Errorf(code spec.Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Coder is implemented by errors that know their own contract code (the
// go-ethereum rpc model). The code of the outermost Coder in the chain wins.
type Coder interface {
	RPCCode() spec.Code
}

// ErrorMapping maps every error matching Target (errors.Is) to Code. The
// wire message is the error's own text, which deeper packages guarantee to
// be free of secrets.
type ErrorMapping struct {
	Target error
	Code   spec.Code
	// Message, when set, starts the wire message ("<Message>: <error>")
	// unless the error's text already holds it: the phrase Bitcart's
	// daemon says for this code, which the served electrum_map maps to it.
	Message string
}

// ErrorTable is the one place where typed errors from deeper packages become
// contract codes. The first matching entry wins.
type ErrorTable []ErrorMapping

// Codes lists every code the table can produce.
func (t ErrorTable) Codes() []spec.Code {
	out := make([]spec.Code, 0, len(t))
	for _, m := range t {
		out = append(out, m.Code)
	}
	return out
}

// resolve turns any error into a wire error. ok is false for errors nothing
// recognises: the caller logs those and answers a generic internal error.
func (t ErrorTable) resolve(err error) (e *Error, ok bool) {
	var c Coder
	if errors.As(err, &c) {
		return &Error{Code: c.RPCCode(), Message: err.Error()}, true
	}
	for _, m := range t {
		if errors.Is(err, m.Target) {
			msg := err.Error()
			if m.Message != "" && !strings.Contains(strings.ToLower(msg), strings.ToLower(m.Message)) {
				msg = m.Message + ": " + msg
			}
			return &Error{Code: m.Code, Message: msg}, true
		}
	}
	return &Error{Code: spec.Internal, Message: "internal error"}, false
}

// codesEmittedByBase lists the codes this package emits by itself; the
// catalog test checks each is served.
func codesEmittedByBase() []spec.Code {
	return []spec.Code{spec.Unauthorized, spec.ProcedureNotFound, spec.InvalidParams,
		spec.WalletNotLoaded, spec.LoadingWallet, spec.Internal, spec.ParseError}
}

// EmittedCodes lists every code a server built with table can put on the
// wire: the base's own codes and the table's. A daemon's test checks each
// against the served catalog with spec.Cataloged.
func EmittedCodes(table ErrorTable) []spec.Code {
	return append(codesEmittedByBase(), table.Codes()...)
}
