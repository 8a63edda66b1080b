package base

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"

	"github.com/walletd/walletd/spec"
)

// Selector is the wallet a request names through its `xpub` argument, in
// the string form or the object form of contract.md §2.
type Selector struct {
	// Key is the key material exactly as the client sent it. It may be a
	// secret (a seed or a private key): never log or store it.
	Key string
	// Contract is the optional contract of the object form.
	Contract string
	// Diskless asks that nothing about this wallet be written to disk.
	Diskless bool
	// Options holds the object form's other keys, undecoded.
	Options map[string]json.RawMessage
}

// Empty reports whether no wallet was named.
func (s Selector) Empty() bool { return s.Key == "" }

// WalletKey is the wallet's name in a websocket client's filter (the name
// its frames carry): the key material as the client sent it, plus
// "_<contract>" when a contract was given, as Bitcart names wallets.
func (s Selector) WalletKey() string {
	if s.Contract != "" {
		return s.Key + "_" + s.Contract
	}
	return s.Key
}

// LogValue keeps the key material out of logs.
func (s Selector) LogValue() slog.Value {
	if s.Empty() {
		return slog.StringValue("none")
	}
	return slog.StringValue("<wallet>")
}

// parseSelector decodes the xpub argument: absent, null or "" names no
// wallet; a string is the key material; an object carries xpub, contract
// and options.
func parseSelector(raw json.RawMessage) (Selector, error) {
	var sel Selector
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return sel, nil
	}
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &sel.Key); err != nil {
			return sel, Errorf(spec.LoadingWallet, "invalid xpub argument")
		}
		return sel, nil
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return sel, Errorf(spec.LoadingWallet, "invalid xpub object")
		}
		if k, ok := obj["xpub"]; ok && !isNull(k) {
			if err := json.Unmarshal(k, &sel.Key); err != nil {
				return sel, Errorf(spec.LoadingWallet, "xpub.xpub must be a string")
			}
		}
		if c, ok := obj["contract"]; ok && !isNull(c) {
			if err := json.Unmarshal(c, &sel.Contract); err != nil {
				return sel, Errorf(spec.InvalidParams, "xpub.contract must be a string or null")
			}
		}
		if d, ok := obj["diskless"]; ok && !isNull(d) {
			if err := json.Unmarshal(d, &sel.Diskless); err != nil {
				return sel, Errorf(spec.InvalidParams, "xpub.diskless must be a boolean")
			}
		}
		delete(obj, "xpub")
		delete(obj, "contract")
		sel.Options = obj
		return sel, nil
	default:
		return sel, Errorf(spec.LoadingWallet, "xpub must be a string or an object")
	}
}

// Call is what a handler learns about its request besides its arguments.
type Call struct {
	// ID is the request id as sent (raw JSON, "null" when absent).
	ID json.RawMessage
	// Method is the name the client called (an alias keeps its own name).
	Method string
	// Wallet is the wallet selector; never empty for a method that needs a
	// wallet.
	Wallet Selector
	// Log carries the request id and method.
	Log *slog.Logger
}

// Handler runs one method with its bound arguments.
type Handler func(ctx context.Context, c *Call, args reflect.Value) (any, error)

// Method is one entry of a daemon's method table.
type Method struct {
	Name        string
	Aliases     []string
	NeedsWallet bool
	Help        string

	argType reflect.Type
	params  []param
	// run binds the request's params to the arguments and calls the
	// method.
	run func(ctx context.Context, c *Call, p rawParams) (any, error)
}

// MethodOption adjusts a Method built by NewMethod.
type MethodOption func(*Method)

// NeedsWallet marks a method that fails with WalletNotLoaded when the
// request names no wallet.
func NeedsWallet() MethodOption { return func(m *Method) { m.NeedsWallet = true } }

// Alias adds other names the method answers to.
func Alias(names ...string) MethodOption {
	return func(m *Method) { m.Aliases = append(m.Aliases, names...) }
}

// NewMethod declares a method whose arguments bind to A, a struct whose
// `rpc:"name[,required]"` tagged fields are the parameters in positional
// order, with optional `default:"<json>"` tags. It returns an error when A
// is malformed.
func NewMethod[A any](name, help string, fn func(ctx context.Context, c *Call, args A) (any, error), opts ...MethodOption) (Method, error) {
	t := reflect.TypeFor[A]()
	params, err := paramsOf(t)
	if err != nil {
		return Method{}, fmt.Errorf("method %s: %w", name, err)
	}
	m := Method{Name: name, Help: help, argType: t, params: params,
		run: func(ctx context.Context, c *Call, p rawParams) (any, error) {
			// Bound in place: no reflect.New and no copy out through an
			// interface, as bind would cost per call.
			var a A
			if err := bindInto(reflect.ValueOf(&a).Elem(), params, p); err != nil {
				return nil, err
			}
			return fn(ctx, c, a)
		}}
	for _, o := range opts {
		o(&m)
	}
	if strings.TrimSpace(help) == "" {
		return Method{}, fmt.Errorf("method %s: missing help text", name)
	}
	return m, nil
}

