package utxo

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/spec"
)

// estimatesOnly is a backend stand-in for unit tests of the fee methods: it
// answers EstimateFee from a table (sat/kvB per target) and nothing else.
// The real node is exercised by the integration tests.
type estimatesOnly struct {
	mu    sync.Mutex
	rates map[int]int64
	asked []int
	// history, when set, is every address's history.
	history []chain.TxInfo
}

func (b *estimatesOnly) set(target int, rate int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rates == nil {
		b.rates = map[int]int64{}
	}
	b.rates[target] = rate
}

func (b *estimatesOnly) EstimateFee(_ context.Context, target int) (int64, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, target)
	r, ok := b.rates[target]
	return r, ok, nil
}

func (b *estimatesOnly) Start(context.Context) (<-chan chain.Event, error) {
	return nil, chain.ErrUnsupported
}
func (b *estimatesOnly) Close() error    { return nil }
func (b *estimatesOnly) Connected() bool { return true }
func (b *estimatesOnly) Watch(context.Context, [][]byte, []wire.OutPoint) error {
	return chain.ErrUnsupported
}
func (b *estimatesOnly) Tip(context.Context) (chain.BlockRef, error) {
	return chain.BlockRef{}, chain.ErrUnsupported
}
func (b *estimatesOnly) BlockAt(context.Context, int32) (chain.BlockRef, error) {
	return chain.BlockRef{}, chain.ErrUnsupported
}
func (b *estimatesOnly) FilterBlocks(context.Context, []chainhash.Hash) ([]chain.Block, error) {
	return nil, chain.ErrUnsupported
}
func (b *estimatesOnly) History(context.Context, [][]byte) ([]chain.TxInfo, error) {
	if b.history == nil {
		return nil, chain.ErrUnsupported
	}
	return b.history, nil
}
func (b *estimatesOnly) Transaction(context.Context, chainhash.Hash) (*chain.TxInfo, error) {
	return nil, chain.ErrNotFound
}
func (b *estimatesOnly) Broadcast(context.Context, *wire.MsgTx) (chainhash.Hash, error) {
	return chainhash.Hash{}, chain.ErrUnsupported
}

// TestFeePolicyEta2 checks Electrum 4.6's default policy: the 2-block
// estimate for payto and get_default_fee, recommended_fee(1) = 1.5 × the
// 2-block rate, the getfeerate object.
func TestFeePolicyEta2(t *testing.T) {
	b := &estimatesOnly{}
	b.set(2, 20_345)
	b.set(5, 9_000)
	b.set(25, 400) // below the relay floor: clamped to 1000
	b.set(144, 5_000_000)
	c := newDaemonWith(t, "testnet", b)
	var fee string
	c.result(&fee, "get_default_fee", 141)
	// 20345 sat/kvB → 20.3 sat/vB (quantized) × 141 = 2862.3 → 2862.
	if fee != "0.00002862" {
		t.Fatalf("get_default_fee(141) = %q, want the 2-block rate's 0.00002862", fee)
	}
	var rate any
	for target, want := range map[int]any{1: float64(30_517), 2: float64(20_345), 5: float64(9_000), 25: float64(1_000),
		144: float64(1_500_000), 10: nil} {
		c.result(&rate, "recommended_fee", target)
		if rate != want {
			t.Errorf("recommended_fee(%d) = %v, want %v", target, rate, want)
		}
	}
	var fr map[string]any
	c.result(&fr, "getfeerate")
	if fr["policy"] != "eta:2" || fr["description"] != "Within 2 blocks" || fr["sat/kvB"] != float64(20_345) || fr["tooltip"] != "20.3 sat/vbyte" {
		t.Fatalf("getfeerate = %v", fr)
	}
	// Electrum 4.4's arguments pick another policy for the answer.
	c.result(&fr, "getfeerate", "eta", 0.5)
	if fr["policy"] != "eta:5" || fr["sat/kvB"] != float64(9_000) {
		t.Fatalf("getfeerate(eta, 0.5) = %v", fr)
	}
	c.result(&fr, "getfeerate", "static")
	if fr["policy"] != "feerate:150000" || fr["sat/kvB"] != float64(150_000) || fr["description"] != "150. sat/vbyte" {
		t.Fatalf("getfeerate(static) = %v", fr)
	}
	// Another policy through the 4.6 key.
	var null any = "unset"
	c.result(&null, "setconfig", "fee_policy.default", "eta:1")
	if null != nil {
		t.Fatalf("setconfig returned %v, want null", null)
	}
	c.result(&fee, "get_default_fee", 1000)
	if fee != "0.00030500" { // 30517 → 30.5 sat/vB × 1000
		t.Fatalf("get_default_fee at eta:1 = %q", fee)
	}
	c.result(&null, "setconfig", "fee_policy.default", "fixed:1234")
	c.result(&fee, "get_default_fee", 1000)
	if fee != "0.00001234" {
		t.Fatalf("get_default_fee at fixed:1234 = %q", fee)
	}
}

