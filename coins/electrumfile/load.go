package electrumfile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// loadDocument decodes a wallet file into its JSON object with Electrum's
// appended patches applied (json_db.py JsonDB.load_data): the file is the
// object followed by zero or more ",\n<patch>" elements; an incomplete last
// element (a write cut short) is dropped, as Electrum drops it.
func loadDocument(data []byte) (map[string]any, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotWallet)
	}
	if encrypted(data) {
		return nil, ErrEncrypted
	}
	if data[0] != '{' {
		return nil, fmt.Errorf("%w: it does not hold a JSON object", ErrNotWallet)
	}
	var doc map[string]any
	n, err := decodeOne(data, &doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotWallet, jsonProblem(err))
	}
	rest := data[n:]
	for i := 1; ; i++ {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 {
			return doc, nil
		}
		if rest[0] != ',' {
			return nil, fmt.Errorf("%w: unexpected data after the wallet object", ErrNotWallet)
		}
		rest = rest[1:]
		var patch any
		n, err := decodeOne(rest, &patch)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return doc, nil // an append cut short: Electrum ignores it too
			}
			return nil, fmt.Errorf("%w: appended change #%d: %s", ErrNotWallet, i, jsonProblem(err))
		}
		rest = rest[n:]
		ops, ok := patch.([]any)
		if !ok {
			ops = []any{patch}
		}
		for _, op := range ops {
			if err := applyPatch(doc, op); err != nil {
				return nil, fmt.Errorf("%w: appended change #%d: %v", ErrNotWallet, i, err)
			}
		}
	}
}

// encrypted reports whether data is Electrum's encrypted storage: base64
// of "BIE1" (user password) or "BIE2" (hardware-derived password).
func encrypted(data []byte) bool {
	if len(data) < 8 {
		return false
	}
	head, err := base64.StdEncoding.DecodeString(string(data[:8]))
	return err == nil && (bytes.HasPrefix(head, []byte("BIE1")) || bytes.HasPrefix(head, []byte("BIE2")))
}

// decodeOne decodes the first JSON value of data (numbers as json.Number)
// and returns how many bytes it used.
func decodeOne(data []byte, v any) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return 0, err
	}
	return int(dec.InputOffset()), nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "malformed JSON at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "field " + te.Field + " has the wrong type"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the JSON is cut short"
	}
	return "malformed JSON"
}

// applyPatch applies one RFC 6902 operation as the jsonpatch package does
// for Electrum: "add", "replace" and "remove" (the only ones Electrum
// writes). Errors name the operation, never the values.
func applyPatch(doc map[string]any, raw any) error {
	op, ok := raw.(map[string]any)
	if !ok {
		return errors.New("a change is not an object")
	}
	kind, _ := op["op"].(string)
	path, ok := op["path"].(string)
	if !ok {
		return fmt.Errorf("%q change without a path", kind)
	}
	value, hasValue := op["value"]
	tokens, err := pointer(path)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return fmt.Errorf("%q change of the whole wallet", kind)
	}
	var parent any = doc
	for _, tok := range tokens[:len(tokens)-1] {
		if parent, err = child(parent, tok); err != nil {
			return fmt.Errorf("%q change: %v", kind, err)
		}
	}
	last := tokens[len(tokens)-1]
	switch kind {
	case "add", "replace":
		if !hasValue {
			return fmt.Errorf("%q change without a value", kind)
		}
		return setChild(doc, tokens, parent, last, value, kind)
	case "remove":
		return setChild(doc, tokens, parent, last, nil, kind)
	}
	return fmt.Errorf("unsupported change %q", kind)
}

// pointer splits a JSON pointer into unescaped tokens.
func pointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New("a change's path is not a JSON pointer")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// child returns the member tok of an object or array.
func child(c any, tok string) (any, error) {
	switch c := c.(type) {
	case map[string]any:
		v, ok := c[tok]
		if !ok {
			return nil, errors.New("path to a missing member")
		}
		return v, nil
	case []any:
		i, err := arrayIndex(tok, len(c), false)
		if err != nil {
			return nil, err
		}
		return c[i], nil
	}
	return nil, errors.New("path through a scalar")
}

func arrayIndex(tok string, n int, end bool) (int, error) {
	if end && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (!end && i == n) || (len(tok) > 1 && tok[0] == '0') {
		return 0, errors.New("bad array index")
	}
	return i, nil
}

// setChild applies kind ("add", "replace" or "remove") to member last of
// parent. Arrays are values in their own parent, so a changed array is
// stored back through the path.
func setChild(doc map[string]any, tokens []string, parent any, last string, value any, kind string) error {
	switch p := parent.(type) {
	case map[string]any:
		_, exists := p[last]
		switch {
		case kind == "remove" && !exists:
			return errors.New("remove of a missing member")
		case kind == "remove":
			delete(p, last)
		case kind == "replace" && !exists:
			return errors.New("replace of a missing member")
		default:
			p[last] = value
		}
		return nil
	case []any:
		var out []any
		switch kind {
		case "remove":
			i, err := arrayIndex(last, len(p), false)
			if err != nil {
				return err
			}
			out = append(append([]any{}, p[:i]...), p[i+1:]...)
		case "add":
			i, err := arrayIndex(last, len(p), true)
			if err != nil {
				return err
			}
			out = append(append(append([]any{}, p[:i]...), value), p[i:]...)
		default:
			i, err := arrayIndex(last, len(p), false)
			if err != nil {
				return err
			}
			p[i] = value
			return nil
		}
		return storeBack(doc, tokens[:len(tokens)-1], out)
	}
	return errors.New("change of a member of a scalar")
}

// storeBack puts v at the path tokens.
func storeBack(doc map[string]any, tokens []string, v any) error {
	var c any = doc
	for _, tok := range tokens[:len(tokens)-1] {
		var err error
		if c, err = child(c, tok); err != nil {
			return err
		}
	}
	last := tokens[len(tokens)-1]
	switch c := c.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		i, err := arrayIndex(last, len(c), false)
		if err != nil {
			return err
		}
		c[i] = v
	default:
		return errors.New("path through a scalar")
	}
	return nil
}