// NoArgs is the argument type of methods without parameters.
type NoArgs struct{}

// Signature renders the method's parameter list, Python style:
// "add_request(amount, memo=\"\", expiry=3600)".
func (m *Method) Signature() string {
	parts := make([]string, 0, len(m.params))
	for _, p := range m.params {
		switch {
		case p.required:
			parts = append(parts, p.name)
		case p.def != nil:
			parts = append(parts, p.name+"="+string(p.def))
		default:
			parts = append(parts, p.name+"=null")
		}
	}
	return m.Name + "(" + strings.Join(parts, ", ") + ")"
}

// Table is a daemon's method table. It is built once at start-up and only
// read afterwards, so it is safe for concurrent use.
type Table struct {
	byName map[string]*Method
	names  []string // canonical names, sorted
	all    []string // every callable name (with aliases), sorted: help's reply
}

// NewTable builds a table with the built-in help method added; duplicate
// names or aliases are an error.
func NewTable(methods ...Method) (*Table, error) {
	t := &Table{byName: map[string]*Method{}}
	methods = append(methods, helpMethod(t))
	for i := range methods {
		m := &methods[i]
		for _, n := range append([]string{m.Name}, m.Aliases...) {
			if _, dup := t.byName[n]; dup {
				return nil, fmt.Errorf("method %q declared twice", n)
			}
			t.byName[n] = m
		}
		t.names = append(t.names, m.Name)
	}
	sort.Strings(t.names)
	for n := range t.byName {
		t.all = append(t.all, n)
	}
	sort.Strings(t.all)
	return t, nil
}

// Lookup finds a method by name or alias.
func (t *Table) Lookup(name string) (*Method, bool) {
	m, ok := t.byName[name]
	return m, ok
}

// Names lists every callable name (canonical names and aliases), sorted.
// The slice is shared: callers must not modify it.
func (t *Table) Names() []string { return t.all }

// helpArgs are the arguments of the built-in help method: Bitcart's
// func, or walletd 0.1's name.
type helpArgs struct {
	Func string `rpc:"func"`
	Name string `rpc:"name"`
}

// helpMethod is the built-in help: without a name it lists every method
// name; with one it returns that method's signature and text.
func helpMethod(t *Table) Method {
	m, _ := NewMethod("help", "help(func=null): without a name, the list of method names; with one, its help text.",
		func(_ context.Context, _ *Call, a helpArgs) (any, error) {
			if a.Name == "" {
				a.Name = a.Func
			}
			if a.Name == "" {
				return t.Names(), nil
			}
			m, ok := t.Lookup(a.Name)
			if !ok {
				return nil, Errorf(spec.ProcedureNotFound, "Procedure not found: %s", shorten(a.Name))
			}
			text := m.Signature() + "\n\n" + m.Help
			if m.NeedsWallet {
				text += "\n\nNeeds a wallet (the xpub argument)."
			}
			if len(m.Aliases) > 0 {
				text += "\n\nAliases: " + strings.Join(m.Aliases, ", ")
			}
			return text, nil
		})
	return m
}

// Builder collects method declarations and their errors, so a daemon can
// declare its table as a flat list and check once.
type Builder struct {
	methods []Method
	err     error
}

// Add records a declaration made with NewMethod.
func (b *Builder) Add(m Method, err error) {
	if err != nil {
		b.err = errors.Join(b.err, err)
		return
	}
	b.methods = append(b.methods, m)
}

// Remove drops the declarations named (by canonical name), so that a
// flavor of a daemon can replace or withdraw methods of a shared table.
// Names not declared are ignored.
func (b *Builder) Remove(names ...string) {
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		drop[n] = true
	}
	kept := b.methods[:0]
	for _, m := range b.methods {
		if !drop[m.Name] {
			kept = append(kept, m)
		}
	}
	b.methods = kept
}

// Table builds the table, or reports every declaration error.
func (b *Builder) Table() (*Table, error) {
	if b.err != nil {
		return nil, b.err
	}
	return NewTable(b.methods...)
}