// TestNoEstimateIsAnError: on testnet (and mainnet) a missing estimate is
// NoFeeEstimatesError, never a constant; regtest and simnet use Electrum's
// regtest rate.
func TestNoEstimateIsAnError(t *testing.T) {
	for _, network := range []string{"mainnet", "testnet", "signet"} {
		c := newDaemonWith(t, network, &estimatesOnly{})
		r := c.call("get_default_fee", 141)
		if r.Error == nil || r.Error.Code != int(spec.NoFeeEstimates) || !strings.Contains(r.Error.Message, "Dynamic fee estimates not available") {
			t.Fatalf("%s: get_default_fee without an estimate = %s %+v", network, r.Result, r.Error)
		}
		var rate any = "x"
		c.result(&rate, "recommended_fee", 2)
		if rate != nil {
			t.Fatalf("%s: recommended_fee without an estimate = %v", network, rate)
		}
		var fr map[string]any
		c.result(&fr, "getfeerate")
		if v, ok := fr["sat/kvB"]; !ok || v != nil {
			t.Fatalf("%s: getfeerate without an estimate = %v", network, fr)
		}
	}
	for _, network := range []string{"regtest", "simnet"} {
		c := newDaemonWith(t, network, &estimatesOnly{})
		var fee string
		c.result(&fee, "get_default_fee", 141)
		if fee != "0.00021150" {
			t.Fatalf("%s: get_default_fee = %q, want Electrum's regtest 150 sat/vB", network, fee)
		}
		var rate int64
		c.result(&rate, "recommended_fee", 1)
		if rate != 150_000 {
			t.Fatalf("%s: recommended_fee(1) = %d", network, rate)
		}
	}
	cat, _ := spec.Load("btc", false)
	if !cat.Has(spec.NoFeeEstimates) {
		t.Fatal("NoFeeEstimates is not in the served catalog")
	}
}

// TestDefaultFeeBounds: sizes are bounded, the product never overflows.
func TestDefaultFeeBounds(t *testing.T) {
	c := newDaemonWith(t, "regtest", &estimatesOnly{})
	for _, size := range []any{json.Number("9223372036854775807"), "9223372036854775807", json.Number("1000001"), -1,
		json.Number("1e6"), "1.5"} {
		r := c.call("get_default_fee", size)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) {
			t.Errorf("get_default_fee(%v) = %s %+v, want -32602", size, r.Result, r.Error)
		}
	}
	var fee string
	c.result(&fee, "get_default_fee", 1_000_000)
	if fee != "1.50000000" {
		t.Fatalf("get_default_fee(1000000) = %q", fee)
	}
	if f, err := feeForFeerate(1<<62, 1_000_000); err == nil {
		t.Fatalf("feeForFeerate overflow not caught: %d", f)
	}
	for _, tc := range []struct{ rate, size, want int64 }{
		{150_000, 141, 21_150}, {20_345, 141, 2_862}, {1_050, 10, 10}, {1_150, 5, 6}, {1_350, 5, 6}, {1_450, 5, 7},
	} {
		// The rate is quantized to 0.1 sat/vB halves down (1_050 → 1.0,
		// 1_350 → 1.3), the fee rounded halves to even (5.5 → 6, 6.5 → 6,
		// 7.0 → 7).
		if got, err := feeForFeerate(tc.rate, tc.size); err != nil || got != tc.want {
			t.Errorf("feeForFeerate(%d, %d) = %d, %v; want %d", tc.rate, tc.size, got, err, tc.want)
		}
	}
}

