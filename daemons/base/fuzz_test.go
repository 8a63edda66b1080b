package base

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzHandle feeds arbitrary bodies to the request decoder and dispatcher:
// whatever arrives, the reply is JSON, every reply object has an "id" key,
// and nothing panics. Its seed corpus runs in the normal test run.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"echo","params":["0.1",{"memo":"x","xpub":"k"}]}`,
		`{"id":1,"method":"echo","params":{"amount":"1","expiry":"x"}}`,
		`{"id":1,"method":"wallet_key","params":[{"xpub":{"xpub":"a","contract":"b","diskless":"no"}}]}`,
		`[{"id":1,"method":"help"},{"id":2,"method":"help","params":["echo"]},null]`,
		`{"id":null,"method":null,"params":null}`, `[]`, `[[]]`, `{}`, `null`, `""`, `1e999`,
		`{"id":1,"method":"boom"}`, `{"id":1,"method":"echo","params":[1,2,3,4,5,6]}`,
		"{\"id\":1,\"method\":\"echo\",\"params\":[\"\\ud800\"]}", `{"id":[1,{"a":2}],"method":"nothing"}`,
	} {
		f.Add([]byte(seed))
	}
	s, _ := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		out := s.Handle(context.Background(), body)
		var one map[string]json.RawMessage
		if err := json.Unmarshal(out, &one); err == nil {
			if _, ok := one["id"]; !ok {
				t.Fatalf("reply without id: %s", out)
			}
			return
		}
		var many []map[string]json.RawMessage
		if err := json.Unmarshal(out, &many); err != nil {
			t.Fatalf("reply is not JSON: %q", out)
		}
		for _, r := range many {
			if _, ok := r["id"]; !ok {
				t.Fatalf("batch reply without id: %s", out)
			}
		}
	})
}
