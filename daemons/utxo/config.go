package utxo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// cvKind is the type of a configuration variable, as Electrum's ConfigVar
// type_ checks it.
type cvKind int

const (
	cvAny cvKind = iota
	cvBool
	cvInt
	cvStr
	cvFloat
)

// configVar is one of Electrum 4.6's configuration variables.
type configVar struct {
	key       string
	def       string // JSON
	kind      cvKind
	shortDesc string
	longDesc  string
}

// Keys that steer walletd. The others are kept (in memory, as Bitcart's
// forget_config does) and returned, and change nothing else.
const (
	cfgFeePolicy     = "fee_policy.default"
	cfgConfirmedOnly = "confirmed_only"
)

// legacyKeys are Electrum 4.3/4.4 keys (Bitcart 0.8 and walletd 0.1) that
// walletd still accepts: the fee keys map onto fee_policy.default, use_rbf
// and use_change steer payto's defaults, lightning reads false.
var legacyKeys = map[string]cvKind{
	"fee_per_kb": cvInt, "dynamic_fees": cvBool, "fee_level": cvInt,
	"use_rbf": cvBool, "use_change": cvBool, "lightning": cvBool,
}

// legacyETATargets is Electrum 4.4's fee slider in ETA mode (fee_level
// 0..4).
var legacyETATargets = [...]int64{25, 10, 5, 2, 1}

// electrumConfig is the daemon's configuration as getconfig/setconfig see
// it: Electrum 4.6's variables with Bitcart's and walletd's defaults,
// changed in memory only (Bitcart runs Electrum with forget_config).
type electrumConfig struct {
	mu       sync.Mutex
	vars     map[string]*configVar
	vals     map[string]json.RawMessage // set values; absent = default
	legacy   map[string]json.RawMessage // legacy keys' own state
	defaults map[string]json.RawMessage // walletd's overrides of Electrum's defaults
	caps     feeCaps
}

// newElectrumConfig builds the configuration; defaults overrides
// Electrum's default of some keys (JSON values).
func newElectrumConfig(defaults map[string]string, caps feeCaps) *electrumConfig {
	c := &electrumConfig{vars: map[string]*configVar{}, vals: map[string]json.RawMessage{},
		legacy: map[string]json.RawMessage{}, defaults: map[string]json.RawMessage{}, caps: caps}
	for i := range electrumConfigVars {
		v := &electrumConfigVars[i]
		c.vars[v.key] = v
	}
	for k, v := range defaults {
		c.defaults[k] = json.RawMessage(v)
	}
	return c
}

// get returns a 4.6 key's value (its default when unset).
func (c *electrumConfig) get(key string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getLocked(key)
}

func (c *electrumConfig) getLocked(key string) (json.RawMessage, bool) {
	v, ok := c.vars[key]
	if !ok {
		return nil, false
	}
	if val, set := c.vals[key]; set {
		return val, true
	}
	if d, ok := c.defaults[key]; ok {
		return d, true
	}
	return json.RawMessage(v.def), true
}

func (c *electrumConfig) boolean(key string, def bool) bool {
	c.mu.Lock()
	v, ok := c.getLocked(key)
	if !ok {
		v, ok = c.legacy[key]
	}
	c.mu.Unlock()
	var b bool
	if !ok || json.Unmarshal(v, &b) != nil {
		return def
	}
	return b
}

// policy returns the fee policy in force (fee_policy.default).
func (c *electrumConfig) policy() feePolicy {
	v, _ := c.get(cfgFeePolicy)
	var s string
	_ = json.Unmarshal(v, &s)
	p, err := parseFeePolicy(s, c.caps)
	if err != nil {
		return defaultFeePolicy
	}
	return p
}

// legacyInt returns a legacy integer key's value.
func (c *electrumConfig) legacyInt(key string, def int64) int64 {
	c.mu.Lock()
	v, ok := c.legacy[key]
	c.mu.Unlock()
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// errNoConfigKey is -32014 for an unknown key; the key is shown shortened
// (a secret pasted into the wrong argument must not come back whole).
func errNoConfigKey(key string) error {
	return base.Errorf(spec.NoConfigKey, "No ConfigVar with key=%q", shorten(key))
}

// shorten cuts a client string quoted in an error to a short prefix.
func shorten(s string) string {
	const max = 24
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// normalizeConfigValue decodes a setconfig value as Electrum does: a string
// holding JSON is decoded ("5" → 5, "true" → true), Python's True, False
// and None are understood; null unsets the key.
func normalizeConfigValue(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	var str string
	if raw[0] != '"' || json.Unmarshal(raw, &str) != nil {
		return raw
	}
	switch t := strings.TrimSpace(str); {
	case t == "True":
		return json.RawMessage("true")
	case t == "False":
		return json.RawMessage("false")
	case t == "None":
		return json.RawMessage("null")
	case t != "" && json.Valid([]byte(t)):
		return json.RawMessage(t)
	}
	return raw
}

var (
	intLiteral   = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,18})$`)
	floatLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,9})?$`)
)

