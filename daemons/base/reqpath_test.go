package base

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// bindTarget has a field of every kind bindFast sets, and kinds it must
// leave to encoding/json.
type bindTarget struct {
	S   string        `rpc:"s"`
	N   namedString   `rpc:"n"`
	B   bool          `rpc:"b"`
	I   int           `rpc:"i"`
	I8  int8          `rpc:"i8"`
	I64 int64         `rpc:"i64"`
	Num json.Number   `rpc:"num"`
	U   upperString   `rpc:"u"`
	P   *string       `rpc:"p"`
	F   float64       `rpc:"f"`
	D   time.Duration `rpc:"d"` // an int64 to encoding/json
}

type namedString string

// upperString has its own decoding: bindFast must not bypass it.
type upperString string

func (u *upperString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*u = upperString(strings.ToUpper(s))
	return nil
}

// bindValues are raw JSON values of every shape a client sends.
var bindValues = []string{`"abc"`, `""`, `"a b~"`, `"a\"b"`, `"a\\b"`, `"\u00e9"`, "\"é\"", "\"\xff\"", `"a\nb"`,
	`"0.001"`, `"3600"`, `true`, `false`, `0`, `-0`, `1`, `-1`, `3600`, `127`, `128`, `-128`, `-129`, `01`, `1.0`,
	`1e3`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `-`, `--1`, `+1`, `null`,
	`[]`, `{}`, `"true"`, `tru`, `1 `}

// TestBindFastAgreesWithEncodingJSON: every argument bindFast binds is bound
// to what encoding/json would bind, and whatever it declines still binds
// (or fails) through encoding/json as before.
func TestBindFastAgreesWithEncodingJSON(t *testing.T) {
	params, err := paramsOf(reflect.TypeFor[bindTarget]())
	if err != nil {
		t.Fatal(err)
	}
	took := map[string]int{}
	for _, prm := range params {
		for _, raw := range bindValues {
			if checkBindFast(t, prm, raw) {
				took[prm.name]++
			}
		}
	}
	for _, name := range []string{"s", "n", "b", "i", "i8", "i64", "d"} {
		if took[name] == 0 {
			t.Errorf("the fast path bound no value of %s", name)
		}
	}
	for _, name := range []string{"num", "u", "p", "f"} {
		if took[name] != 0 {
			t.Errorf("the fast path bound %d values of %s, a kind it must leave to encoding/json", took[name], name)
		}
	}
}

// FuzzBindFast checks TestBindFastAgreesWithEncodingJSON's property on any
// raw value.
func FuzzBindFast(f *testing.F) {
	for _, raw := range bindValues {
		f.Add(raw)
	}
	params, err := paramsOf(reflect.TypeFor[bindTarget]())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, prm := range params {
			checkBindFast(t, prm, raw)
		}
	})
}

// checkBindFast binds raw to prm's field both ways; it reports whether the
// fast path took it.
func checkBindFast(t *testing.T, prm param, raw string) bool {
	t.Helper()
	fast := reflect.New(reflect.TypeFor[bindTarget]()).Elem()
	f := fast.FieldByIndex(prm.field)
	if prm.fast == reflect.Invalid || !bindFast(f, prm.fast, []byte(raw)) {
		if !reflect.DeepEqual(fast.Interface(), bindTarget{}) {
			t.Fatalf("%s = %s: declined but set the field", prm.name, raw)
		}
		return false
	}
	slow := reflect.New(reflect.TypeFor[bindTarget]()).Elem()
	if err := json.Unmarshal([]byte(raw), slow.FieldByIndex(prm.field).Addr().Interface()); err != nil {
		t.Fatalf("%s = %s: bound %v where encoding/json fails: %v", prm.name, raw, f.Interface(), err)
	}
	if !reflect.DeepEqual(fast.Interface(), slow.Interface()) {
		t.Fatalf("%s = %s: fast %+v, encoding/json %+v", prm.name, raw, fast.Interface(), slow.Interface())
	}
	return true
}

// TestAuthorizationForms: the canonical header is accepted through its
// hash; every other form is judged as before (decoded and compared): the
// scheme in any case, a second header, credentials too long for the fast
// path, and refusals of wrong ones.
func TestAuthorizationForms(t *testing.T) {
	long := strings.Repeat("p", 300)
	for _, c := range []struct {
		password string
		headers  []string
		ok       bool
	}{
		{"pa:ss", []string{basic("electrum", "pa:ss")}, true},
		{"pa:ss", []string{"basic " + basic("electrum", "pa:ss")[len("Basic "):]}, true},
		{"pa:ss", []string{"BASIC " + basic("electrum", "pa:ss")[len("Basic "):]}, true},
		{"pa:ss", []string{basic("electrum", "pa:ss"), basic("x", "y")}, true},
		{"pa:ss", []string{basic("x", "y"), basic("electrum", "pa:ss")}, false},
		{"pa:ss", []string{basic("electrum", "pa:s")}, false},
		{"pa:ss", []string{basic("electrum", "pa:ss ")}, false},
		{"pa:ss", []string{basic("electrum", "pa:ss") + " "}, false},
		{"pa:ss", []string{basic("electrum", "pa:ss") + "="}, false},
		{"pa:ss", []string{"Bearer " + basic("electrum", "pa:ss")[len("Basic "):]}, false},
		{"pa:ss", nil, false},
		{long, []string{basic("electrum", long)}, true},
		{long, []string{basic("electrum", long[1:])}, false},
	} {
		s, _ := newTestServer(t, func(cfg *Config) { cfg.Password = c.password })
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.Header["Authorization"] = c.headers
		if got := s.authorized(r); got != c.ok {
			t.Errorf("password %.10q, headers %q: authorized %v, want %v", c.password, c.headers, got, c.ok)
		}
	}
}

