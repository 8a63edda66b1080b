package utxo

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/walletd/walletd/spec"
)

// TestConfig46 checks Electrum 4.6's keys and semantics: auto_connect (the
// SDK's test), setconfig returning null, Electrum's value normalisation,
// unset, listconfig and helpconfig.
func TestConfig46(t *testing.T) {
	c := newDaemon(t, "regtest")
	var v any
	c.result(&v, "getconfig", "auto_connect")
	if v != true {
		t.Fatalf("getconfig(auto_connect) = %v, want Electrum's default true", v)
	}
	for _, set := range []any{false, "False", "false"} {
		v = "unset"
		c.result(&v, "setconfig", "auto_connect", set)
		if v != nil {
			t.Fatalf("setconfig returned %v, want null", v)
		}
		c.result(&v, "getconfig", "auto_connect")
		if v != false {
			t.Fatalf("after setconfig(auto_connect, %#v): %v", set, v)
		}
		c.result(&v, "unsetconfig", "auto_connect")
		c.result(&v, "getconfig", "auto_connect")
		if v != true {
			t.Fatalf("after unsetconfig: %v", v)
		}
	}
	c.result(&v, "getconfig", "fee_policy.default")
	if v != "eta:2" {
		t.Fatalf("fee_policy.default = %v", v)
	}
	c.result(&v, "setconfig", "network_timeout", "30")
	c.result(&v, "getconfig", "network_timeout")
	if v != float64(30) {
		t.Fatalf("network_timeout = %v", v)
	}
	r := c.call("getconfig", "no_such_key")
	if r.Error == nil || r.Error.Code != int(spec.NoConfigKey) || !strings.Contains(r.Error.Message, "No ConfigVar with key") {
		t.Fatalf("unknown key: %+v", r.Error)
	}
	var names []string
	c.result(&names, "listconfig")
	if len(names) != len(electrumConfigVars) || !sort.StringsAreSorted(names) {
		t.Fatalf("listconfig: %d names, sorted %v", len(names), sort.StringsAreSorted(names))
	}
	var text string
	c.result(&text, "helpconfig", "auto_connect")
	if !strings.HasPrefix(text, "Select server automatically\n---\n\n") {
		t.Fatalf("helpconfig = %q", text)
	}
}

// TestConfigValuesRangeChecked: values are type- and range-checked exactly
// (no float64): a huge number no longer wraps to a negative fee rate
// (security review 10), floats never pass for integers, a fee policy must
// parse and stay under the caps.
func TestConfigValuesRangeChecked(t *testing.T) {
	c := newDaemon(t, "testnet")
	for _, tc := range []struct {
		key   string
		value any
	}{
		{"fee_per_kb", json.Number("1e300")},
		{"fee_per_kb", json.Number("1e20")},
		{"fee_per_kb", json.Number("92233720368547")},
		{"fee_per_kb", "-5"},
		{"fee_per_kb", 1.5},
		{"network_timeout", json.Number("1e20")},
		{"network_timeout", 2.5},
		{"network_timeout", json.Number("99999999999999999999")},
		{"auto_connect", "maybe"},
		{"server", 5},
		{"fee_policy.default", "feerate:100000000"},
		{"fee_policy.default", "fixed:100000000"},
		{"fee_policy.default", "mempool:1000000"},
		{"fee_policy.default", "eta:0"},
		{"fee_policy.default", "eta"},
		{"fee_policy.default", "eta:1.5"},
		{"fee_level", 7},
	} {
		r := c.call("setconfig", tc.key, tc.value)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) {
			t.Errorf("setconfig(%s, %v) = %s %+v, want -32602", tc.key, tc.value, r.Result, r.Error)
		}
	}
	var fr map[string]any
	c.result(&fr, "getfeerate")
	if fr["policy"] != "eta:2" {
		t.Fatalf("the policy changed after refused values: %v", fr)
	}
	// Electrum 4.4's keys rewrite the policy.
	var v any
	c.result(&v, "setconfig", "dynamic_fees", false)
	c.result(&v, "setconfig", "fee_per_kb", "2000")
	c.result(&fr, "getfeerate")
	if fr["policy"] != "feerate:2000" || fr["sat/kvB"] != float64(2000) {
		t.Fatalf("after dynamic_fees=false, fee_per_kb=2000: %v", fr)
	}
	c.result(&v, "getconfig", "fee_per_kb")
	if v != float64(2000) {
		t.Fatalf("getconfig(fee_per_kb) = %v", v)
	}
	c.result(&v, "setconfig", "dynamic_fees", true)
	c.result(&v, "setconfig", "fee_level", 4)
	c.result(&v, "getconfig", "fee_policy.default")
	if v != "eta:1" {
		t.Fatalf("fee_level 4 = %v, want eta:1", v)
	}
	c.result(&v, "setconfig", "fee_policy.default", "eta:3")
	c.result(&v, "getconfig", "fee_policy.default")
	if v != "eta:3" {
		t.Fatalf("eta:3 = %v", v)
	}
	if closestETAIndex(3) != 5 || closestETAIndex(7) != 4 || closestETAIndex(100) != 1 || closestETAIndex(1) != 6 {
		t.Fatal("closestETAIndex differs from Electrum's closest_index")
	}
	if code := c.errCode("setconfig", "lightning", true); code != int(spec.LightningUnsupp) {
		t.Fatalf("lightning=true: %d", code)
	}
}
