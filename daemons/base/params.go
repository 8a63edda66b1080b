package base

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/walletd/walletd/spec"
)

// rawParams is a request's params split into positional and named
// arguments, following the Bitcart dialect: an array whose last element is
// an object carries that object as the named arguments.
type rawParams struct {
	positional []json.RawMessage
	named      map[string]json.RawMessage
	order      []string // named keys in arrival order, for stable errors
}

// splitParams decodes params (absent, array or object) into rawParams.
func splitParams(raw json.RawMessage) (rawParams, error) {
	var p rawParams
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p, nil
	}
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &p.positional); err != nil {
			return p, Errorf(spec.InvalidParams, "invalid params: %v", err)
		}
		if n := len(p.positional); n > 0 {
			last := bytes.TrimSpace(p.positional[n-1])
			if len(last) > 0 && last[0] == '{' {
				p.positional = p.positional[:n-1]
				return p, p.decodeNamed(last)
			}
		}
		return p, nil
	case '{':
		return p, p.decodeNamed(raw)
	default:
		return p, Errorf(spec.InvalidParams, "invalid params: must be an array or an object")
	}
}

// decodeNamed decodes a JSON object keeping key order.
func (p *rawParams) decodeNamed(raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return Errorf(spec.InvalidParams, "invalid named params: %v", err)
	}
	p.named = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Errorf(spec.InvalidParams, "invalid named params: %v", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return Errorf(spec.InvalidParams, "invalid named params: %v", err)
		}
		if _, dup := p.named[key]; !dup {
			p.order = append(p.order, key)
		}
		p.named[key] = v
	}
	return nil
}

// take removes and returns the named argument key.
func (p *rawParams) take(key string) (json.RawMessage, bool) {
	v, ok := p.named[key]
	if ok {
		delete(p.named, key)
		p.order = slices.DeleteFunc(p.order, func(k string) bool { return k == key })
		if len(p.order) == 0 {
			p.order = nil
		}
	}
	return v, ok
}

// param describes one bound parameter of a method, derived from a field of
// the method's argument struct.
type param struct {
	name     string
	field    []int // index path (embedded structs flatten into the list)
	required bool
	def      json.RawMessage // JSON default applied when absent (or null, unless nullable)
	// nullable keeps an explicit null as "none" (the field's zero value)
	// instead of the default, as Python's None (add_request's expiry).
	nullable bool
	// fast is the field's kind when bindFast may set it without
	// encoding/json (see fastKindOf).
	fast reflect.Kind
}

// fastKindOf returns t's kind when a plain JSON value binds to it exactly
// as encoding/json would bind it with no reflection on the value: a string,
// bool or signed integer type without its own unmarshaling (and not
// json.Number, which encoding/json validates). Invalid otherwise.
func fastKindOf(t reflect.Type) reflect.Kind {
	pt := reflect.PointerTo(t)
	if t == reflect.TypeFor[json.Number]() || pt.Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		pt.Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return reflect.Invalid
	}
	switch k := t.Kind(); k {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return k
	}
	return reflect.Invalid
}

// bindFast sets f from raw when raw is a value whose binding needs no
// decoder: a string of printable ASCII without escapes into a string, a
// boolean literal into a bool, an integer literal in range into a signed
// integer. It reports false, leaving f alone, for anything else (encoding/
// json then binds it, or words the error).
func bindFast(f reflect.Value, kind reflect.Kind, raw []byte) bool {
	switch kind {
	case reflect.String:
		if s, end, ok := plainString(raw, 0); ok && end == len(raw) {
			f.SetString(string(s))
			return true
		}
	case reflect.Bool:
		switch string(raw) {
		case "true":
			f.SetBool(true)
			return true
		case "false":
			f.SetBool(false)
			return true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !plainInt(raw) {
			return false
		}
		n, err := strconv.ParseInt(string(raw), 10, f.Type().Bits())
		if err != nil {
			return false
		}
		f.SetInt(n)
		return true
	}
	return false
}

// plainInt reports whether raw is a JSON integer literal: an optional
// minus, then 0 or digits not starting with 0.
func plainInt(raw []byte) bool {
	i := 0
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	if i == len(raw) || raw[i] == '0' && i+1 != len(raw) {
		return false
	}
	for ; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	return true
}

// paramsOf derives the parameter list from an argument struct type. Each
// exported field with an `rpc:"name"` tag is a parameter, in field order
// (which is the positional order). Options after the name: "required",
// and "nullable" (an explicit null leaves the zero value, not the default).
// A `default:"<json>"` tag gives the value used when the argument is absent
// or null. It reports malformed declarations as errors (a programming error
// caught when the method table is built, never at request time).
func paramsOf(t reflect.Type) ([]param, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("argument type %s is not a struct", t)
	}
	return appendParams(nil, t, nil)
}