// TestLazyDeadline: the request context made on demand behaves as
// context.WithDeadline: nil Err before the deadline, DeadlineExceeded with
// Done closed after it, Canceled when the parent ends first, the earlier
// deadline, values of the parent.
func TestLazyDeadline(t *testing.T) {
	type key struct{}
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	defer cancelParent()
	ctx, stop := withLazyDeadline(parent, time.Now().Add(time.Hour))
	if ctx.Err() != nil || ctx.made.Load() {
		t.Fatalf("Err %v, made %v before anything waited", ctx.Err(), ctx.made.Load())
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Fatalf("Deadline %v %v", d, ok)
	}
	if ctx.Value(key{}) != "v" {
		t.Fatal("parent's value lost")
	}
	select {
	case <-ctx.Done():
		t.Fatal("done an hour early")
	default:
	}
	if !ctx.made.Load() {
		t.Fatal("Done did not make the context")
	}
	cancelParent()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after the parent ended: %v", ctx.Err())
	}
	stop()

	// Past the deadline, Err alone reports it, and Done agrees.
	ctx, stop = withLazyDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for ctx.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("Err still nil 10 s after a 20 ms deadline")
		}
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Fatalf("Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Err reports the deadline but Done is open")
	}

	// A parent that ends first wins, unmade too; its deadline if earlier.
	early, cancelEarly := context.WithTimeout(context.Background(), time.Minute)
	ctx, stop = withLazyDeadline(early, time.Now().Add(time.Hour))
	defer stop()
	if d, _ := ctx.Deadline(); time.Until(d) > 2*time.Minute {
		t.Fatalf("Deadline %v, not the parent's earlier one", d)
	}
	cancelEarly()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after the parent was cancelled: %v", ctx.Err())
	}
}

// TestIsIPLiteral: the Host check's IP test accepts what net.ParseIP
// accepts, nothing more.
func TestIsIPLiteral(t *testing.T) {
	for _, h := range []string{"127.0.0.1", "::1", "fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3", "01.2.3.4", "1.2.3.4.",
		"", "localhost", "2001:db8::", "[::1]", "1.2.3.256", "0x7f.1", "::", "1::2::3"} {
		if got, want := isIPLiteral(h), net.ParseIP(h) != nil; got != want {
			t.Errorf("isIPLiteral(%q) = %v, net.ParseIP says %v", h, got, want)
		}
	}
}

// TestPooledBuffersKeepRequestsApart: request bodies and replies live in
// buffers the server reuses; many clients at once, with bodies of every
// way in (small with a length, larger than the pool's buffers, chunked,
// batches), each get the reply to their own request, byte for byte.
func TestPooledBuffersKeepRequestsApart(t *testing.T) {
	// The method yields before it answers, so that other requests run
	// while its body is still in use (the reply echoes its id from it).
	slowEcho, err := NewMethod("echo", "echo(amount, memo, expiry, force): returns its arguments, later.",
		func(_ context.Context, c *Call, a echoArgs) (any, error) {
			time.Sleep(100 * time.Microsecond)
			return a, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	table, err := NewTable(slowEcho)
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 1 << 20; c.MaxBatch = 10; c.Methods = table })
	auth := basic("electrum", "pa:ss")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for i := range 150 {
				memo := strings.Repeat(string(rune('a'+g)), 1+(i*37)%6000) // some past the 4 KiB pool
				id := g*1000 + i
				body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"echo","params":["%d.%d",%q,%d,true]}`, id, g, i, memo, i)
				want := fmt.Sprintf(`{"jsonrpc":"2.0","result":{"Amount":"%d.%d","Memo":%q,"Expiry":%d,"Force":true},"id":%d}`,
					g, i, memo, i, id)
				var rd io.Reader = strings.NewReader(body)
				switch i % 3 {
				case 1:
					rd = io.MultiReader(rd) // no length: chunked
				case 2:
					body = "[" + body + "," + body + "]"
					want = "[" + want + "," + want + "]"
					rd = strings.NewReader(body)
				}
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", rd)
				req.Header.Set("Authorization", auth)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != want {
					errs <- fmt.Errorf("request %d: got %.200s…, want %.200s… (%v)", id, got, want, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
