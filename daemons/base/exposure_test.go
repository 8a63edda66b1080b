package base

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/walletd/walletd/spec"
)

const (
	testSeed = "clerk antique bless hedgehog cruise bracket raven gasp symptom gloom lens sad"
	testXprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
)

type quoteArgs struct {
	Amount string `rpc:"amount"`
	Key    string `rpc:"key"`
}

// quotingMethods has methods whose errors quote their argument whole, in
// part, or inside a mapped deep error.
func quotingMethods(t testing.TB) *Table {
	t.Helper()
	var b Builder
	b.Add(NewMethod("quote", "quote(amount, key): fails quoting amount.", func(_ context.Context, _ *Call, a quoteArgs) (any, error) {
		return nil, Errorf(spec.InvalidParams, "invalid amount %q", a.Amount)
	}))
	b.Add(NewMethod("quote_part", "quote_part(amount, key): fails quoting the start of amount.", func(_ context.Context, _ *Call, a quoteArgs) (any, error) {
		return nil, Errorf(spec.InvalidParams, "invalid amount starting %.30s", a.Amount)
	}))
	b.Add(NewMethod("quote_deep", "quote_deep(amount, key): a mapped deep error quoting key.", func(_ context.Context, _ *Call, a quoteArgs) (any, error) {
		return nil, fmt.Errorf("%w: key %s", errDeep, a.Key)
	}))
	b.Add(NewMethod("quote_internal", "quote_internal(amount, key): an unmapped error quoting the wallet.", func(_ context.Context, c *Call, a quoteArgs) (any, error) {
		return nil, errors.New("broken wallet " + c.Wallet.Key + " and " + a.Amount)
	}))
	tbl, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestSecretsNotEchoed: a seed or an xprv put in any argument, as a named
// argument's key, as the method name or as the wallet, never comes back in
// an error and never reaches the log at debug level; only a short prefix
// of it may.
func TestSecretsNotEchoed(t *testing.T) {
	log, logs := debugLogger()
	s, _ := newTestServer(t, func(c *Config) { c.Methods = quotingMethods(t); c.Log = log })
	for _, secret := range []string{testSeed, testXprv} {
		q := fmt.Sprintf("%q", secret)
		bodies := []string{
			`{"id":1,"method":"quote","params":[` + q + `]}`,
			`{"id":1,"method":"quote","params":{"amount":` + q + `}}`,
			`{"id":1,"method":"quote_part","params":[` + q + `]}`,
			`{"id":1,"method":"quote_deep","params":[null,` + q + `]}`,
			`{"id":1,"method":"quote_internal","params":[` + q + `,{"xpub":` + q + `}]}`,
			`{"id":1,"method":"quote","params":{` + q + `:1}}`,
			`{"id":1,"method":` + q + `}`,
			`{"id":1,"method":"help","params":[` + q + `]}`,
			`{"id":1,"method":"quote","params":[{"nested":[` + q + `]}]}`,
			`[{"id":1,"method":"quote","params":[` + q + `]},{"id":2,"method":` + q + `}]`,
		}
		for _, body := range bodies {
			out := string(s.Handle(context.Background(), []byte(body)))
			if !strings.Contains(out, `"error"`) {
				t.Fatalf("%s: no error: %s", body, out)
			}
			if strings.Contains(out, secret) || strings.Contains(out, secret[:20]) {
				t.Errorf("reply echoes the secret: %s", out)
			}
		}
	}
	l := logs.String()
	if !strings.Contains(l, "request failed") || !strings.Contains(l, "internal error") {
		t.Fatalf("nothing logged at debug level: the check proves nothing:\n%s", l)
	}
	for _, secret := range []string{testSeed, testXprv} {
		if strings.Contains(l, secret[:20]) {
			t.Errorf("the log holds the secret:\n%s", l)
		}
	}
	if !strings.Contains(l, "method=(unknown)") {
		t.Errorf("an unknown method name is logged as sent:\n%s", l)
	}
}

// TestShortValuesStillQuoted: what is too short to be a secret stays in
// messages, so that errors keep naming the bad value.
func TestShortValuesStillQuoted(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.Methods = quotingMethods(t) })
	out := string(s.Handle(context.Background(), []byte(`{"id":1,"method":"quote","params":["12abc"]}`)))
	if !strings.Contains(out, `invalid amount \"12abc\"`) {
		t.Errorf("reply %s", out)
	}
	out = string(s.Handle(context.Background(), []byte(`{"id":1,"method":"quote","params":["`+testXprv+`"]}`)))
	if !strings.Contains(out, `invalid amount \"xprv…\"`) {
		t.Errorf("the short prefix is missing: %s", out)
	}
}

// BenchmarkRedactLargeParam measures the error path with a 1 MB argument
// (the redaction scans it).
func BenchmarkRedactLargeParam(b *testing.B) {
	s, _ := newTestServer(b, func(c *Config) { c.Methods = quotingMethods(b); c.MaxBodyBytes = 2 << 20 })
	body := []byte(`{"id":1,"method":"quote_part","params":["` + strings.Repeat("z", 1<<20) + `"]}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Handle(context.Background(), body)
	}
}