// appendParams adds t's parameters to out; an embedded struct without an
// rpc tag contributes its own parameters at its place in the order, so
// methods can share a parameter group (payto and paytomany).
func appendParams(out []param, t reflect.Type, path []int) ([]param, error) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), path...), i)
		tag, ok := f.Tag.Lookup("rpc")
		if !ok && f.Anonymous && f.Type.Kind() == reflect.Struct {
			var err error
			if out, err = appendParams(out, f.Type, idx); err != nil {
				return nil, err
			}
			continue
		}
		if !ok || !f.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		p := param{name: parts[0], field: idx, fast: fastKindOf(f.Type)}
		for _, opt := range parts[1:] {
			switch opt {
			case "required":
				p.required = true
			case "nullable":
				p.nullable = true
			default:
				return nil, fmt.Errorf("%s.%s: unknown rpc tag option %q", t, f.Name, opt)
			}
		}
		if d, ok := f.Tag.Lookup("default"); ok {
			p.def = json.RawMessage(d)
			if err := json.Unmarshal(p.def, reflect.New(f.Type).Interface()); err != nil {
				return nil, fmt.Errorf("%s.%s: bad default %q: %v", t, f.Name, d, err)
			}
		}
		if p.name == "" {
			return nil, fmt.Errorf("%s.%s: empty rpc name", t, f.Name)
		}
		for _, q := range out {
			if q.name == p.name {
				return nil, fmt.Errorf("%s.%s: parameter %q declared twice", t, f.Name, p.name)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// bind fills a new value of type t from p according to params. Positional
// arguments bind in order, then named ones by name; a parameter given both
// ways, an unknown name, too many positional arguments, a missing required
// parameter or a value of the wrong type is an InvalidParams error.
func bind(t reflect.Type, params []param, p rawParams) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	return v, bindInto(v, params, p)
}

// bindInto is bind into v, a settable struct of the arguments' type.
func bindInto(v reflect.Value, params []param, p rawParams) error {
	if len(p.positional) > len(params) {
		return Errorf(spec.InvalidParams, "too many positional arguments: got %d, takes at most %d",
			len(p.positional), len(params))
	}
	var givenBuf [8]json.RawMessage // on the stack for the usual few params
	var given []json.RawMessage
	if len(params) > len(givenBuf) {
		given = make([]json.RawMessage, len(params))
	} else {
		given = givenBuf[:len(params)]
	}
	copy(given, p.positional)
	for _, key := range p.order {
		raw, ok := p.named[key]
		if !ok {
			continue
		}
		idx := -1
		for i, prm := range params {
			if prm.name == key {
				idx = i
				break
			}
		}
		if idx < 0 {
			return Errorf(spec.InvalidParams, "unexpected keyword argument %q", key)
		}
		if given[idx] != nil {
			return Errorf(spec.InvalidParams, "got multiple values for argument %q", key)
		}
		given[idx] = raw
	}
	for i, prm := range params {
		raw := given[i]
		if isNull(raw) {
			if prm.nullable {
				continue
			}
			raw = nil
		}
		if raw == nil {
			if prm.required {
				return Errorf(spec.InvalidParams, "missing required argument %q", prm.name)
			}
			raw = prm.def
		}
		if raw == nil {
			continue
		}
		f := v.FieldByIndex(prm.field)
		if prm.fast != reflect.Invalid && bindFast(f, prm.fast, raw) {
			continue
		}
		if err := json.Unmarshal(raw, f.Addr().Interface()); err != nil {
			return Errorf(spec.InvalidParams, "invalid value for argument %q: %s", prm.name, cleanJSONErr(err))
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return raw != nil && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// cleanJSONErr shortens encoding/json's messages to what a client can act on.
func cleanJSONErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %s, got JSON %s", friendlyKind(te.Type), te.Value)
	}
	return err.Error()
}

func friendlyKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