// checkKind range-checks a value for a variable of kind k; numbers are
// checked as text (never through float64) and must fit an int64.
func checkKind(key string, k cvKind, v json.RawMessage) (json.RawMessage, error) {
	bad := func(what string) error {
		return base.Errorf(spec.InvalidParams, "config key %q takes %s", key, what)
	}
	s := string(v)
	switch k {
	case cvBool:
		if s != "true" && s != "false" {
			return nil, bad("true or false")
		}
	case cvInt:
		if !intLiteral.MatchString(s) {
			return nil, bad("an integer")
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, bad("an integer that fits 64 bits")
		}
	case cvFloat:
		if !floatLiteral.MatchString(s) && !intLiteral.MatchString(s) {
			return nil, bad("a decimal number")
		}
	case cvStr:
		if len(s) == 0 || s[0] != '"' {
			return nil, bad("a string")
		}
	}
	var out bytes.Buffer
	if err := json.Compact(&out, v); err != nil {
		return nil, bad("a JSON value")
	}
	return out.Bytes(), nil
}

// set sets (or, with null, resets) a key after checking its value.
func (c *electrumConfig) set(key string, raw json.RawMessage) error {
	v := normalizeConfigValue(raw)
	if kind, ok := legacyKeys[key]; ok {
		return c.setLegacy(key, kind, v)
	}
	cv, ok := c.vars[key]
	if !ok {
		return errNoConfigKey(key)
	}
	if string(v) == "null" {
		c.mu.Lock()
		delete(c.vals, key)
		c.mu.Unlock()
		return nil
	}
	v, err := checkKind(key, cv.kind, v)
	if err != nil {
		return err
	}
	if key == cfgFeePolicy {
		var s string
		_ = json.Unmarshal(v, &s)
		p, err := parseFeePolicy(s, c.caps)
		if err != nil {
			return err
		}
		v, _ = base.Marshal(p.String())
	}
	c.mu.Lock()
	c.vals[key] = v
	c.mu.Unlock()
	return nil
}

