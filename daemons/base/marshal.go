package base

import (
	"bytes"
	"encoding/json"
)

// Marshal encodes v as every reply, frame and document of the daemon is
// written: encoding/json without HTML escaping, so "&", "<" and ">" stay
// as they are (Python's json.dumps, which Bitcart's daemons use, writes
// them so; a URI's "&amount=" is then the same bytes on both). Raw JSON
// inside v (json.RawMessage, a Marshaler's output) is compacted without
// escaping too. No trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
