package base

import (
	"bytes"
	"encoding/json"
)

// The request fast path.
//
// Almost every request is a small object of plain keys — jsonrpc, id,
// method, params — whose params are an array ending with the {"xpub": …}
// selector. fastDecode reads that shape in one pass over the body, without
// encoding/json's reflection, and hands back exactly what decodeRequest
// would (the tests and the fuzzer check it). Anything it is not sure about —
// a key or a string with escapes or non-ASCII bytes, a duplicate member, a
// syntax error — makes it decline, and decodeRequest takes the request
// through encoding/json instead; so the fast path never accepts what the
// slow one refuses, nor reads anything differently.

// fastDecode decodes body when it has the common shape; ok is false
// otherwise (the caller then uses decodeRequest). It reads the body once:
// params are split as they are scanned.
func fastDecode(body []byte) (req request, ok bool) {
	var id, method, xpub []byte
	var p rawParams
	var selRaw []byte // the named xpub argument
	selFound, seenParams := false, false
	i := skipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return req, false
	}
	i = skipWS(body, i+1)
	if i < len(body) && body[i] == '}' {
		return req, false // no method: the slow path words the error
	}
	for {
		k, j, ok := plainString(body, i)
		if !ok {
			return req, false
		}
		j = skipWS(body, j)
		if j >= len(body) || body[j] != ':' {
			return req, false
		}
		j = skipWS(body, j+1)
		var end int
		if string(k) == "params" {
			if seenParams {
				return req, false // duplicate member: the last one wins there
			}
			seenParams = true
			if p, selRaw, selFound, end, ok = fastParams(body, j); !ok {
				return req, false
			}
		} else {
			if end, ok = scanValue(body, j, 0); !ok {
				return req, false
			}
			var dst *[]byte
			switch string(k) {
			case "id":
				dst = &id
			case "method":
				dst = &method
			case "xpub":
				dst = &xpub
			case "jsonrpc":
			default:
				// encoding/json matches keys case-insensitively: "Method"
				// would be the method there.
				if !lowerASCII(k) {
					return req, false
				}
			}
			if dst != nil {
				if *dst != nil {
					return req, false // duplicate member: the last one wins there
				}
				*dst = body[j:end]
			}
		}
		i = skipWS(body, end)
		if i >= len(body) {
			return req, false
		}
		if body[i] == '}' {
			break
		}
		if body[i] != ',' {
			return req, false
		}
		i = skipWS(body, i+1)
	}
	if skipWS(body, i+1) != len(body) {
		return req, false
	}
	req.id = nullID
	if id != nil {
		req.id = id
	}
	m, _, ok := plainString(method, 0)
	if !ok || len(m) == 0 || len(m)+2 != len(method) {
		return req, false
	}
	req.method = string(m)
	if !selFound {
		selRaw = xpub
	}
	if selRaw != nil {
		key, _, ok := plainString(selRaw, 0)
		if !ok || len(key)+2 != len(selRaw) {
			return req, false // an object, null, escapes: the slow path
		}
		req.sel.Key = string(key)
	}
	req.params = p
	return req, true
}

// maxFastParams is how many positional params fastParams delimits before it
// allocates their slice (more take a growing slice).
const maxFastParams = 8

// fastParams splits the params array at b[i] whose elements it can
// delimit; a trailing object becomes the named arguments when its keys are
// plain and distinct. Its "xpub" member, the wallet selector, is returned
// apart (as rawParams.take would remove it). end is the index after the
// array.
func fastParams(b []byte, i int) (p rawParams, xpub []byte, hasXpub bool, end int, ok bool) {
	if i >= len(b) || b[i] != '[' {
		return p, nil, false, i, false // null, an object of named params: the slow path
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return p, nil, false, i + 1, true
	}
	var buf [maxFastParams]json.RawMessage
	pos := buf[:0]
	for {
		if i >= len(b) {
			return p, nil, false, i, false
		}
		var e int
		last := false
		if b[i] == '{' {
			// An object is the named arguments when it ends the array.
			named, order, x, hasX, oe, ok := fastNamed(b, i)
			if ok {
				e = oe
				if j := skipWS(b, e); j < len(b) && b[j] == ']' {
					p.named, p.order, xpub, hasXpub, last = named, order, x, hasX, true
				}
			} else if e, ok = scanValue(b, i, 1); !ok {
				return p, nil, false, e, false
			} else if j := skipWS(b, e); j < len(b) && b[j] == ']' {
				return p, nil, false, e, false // named arguments it cannot read
			}
		} else {
			var ok bool
			if e, ok = scanValue(b, i, 1); !ok {
				return p, nil, false, e, false
			}
		}
		if !last {
			pos = append(pos, json.RawMessage(b[i:e]))
		}
		i = skipWS(b, e)
		if i >= len(b) {
			return p, nil, false, i, false
		}
		if b[i] == ']' {
			break
		}
		if b[i] != ',' {
			return p, nil, false, i, false
		}
		i = skipWS(b, i+1)
	}
	if len(pos) > 0 {
		p.positional = append([]json.RawMessage(nil), pos...)
	}
	return p, xpub, hasXpub, i + 1, true
}

