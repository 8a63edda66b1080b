package base

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// What the error edge lets through of a client's own strings. A client may
// put a secret (a seed, an extended private key, a WIF) in any argument,
// right or wrong, and a handler may quote an argument in its error; every
// error message and error log line passes through redact first, which
// replaces each client string of redactMin bytes or more (and any
// redactWindow-byte piece of one) by its first redactKeep characters and
// "…". No secret the contract knows is shorter than redactMin (a WIF has 51
// characters, the shortest seed about 40).
const (
	redactMin    = 16
	redactKeep   = 4
	redactWindow = 16
	// maxErrMessage caps an error message (after redaction) in bytes.
	maxErrMessage = 512
)

// clientStrings returns the strings of a request that came from the
// client and are long enough to matter: the method name, the wallet
// selector, every named argument's key, and every string inside every
// argument value, at any depth.
func clientStrings(req request) []string {
	var out []string
	add := func(s string) {
		if len(s) >= redactMin {
			out = append(out, s)
		}
	}
	add(req.method)
	add(req.sel.Key)
	add(req.sel.Contract)
	for _, raw := range req.params.positional {
		out = appendJSONStrings(out, raw)
	}
	for k, raw := range req.params.named {
		add(k)
		out = appendJSONStrings(out, raw)
	}
	for _, raw := range req.sel.Options {
		out = appendJSONStrings(out, raw)
	}
	// Longest first, so a string containing another is replaced whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// appendJSONStrings appends every string (object keys included) of the
// JSON value raw that is at least redactMin bytes long.
func appendJSONStrings(out []string, raw json.RawMessage) []string {
	if len(raw) < redactMin {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok && len(s) >= redactMin {
			out = append(out, s)
		}
	}
}

// shortForm is what stays of a redacted client string.
func shortForm(s string) string {
	n := 0
	for i := range s {
		if n == redactKeep {
			return s[:i] + "…"
		}
		n++
	}
	return s + "…"
}

// shorten caps a client string for a message or a log line.
func shorten(s string) string {
	if len(s) < redactMin {
		return s
	}
	return shortForm(s)
}

// redact removes the client's strings from msg (see redactMin).
func redact(msg string, client []string) string {
	if len(client) == 0 {
		return capMessage(msg)
	}
	for _, s := range client {
		short := shortForm(s)
		for _, form := range quotedForms(s) {
			if strings.Contains(msg, form) {
				msg = strings.ReplaceAll(msg, form, short)
			}
		}
	}
	msg = capMessage(msg)
	return redactPieces(msg, client)
}

// quotedForms are the ways a string appears inside a message: as is, as
// Go's %q writes it, as JSON writes it (without the quotes).
func quotedForms(s string) []string {
	forms := []string{s}
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		forms = append(forms, q[1:len(q)-1])
	}
	if j, err := Marshal(s); err == nil && string(j[1:len(j)-1]) != s {
		forms = append(forms, string(j[1:len(j)-1]))
	}
	return forms
}

// capMessage truncates msg to maxErrMessage bytes on a rune boundary.
func capMessage(msg string) string {
	if len(msg) <= maxErrMessage {
		return msg
	}
	cut := maxErrMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// redactPieces replaces every run of msg made of redactWindow-byte pieces
// of a client string (a handler that quoted part of one) by "…".
func redactPieces(msg string, client []string) string {
	if len(msg) < redactWindow {
		return msg
	}
	marked := make([]bool, len(msg))
	any := false
	for i := 0; i+redactWindow <= len(msg); i++ {
		w := msg[i : i+redactWindow]
		for _, s := range client {
			if strings.Contains(s, w) {
				for k := i; k < i+redactWindow; k++ {
					marked[k] = true
				}
				any = true
				break
			}
		}
	}
	if !any {
		return msg
	}
	var b strings.Builder
	for i := 0; i < len(msg); {
		if !marked[i] {
			b.WriteByte(msg[i])
			i++
			continue
		}
		for i < len(msg) && marked[i] {
			i++
		}
		b.WriteString("…")
	}
	return strings.ToValidUTF8(b.String(), "")
}
