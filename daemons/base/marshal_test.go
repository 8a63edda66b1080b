package base

import (
	"encoding/json"
	"testing"
)

// TestMarshalKeepsHTMLCharacters: strings, and raw JSON inside a value,
// keep "&", "<" and ">" (Python's json.dumps writes them so); everything
// else is encoding/json's.
func TestMarshalKeepsHTMLCharacters(t *testing.T) {
	got, err := Marshal(map[string]any{"uri": "bitcoin:x?amount=1&message=<b>", "raw": json.RawMessage(`{ "a" : "&" }`), "q": "\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"q":"\"\n","raw":{"a":"&"},"uri":"bitcoin:x?amount=1&message=<b>"}`; string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