// TestAddressHistoryBounded: an address with more transactions than
// <COIN>_MAX_ADDRESS_HISTORY gets a clear error from the three address
// lookups instead of an unbounded reply.
func TestAddressHistoryBounded(t *testing.T) {
	const addr = "bcrt1qttft7vh7w3er2akkpr4lu78z2ptdhgfxf739xf"
	regtest, _ := params.BTC("regtest")
	script, _ := regtest.PkScript(addr)
	b := &estimatesOnly{}
	for i := 0; i < 5; i++ {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(i + 1)}}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(1000, script))
		b.history = append(b.history, chain.TxInfo{Tx: tx, Height: int32(i + 1)})
	}
	c := newDaemonWith(t, "regtest", b, func(cfg *Config) { cfg.MaxAddressHistory = 4 })
	for _, m := range []string{"getaddresshistory", "getaddressbalance", "getaddressunspent"} {
		r := c.call(m, addr)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) || !strings.Contains(r.Error.Message, "BTC_MAX_ADDRESS_HISTORY") {
			t.Errorf("%s past the bound: %s %+v", m, r.Result, r.Error)
		}
	}
	c = newDaemonWith(t, "regtest", b, func(cfg *Config) { cfg.MaxAddressHistory = 5 })
	var hist []map[string]any
	c.result(&hist, "getaddresshistory", addr)
	if len(hist) != 5 {
		t.Fatalf("getaddresshistory at the bound = %v", hist)
	}
}

// TestErrorMessagesCarryElectrumMapKeys: the message of each error code a
// client sees holds a key the served electrum_map maps to that code, as
// Bitcart's messages do (its clients map messages to codes that way).
func TestErrorMessagesCarryElectrumMapKeys(t *testing.T) {
	c := newDaemonWith(t, "testnet", &estimatesOnly{})
	cat, err := spec.Load("btc", false)
	if err != nil {
		t.Fatal(err)
	}
	cases := [][]any{
		{"get_transaction", strings.Repeat("ab", 32)},
		{"gettransaction", strings.Repeat("ab", 32)},
		{"get_transaction", "xyz"},
		{"getaddresshistory", "not-an-address"},
		{"get_default_fee", 200},
		{"no_such_method"},
		{"getconfig", "no_such_key"},
		{"open_channel", "x", 1},
		{"getbalance"},
	}
	seen := map[int]bool{}
	for _, tc := range cases {
		r := c.call(tc[0].(string), tc[1:]...)
		if r.Error == nil {
			t.Fatalf("%v: no error", tc)
		}
		seen[r.Error.Code] = true
		found := false
		for key, code := range cat.ElectrumMap {
			if code == r.Error.Code && strings.Contains(strings.ToLower(r.Error.Message), strings.ToLower(key)) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: code %d, message %q holds no electrum_map key of its code", tc, r.Error.Code, r.Error.Message)
		}
	}
	for _, code := range []spec.Code{spec.TxNotFound, spec.InvalidTxHash, spec.InvalidAddress, spec.NoFeeEstimates,
		spec.ProcedureNotFound, spec.NoConfigKey, spec.LightningUnsupp, spec.WalletNotLoaded} {
		if !seen[int(code)] {
			t.Errorf("code %d not exercised", code)
		}
	}
}