// fastNamed reads the object at b[i] of named arguments with plain,
// distinct keys; its "xpub" member is returned apart, and the map is made
// only for other members. end is the index after the object.
func fastNamed(b []byte, i int) (named map[string]json.RawMessage, order []string, xpub []byte, hasXpub bool,
	end int, ok bool) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, nil, nil, false, i + 1, true
	}
	for {
		k, j, ok := plainString(b, i)
		if !ok {
			return nil, nil, nil, false, i, false
		}
		j = skipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return nil, nil, nil, false, j, false
		}
		j = skipWS(b, j+1)
		e, ok := scanValue(b, j, 2)
		if !ok {
			return nil, nil, nil, false, e, false
		}
		if string(k) == "xpub" {
			if hasXpub {
				return nil, nil, nil, false, e, false
			}
			xpub, hasXpub = b[j:e], true
		} else {
			key := string(k)
			if _, dup := named[key]; dup {
				return nil, nil, nil, false, e, false
			}
			if named == nil {
				named = map[string]json.RawMessage{}
			}
			named[key] = json.RawMessage(b[j:e])
			order = append(order, key)
		}
		i = skipWS(b, e)
		if i >= len(b) {
			return nil, nil, nil, false, i, false
		}
		if b[i] == '}' {
			return named, order, xpub, hasXpub, i + 1, true
		}
		if b[i] != ',' {
			return nil, nil, nil, false, i, false
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string at b[i] made of printable ASCII without
// escapes, returning its contents and the index after it.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, i, false
		}
	}
	return nil, i, false
}

func lowerASCII(k []byte) bool {
	for _, c := range k {
		if 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// maxFastDepth bounds the nesting scanValue follows (deeper values take
// the slow path).
const maxFastDepth = 32

// scanValue returns the index just after the JSON value starting at b[i],
// validating it as encoding/json does (strings may hold escapes and any
// bytes but control characters: encoding/json accepts them too).
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxFastDepth {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			j, ok := scanString(b, i)
			if !ok {
				return i, false
			}
			j = skipWS(b, j)
			if j >= len(b) || b[j] != ':' {
				return j, false
			}
			if j, ok = scanValue(b, skipWS(b, j+1), depth+1); !ok {
				return j, false
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return j, false
			}
			if b[j] == '}' {
				return j + 1, true
			}
			if b[j] != ',' {
				return j, false
			}
			i = skipWS(b, j+1)
		}
	case c == '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			j, ok := scanValue(b, i, depth+1)
			if !ok {
				return j, false
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return j, false
			}
			if b[j] == ']' {
				return j + 1, true
			}
			if b[j] != ',' {
				return j, false
			}
			i = skipWS(b, j+1)
		}
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return i, false
}

func literal(b []byte, i int, lit string) (int, bool) {
	if bytes.HasPrefix(b[i:], []byte(lit)) {
		return i + len(lit), true
	}
	return i, false
}

func scanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return j, false
		case c == '\\':
			j++
			if j >= len(b) {
				return j, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return j, false
				}
				for _, h := range b[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return j, false
					}
				}
				j += 4
			default:
				return j, false
			}
		}
	}
	return len(b), false
}

// scanNumber follows JSON's number grammar.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	return i, true
}
