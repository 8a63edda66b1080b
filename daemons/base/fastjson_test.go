package base

import (
	"bytes"
	"reflect"
	"testing"
)

var fastSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"getbalance","params":[{"xpub":"vpub5ZAzT2yFb7B3KqJKN5G8qVJFRk9"}]}`,
	`{"jsonrpc":"2.0","id":"a b","method":"add_request","params":["0.001","bench",3600,false,true,{"xpub":"k"}]}`,
	` { "id" : 7 , "method" : "get_request" , "params" : [ "abc" , { "xpub" : "k" , "x" : [1, {"y": null}] } ] } `,
	`{"id":1,"method":"help"}`, `{"id":1,"method":"help","params":[]}`, `{"id":1,"method":"help","params":null}`,
	`{"id":1,"method":"m","params":[],"xpub":"top"}`, `{"id":1,"method":"m","params":[{}],"xpub":"top"}`,
	`{"id":1,"method":"m","params":[{"xpub":"a","xpub":"b"}]}`, `{"id":1,"method":"m","method":"n"}`,
	`{"id":1,"Method":"m"}`, `{"ID":1,"method":"m"}`, `{"id":1,"method":"m\u0041"}`, `{"id":1,"method":""}`,
	`{"id":1,"method":"m","params":[1,]}`, `{"id":1,"method":"m","params":[01]}`, `{"id":1,"method":"m"} x`,
	`{"id":1,"method":"m","params":[-0.5e+7,true,false,null,"\u00e9\n",[[]],{"a":{"b":[]}}]}`,
	`{"id":1,"method":"m","params":{"xpub":"k"}}`, `{"id":1,"method":"m","params":[{"xpub":null}]}`,
	`{"id":1,"method":"m","params":[{"xpub":{"xpub":"k","diskless":true}}]}`, `{"id":1,"method":"m","params":[{"xpub":"k\u00e9"}]}`,
	"{\"id\":1,\"method\":\"m\",\"params\":[\"\xff\"]}", `{"id":1,"method":"m","params":["\x"]}`, `{"id":1,"method":"m","params":[1e]}`,
	`{"id":1,"method":"m","params":[{"a":1,"b":2}]}`, `{"id":1,"method":null}`, `{"id":{"x":[1,2]},"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["a"],"extra":{"deep":[[[[1]]]]}}`, `{"id":1,"method":"m",}`, `{,}`, `{}`, `[]`, `"x"`,
}

// TestFastDecodeAgrees: whatever the fast path accepts, encoding/json
// decodes to the same request (and the fast path takes the common shape).
func TestFastDecodeAgrees(t *testing.T) {
	taken := 0
	for _, s := range fastSeeds {
		if checkFast(t, []byte(s)) {
			taken++
		}
	}
	for _, s := range fastSeeds[:3] {
		if _, ok := fastDecode([]byte(s)); !ok {
			t.Errorf("the fast path declined the common shape %s", s)
		}
	}
	if taken < 8 {
		t.Errorf("the fast path took only %d seeds", taken)
	}
}

// FuzzFastDecode checks TestFastDecodeAgrees' property on any body.
func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFast(t, body) })
}

// checkFast compares both decoders on body; it reports whether the fast
// one took it.
func checkFast(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ok := fastDecode(body)
	if !ok {
		return false
	}
	slow, err := slowDecode(body)
	if err != nil {
		t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", err, body)
	}
	same := bytes.Equal(fast.id, slow.id) && fast.method == slow.method && reflect.DeepEqual(fast.sel, slow.sel) &&
		len(fast.params.positional) == len(slow.params.positional) && reflect.DeepEqual(fast.params.order, slow.params.order) &&
		len(fast.params.named) == len(slow.params.named)
	for i := range fast.params.positional {
		same = same && i < len(slow.params.positional) && bytes.Equal(fast.params.positional[i], slow.params.positional[i])
	}
	for k, v := range fast.params.named {
		same = same && bytes.Equal(v, slow.params.named[k])
	}
	if !same {
		t.Fatalf("decoders differ on %q:\nfast %+v\nslow %+v", body, fast, slow)
	}
	return true
}
