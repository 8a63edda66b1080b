package base

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walletd/walletd/spec"
)

var errDeep = errors.New("request not found here")

type echoArgs struct {
	Amount string `rpc:"amount,required"`
	Memo   string `rpc:"memo" default:"\"\""`
	Expiry int64  `rpc:"expiry" default:"3600"`
	Force  bool   `rpc:"force"`
}

func testMethods(t testing.TB) *Table {
	t.Helper()
	must := func(m Method, err error) Method {
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tbl, err := NewTable(
		must(NewMethod("echo", "echo(amount, memo, expiry, force): returns its arguments.",
			func(_ context.Context, c *Call, a echoArgs) (any, error) { return a, nil })),
		must(NewMethod("wallet_key", "wallet_key(): the selected wallet's key and options.",
			func(_ context.Context, c *Call, _ NoArgs) (any, error) {
				key := c.Wallet.Key
				if c.Wallet.Contract != "" {
					key += "_" + c.Wallet.Contract
				}
				return map[string]any{"key": key, "diskless": c.Wallet.Diskless, "options": c.Wallet.Options}, nil
			}, NeedsWallet(), Alias("walletkey"))),
		must(NewMethod("boom", "boom(): panics.", func(context.Context, *Call, NoArgs) (any, error) {
			panic("kaboom")
		})),
		must(NewMethod("fail_mapped", "fail_mapped(): a mapped deep error.", func(context.Context, *Call, NoArgs) (any, error) {
			return nil, errDeep
		})),
		must(NewMethod("fail_unknown", "fail_unknown(): an unmapped error.", func(context.Context, *Call, NoArgs) (any, error) {
			return nil, errors.New("disk on fire at /secret/path")
		})),
		must(NewMethod("nothing", "nothing(): returns null.", func(context.Context, *Call, NoArgs) (any, error) {
			return nil, nil
		})),
	)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func newTestServer(t testing.TB, mod func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	cat, err := spec.Load("btc", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Currency: "BTC", Login: "electrum", Password: "pa:ss", Catalog: cat,
		Methods: testMethods(t), Errors: ErrorTable{{Target: errDeep, Code: spec.RequestNotFound}},
		MaxBodyBytes: 4096, MaxBatch: 3}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		_ = s.Shutdown(context.Background())
		ts.Close()
	})
	return s, ts
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func do(t *testing.T, ts *httptest.Server, method, path, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain") // the SDK's content type
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// canon re-encodes JSON so that transcripts compare independently of key
// order and spacing.
func canon(t *testing.T, s string) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("reply is not JSON: %q: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestTranscripts replays golden request/reply pairs covering every rule
// of contract.md §1–4.
func TestTranscripts(t *testing.T) {
	_, ts := newTestServer(t, nil)
	good := basic("electrum", "pa:ss")
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		want                           string
	}{
		// §1 auth, on every route; the password may contain ':'.
		{"no auth rpc", "POST", "/", "", `{"id":1,"method":"help"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`},
		{"wrong password rpc", "POST", "/", basic("electrum", "pa"), `{"id":1,"method":"help"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`},
		{"wrong user spec", "GET", "/spec", basic("x", "pa:ss"), ``, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`},
		{"no auth ws", "GET", "/ws", "", ``, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`},
		{"garbage auth header", "POST", "/", "Basic !!!", `{"id":1,"method":"help"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`},
		{"unknown route", "GET", "/nope", good, ``, 404,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Not found: /nope"},"id":null}`},
		{"get on rpc", "GET", "/", good, ``, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"POST a JSON-RPC request to /"},"id":null}`},
		// §2 params forms.
		{"positional", "POST", "/", good, `{"jsonrpc":"2.0","id":7,"method":"echo","params":["0.1","m"]}`, 200,
			`{"jsonrpc":"2.0","result":{"Amount":"0.1","Memo":"m","Expiry":3600,"Force":false},"id":7}`},
		{"named", "POST", "/", good, `{"id":"a","method":"echo","params":{"amount":"1","force":true}}`, 200,
			`{"jsonrpc":"2.0","result":{"Amount":"1","Memo":"","Expiry":3600,"Force":true},"id":"a"}`},
		{"mixed", "POST", "/", good, `{"id":3,"method":"echo","params":["2",{"expiry":60,"xpub":null}]}`, 200,
			`{"jsonrpc":"2.0","result":{"Amount":"2","Memo":"","Expiry":60,"Force":false},"id":3}`},
		{"null is default", "POST", "/", good, `{"id":3,"method":"echo","params":["2",null,null]}`, 200,
			`{"jsonrpc":"2.0","result":{"Amount":"2","Memo":"","Expiry":3600,"Force":false},"id":3}`},
		{"unknown named", "POST", "/", good, `{"id":4,"method":"echo","params":{"amount":"1","bogus":1}}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"unexpected keyword argument \"bogus\""},"id":4}`},
		{"missing required", "POST", "/", good, `{"id":5,"method":"echo","params":[]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"missing required argument \"amount\""},"id":5}`},
		{"wrong type", "POST", "/", good, `{"id":6,"method":"echo","params":["1","m","soon"]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid value for argument \"expiry\": expected an integer, got JSON string"},"id":6}`},
		{"too many positional", "POST", "/", good, `{"id":8,"method":"echo","params":["1","m",1,true,5]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"too many positional arguments: got 5, takes at most 4"},"id":8}`},
		{"given twice", "POST", "/", good, `{"id":9,"method":"echo","params":["1",{"amount":"2"}]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"got multiple values for argument \"amount\""},"id":9}`},
		{"params scalar", "POST", "/", good, `{"id":10,"method":"echo","params":5}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"invalid params: must be an array or an object"},"id":10}`},
		// §2 the xpub selector.
		{"wallet required", "POST", "/", good, `{"id":11,"method":"wallet_key","params":[]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32000,"message":"Wallet not loaded"},"id":11}`},
		{"wallet empty string", "POST", "/", good, `{"id":11,"method":"wallet_key","params":{"xpub":""}}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32000,"message":"Wallet not loaded"},"id":11}`},
		{"wallet string", "POST", "/", good, `{"id":12,"method":"wallet_key","params":{"xpub":"tpubXYZ"}}`, 200,
			`{"jsonrpc":"2.0","result":{"key":"tpubXYZ","diskless":false,"options":null},"id":12}`},
		{"wallet object", "POST", "/", good,
			`{"id":13,"method":"walletkey","params":[{"xpub":{"xpub":"tpubXYZ","contract":"c1","diskless":true,"quiet_mode":false,"odd":1}}]}`, 200,
			`{"jsonrpc":"2.0","result":{"key":"tpubXYZ_c1","diskless":true,"options":{"diskless":true,"quiet_mode":false,"odd":1}},"id":13}`},
		{"wallet top-level (old clients)", "POST", "/", good, `{"id":14,"method":"wallet_key","xpub":"tpubOLD"}`, 200,
			`{"jsonrpc":"2.0","result":{"key":"tpubOLD","diskless":false,"options":null},"id":14}`},
		{"wallet bad type", "POST", "/", good, `{"id":15,"method":"wallet_key","params":{"xpub":5}}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32005,"message":"xpub must be a string or an object"},"id":15}`},
		// §2/§3 id echo, parse error, unknown method.
		{"id absent is null", "POST", "/", good, `{"method":"nothing"}`, 200,
			`{"jsonrpc":"2.0","result":null,"id":null}`},
		{"id object echoed", "POST", "/", good, `{"id":{"x":[1]},"method":"nothing"}`, 200,
			`{"jsonrpc":"2.0","result":null,"id":{"x":[1]}}`},
		{"parse error", "POST", "/", good, `{"id":1,"method":`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: unexpected end of JSON input"},"id":null}`},
		{"empty body", "POST", "/", good, ``, 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: unexpected end of JSON input"},"id":null}`},
		{"not an object", "POST", "/", good, `"help"`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Invalid request: not a JSON object"},"id":null}`},
		{"unknown method", "POST", "/", good, `{"id":2,"method":"nope"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Procedure not found: nope"},"id":2}`},
		{"missing method", "POST", "/", good, `{"id":2}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Procedure not found: no method given"},"id":2}`},
		{"method not string", "POST", "/", good, `{"id":2,"method":5}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Procedure not found: method must be a string"},"id":2}`},
		// §4 the error edge.
		{"mapped error", "POST", "/", good, `{"id":20,"method":"fail_mapped"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32003,"message":"request not found here"},"id":20}`},
		{"unknown error is generic", "POST", "/", good, `{"id":21,"method":"fail_unknown"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal error"},"id":21}`},
		{"panic recovered", "POST", "/", good, `{"id":22,"method":"boom"}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32603,"message":"internal error"},"id":22}`},
		// help.
		{"help list", "POST", "/", good, `{"id":30,"method":"help"}`, 200,
			`{"jsonrpc":"2.0","result":["boom","echo","fail_mapped","fail_unknown","help","nothing","wallet_key","walletkey"],"id":30}`},
		{"help unknown name", "POST", "/", good, `{"id":32,"method":"help","params":["zzz"]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Procedure not found: zzz"},"id":32}`},
		// batches (beyond): answered as an array, with a size limit.
		{"batch", "POST", "/", good, `[{"id":1,"method":"nothing"},{"id":2,"method":"nope"},7]`, 200,
			`[{"jsonrpc":"2.0","result":null,"id":1},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Procedure not found: nope"},"id":2},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Invalid request: not a JSON object"},"id":null}]`},
		{"batch too large", "POST", "/", good, `[1,2,3,4]`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid request: batch of 4 requests exceeds the limit of 3"},"id":null}`},
		{"batch empty", "POST", "/", good, `[]`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid request: empty batch"},"id":null}`},
		{"batch broken", "POST", "/", good, `[{"id":1,`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: unexpected end of JSON input"},"id":null}`},
		// body limit.
		{"body too large", "POST", "/", good, `{"id":1,"method":"echo","params":["` + strings.Repeat("x", 5000) + `"]}`, 200,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: request body exceeds 4096 bytes"},"id":null}`},
		// operational routes need no auth.
		{"healthz", "GET", "/healthz", "", ``, 200, `{"status":"ok"}`},
		{"readyz", "GET", "/readyz", "", ``, 200, `{"status":"ready"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, ts, tc.method, tc.path, tc.auth, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			if got, want := canon(t, body), canon(t, tc.want); got != want {
				t.Errorf("reply\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestHelpText(t *testing.T) {
	_, ts := newTestServer(t, nil)
	_, body := do(t, ts, "POST", "/", basic("electrum", "pa:ss"), `{"id":1,"method":"help","params":["walletkey"]}`)
	var r struct{ Result string }
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"wallet_key()", "Needs a wallet", "Aliases: walletkey"} {
		if !strings.Contains(r.Result, want) {
			t.Errorf("help text %q lacks %q", r.Result, want)
		}
	}
	_, body = do(t, ts, "POST", "/", basic("electrum", "pa:ss"), `{"id":1,"method":"help","params":{"name":"echo"}}`)
	if !strings.Contains(body, `echo(amount, memo=\"\", expiry=3600, force=null)`) {
		t.Errorf("echo signature missing: %s", body)
	}
}

func TestSpecRoute(t *testing.T) {
	_, ts := newTestServer(t, nil)
	status, body := do(t, ts, "GET", "/spec", basic("electrum", "pa:ss"), "")
	if status != 200 {
		t.Fatal(status)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 4 || top["exceptions"] == nil || top["electrum_map"] == nil ||
		top["version"] == nil || string(top["capabilities"]) != `{"lightning":false}` {
		t.Errorf("spec shape: %s", body)
	}
}

func TestReadyzNotReady(t *testing.T) {
	_, ts := newTestServer(t, func(c *Config) { c.Ready = func() error { return errors.New("backend connecting") } })
	status, body := do(t, ts, "GET", "/readyz", "", "")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "backend connecting") {
		t.Errorf("readyz: %d %s", status, body)
	}
}

// TestEveryEmittedCodeIsCataloged checks the base's own codes and a
// table's codes against the served catalog.
func TestEveryEmittedCodeIsCataloged(t *testing.T) {
	cat, _ := spec.Load("btc", false)
	for _, c := range EmittedCodes(ErrorTable{{Target: errDeep, Code: spec.RequestNotFound}}) {
		if spec.Cataloged(c) && !cat.Has(c) {
			t.Errorf("code %d emitted but not in catalog", c)
		}
	}
}

func TestMethodDeclarationErrors(t *testing.T) {
	type badOpt struct {
		A int `rpc:"a,sometimes"`
	}
	if _, err := NewMethod("x", "help", func(context.Context, *Call, badOpt) (any, error) { return nil, nil }); err == nil {
		t.Error("unknown tag option accepted")
	}
	type badDefault struct {
		A int `rpc:"a" default:"\"str\""`
	}
	if _, err := NewMethod("x", "help", func(context.Context, *Call, badDefault) (any, error) { return nil, nil }); err == nil {
		t.Error("default of the wrong type accepted")
	}
	if _, err := NewMethod("x", " ", func(context.Context, *Call, NoArgs) (any, error) { return nil, nil }); err == nil {
		t.Error("method without help accepted")
	}
	m, _ := NewMethod("x", "h", func(context.Context, *Call, NoArgs) (any, error) { return nil, nil })
	if _, err := NewTable(m, m); err == nil {
		t.Error("duplicate method accepted")
	}
}

func TestHandleDirect(t *testing.T) {
	s, _ := newTestServer(t, nil)
	out := s.Handle(context.Background(), []byte(`  {"id":1,"method":"nothing"}  `))
	if !bytes.Contains(out, []byte(`"result":null`)) {
		t.Errorf("got %s", out)
	}
}

// sharedArgs is a parameter group two methods embed.
type sharedArgs struct {
	Fee  string `rpc:"fee"`
	Flag bool   `rpc:"flag"`
}

type embeddingArgs struct {
	Dest string `rpc:"dest,required"`
	sharedArgs
	Last int `rpc:"last" default:"7"`
}

func TestEmbeddedParamGroups(t *testing.T) {
	m, err := NewMethod("emb", "emb(dest, fee, flag, last): test.", func(_ context.Context, _ *Call, a embeddingArgs) (any, error) {
		return a, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Signature(); got != "emb(dest, fee=null, flag=null, last=7)" {
		t.Fatalf("signature %s", got)
	}
	p, _ := splitParams([]byte(`["d","0.1",{"flag":true}]`))
	v, err := bind(m.argType, m.params, p)
	if err != nil {
		t.Fatal(err)
	}
	a := v.Interface().(embeddingArgs)
	if a.Dest != "d" || a.Fee != "0.1" || !a.Flag || a.Last != 7 {
		t.Fatalf("bound %+v", a)
	}
	type dup struct {
		Fee string `rpc:"fee"`
		sharedArgs
	}
	if _, err := NewMethod("dup", "h", func(context.Context, *Call, dup) (any, error) { return nil, nil }); err == nil {
		t.Fatal("a parameter declared twice was accepted")
	}
}