// setLegacy applies a 4.4 key: fee_per_kb, dynamic_fees and fee_level
// rewrite fee_policy.default as Electrum 4.4 would have chosen the rate.
func (c *electrumConfig) setLegacy(key string, kind cvKind, v json.RawMessage) error {
	if string(v) == "null" {
		c.mu.Lock()
		delete(c.legacy, key)
		c.mu.Unlock()
		return nil
	}
	v, err := checkKind(key, kind, v)
	if err != nil {
		return err
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	switch key {
	case "lightning":
		if string(v) == "true" {
			return base.Errorf(spec.LightningUnsupp, "Lightning not supported in this wallet type")
		}
		return nil
	case "fee_per_kb":
		if n <= 0 || n > c.caps.maxRate {
			return base.Errorf(spec.InvalidParams, "fee_per_kb must be between 1 and %d sat/kvB (the fee-rate cap)", c.caps.maxRate)
		}
	case "fee_level":
		if n < 0 || n >= int64(len(legacyETATargets)) {
			return base.Errorf(spec.InvalidParams, "fee_level must be between 0 and %d", len(legacyETATargets)-1)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.legacy[key] = v
	if key != "fee_per_kb" && key != "dynamic_fees" && key != "fee_level" {
		return nil
	}
	// The policy the 4.4 keys describe together.
	dynamic := true
	if d, ok := c.legacy["dynamic_fees"]; ok {
		dynamic = string(d) == "true"
	}
	p := defaultFeePolicy
	switch {
	case !dynamic:
		p = feePolicy{method: feeFeerate, value: feeRateFallbackStatic}
		if r, ok := c.legacy["fee_per_kb"]; ok {
			p.value, _ = strconv.ParseInt(string(r), 10, 64)
		}
	case c.legacy["fee_level"] != nil:
		lvl, _ := strconv.ParseInt(string(c.legacy["fee_level"]), 10, 64)
		p = feePolicy{method: feeETA, value: legacyETATargets[lvl]}
	}
	c.vals[cfgFeePolicy], _ = base.Marshal(p.String())
	return nil
}

// getLegacy reads a 4.4 key from the state it maps to.
func (c *electrumConfig) getLegacy(key string) any {
	p := c.policy()
	switch key {
	case "lightning":
		return false
	case "dynamic_fees":
		return p.method == feeETA || p.method == feeMempool
	case "fee_per_kb":
		if p.method == feeFeerate {
			return p.value
		}
		return c.legacyInt("fee_per_kb", feeRateFallbackStatic)
	case "fee_level":
		if p.method == feeETA {
			for i, t := range legacyETATargets {
				if t == p.value {
					return i
				}
			}
		}
		return c.legacyInt("fee_level", 2)
	default: // use_rbf, use_change
		return c.boolean(key, true)
	}
}

// configString returns a string configuration value ("" when unset).
func (d *Daemon) configString(key string) string {
	v, _ := d.conf.get(key)
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// keys lists the 4.6 keys, sorted (listconfig).
func (c *electrumConfig) keys() []string {
	out := make([]string, 0, len(c.vars))
	for k := range c.vars {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type configKeyArgs struct {
	Key string `rpc:"key,required"`
}

type setConfigArgs struct {
	Key   string          `rpc:"key,required"`
	Value json.RawMessage `rpc:"value"`
}

// configMethods declares getconfig, setconfig, unsetconfig, listconfig and
// helpconfig.
func (s *sendSide) configMethods(b *base.Builder) {
	b.Add(base.NewMethod("getconfig", "getconfig(key): the value of an Electrum 4.6 configuration variable (listconfig lists them); fee_policy.default and confirmed_only steer payto, the others are kept and returned. Electrum 4.4 fee keys (fee_per_kb, dynamic_fees, fee_level) read through to fee_policy.default.", s.getconfig))
	b.Add(base.NewMethod("setconfig", "setconfig(key, value): sets a configuration variable in memory (until restart, as Bitcart's forget_config); null resets it. Values are type- and range-checked; returns null.", s.setconfig))
	b.Add(base.NewMethod("unsetconfig", "unsetconfig(key): resets a configuration variable to its default.", s.unsetconfig))
	b.Add(base.NewMethod("listconfig", "listconfig(): the names of every configuration variable, sorted.", s.listconfig))
	b.Add(base.NewMethod("helpconfig", "helpconfig(key): what a configuration variable means.", s.helpconfig))
}

func (s *sendSide) getconfig(_ context.Context, _ *base.Call, a configKeyArgs) (any, error) {
	if _, ok := legacyKeys[a.Key]; ok {
		return s.conf.getLegacy(a.Key), nil
	}
	v, ok := s.conf.get(a.Key)
	if !ok {
		return nil, errNoConfigKey(a.Key)
	}
	return v, nil
}

func (s *sendSide) setconfig(_ context.Context, _ *base.Call, a setConfigArgs) (any, error) {
	return nil, s.conf.set(a.Key, a.Value)
}

func (s *sendSide) unsetconfig(_ context.Context, _ *base.Call, a configKeyArgs) (any, error) {
	return nil, s.conf.set(a.Key, nil)
}

func (s *sendSide) listconfig(context.Context, *base.Call, base.NoArgs) (any, error) {
	return s.conf.keys(), nil
}

func (s *sendSide) helpconfig(_ context.Context, _ *base.Call, a configKeyArgs) (any, error) {
	v, ok := s.conf.vars[a.Key]
	if !ok {
		if _, legacy := legacyKeys[a.Key]; legacy {
			return fmt.Sprintf("'%s' is an Electrum 4.4 key that walletd still accepts; see fee_policy.default.", a.Key), nil
		}
		return nil, errNoConfigKey(a.Key)
	}
	desc := v.shortDesc
	if a.Key == cfgFeePolicy {
		desc = "Fee policy of payto and get_default_fee: eta:<blocks> (the node's estimate, Electrum's default eta:2), feerate:<sat/kvB> or fixed:<sat>"
	}
	switch {
	case desc != "" && v.longDesc != "":
		return desc + "\n---\n\n" + v.longDesc, nil
	case desc != "" || v.longDesc != "":
		return desc + v.longDesc, nil
	}
	return fmt.Sprintf("No description available for '%s'", a.Key), nil
}
