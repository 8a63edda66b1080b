package utxo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// Electrum 4.6's fee policy constants (electrum/fee_policy.py), in sat/kvB.
const (
	// feeRateMaxDynamic is FEERATE_MAX_DYNAMIC, the cap on estimates.
	feeRateMaxDynamic = 1_500_000
	// feeRateDefaultRelay is FEERATE_DEFAULT_RELAY, the floor on estimates.
	feeRateDefaultRelay = 1_000
	// feeRateRegtestStatic is FEERATE_REGTEST_STATIC_FEE: the rate used on
	// regtest (and, in walletd, simnet) when the node has no estimate.
	// Mainnet, testnet and signet never fall back: no estimate is an error.
	feeRateRegtestStatic = 150_000
	// feeRateFallbackStatic is FEERATE_FALLBACK_STATIC_FEE, Electrum 4.4's
	// default fee_per_kb.
	feeRateFallbackStatic = 150_000
	// maxEstimate bounds what a node may answer (sat/kvB); anything higher
	// (or not positive) is treated as no estimate.
	maxEstimate = 1_000_000_000_000
	// maxTxVSize bounds the sizes get_default_fee prices: a block's
	// virtual size.
	maxTxVSize = 1_000_000
)

// feeETATargets is Electrum 4.6's FEE_ETA_TARGETS: the eta slider's
// positions in blocks. The node is asked for every one but the last; the
// 1-block rate is 1.5 times the 2-block one.
var feeETATargets = [...]int64{1008, 144, 25, 10, 5, 2, 1}

// feeRateStaticValues is Electrum's FEERATE_STATIC_VALUES (4.4's static
// slider).
var feeRateStaticValues = [...]int64{1000, 2000, 5000, 10000, 20000, 30000, 50000, 70000, 100000, 150000, 200000, 300000}

// Fee policy methods (Electrum's FeeMethod names, lower case).
const (
	feeETA     = "eta"
	feeMempool = "mempool"
	feeFeerate = "feerate"
	feeFixed   = "fixed"
)

// feePolicy is an Electrum 4.6 fee policy descriptor "method:value":
// eta:<blocks> (the node's estimate), feerate:<sat/kvB>, fixed:<sat>
// (an absolute fee) or mempool:<vbytes from the tip>.
type feePolicy struct {
	method string
	value  int64
}

// defaultFeePolicy is Electrum 4.6's FEE_POLICY default.
var defaultFeePolicy = feePolicy{method: feeETA, value: 2}

// String renders the descriptor.
func (p feePolicy) String() string { return p.method + ":" + strconv.FormatInt(p.value, 10) }

// feeCaps are the daemon's absolute fee and fee-rate caps.
type feeCaps struct {
	maxFee  int64 // sat
	maxRate int64 // sat/kvB
	prefix  string
}

// parseFeePolicy reads a descriptor. Unlike Electrum, which falls back to
// eta:2 with a warning, a malformed one is an error: walletd checks it when
// it is set. mempool is refused (walletd has no mempool fee histogram); a
// feerate or fixed fee above the caps is refused.
func parseFeePolicy(s string, caps feeCaps) (feePolicy, error) {
	bad := func(why string) (feePolicy, error) {
		return feePolicy{}, base.Errorf(spec.InvalidParams, "invalid fee policy %q: %s", shorten(s), why)
	}
	name, val, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return bad("expected method:value (eta:2, feerate:5000, fixed:1000)")
	}
	if !intLiteral.MatchString(val) {
		return bad("the value must be an integer")
	}
	v, err := strconv.ParseInt(val, 10, 64)
	if err != nil || v < 0 {
		return bad("the value must be a non-negative integer")
	}
	p := feePolicy{method: strings.ToLower(name), value: v}
	switch p.method {
	case feeETA:
		if v < 1 || v > feeETATargets[0] {
			return bad(fmt.Sprintf("eta takes a number of blocks from 1 to %d", feeETATargets[0]))
		}
	case feeFeerate:
		if v < 1 || v > caps.maxRate {
			return bad(fmt.Sprintf("feerate takes sat/kvB from 1 to %d (%s_MAX_FEE_RATE)", caps.maxRate, caps.prefix))
		}
	case feeFixed:
		if v > caps.maxFee {
			return bad(fmt.Sprintf("fixed takes satoshis up to %d (%s_MAX_TX_FEE)", caps.maxFee, caps.prefix))
		}
	case feeMempool:
		return bad("walletd has no mempool fee histogram; use eta:<blocks> or feerate:<sat/kvB>")
	default:
		return bad("the method must be eta, feerate or fixed")
	}
	return p, nil
}

// closestETAIndex is Electrum's closest_index(value, FEE_ETA_TARGETS): the
// slider position nearest to value (the first on a tie).
func closestETAIndex(value int64) int {
	best := 0
	for i, t := range feeETATargets {
		if absDiff(t, value) < absDiff(feeETATargets[best], value) {
			best = i
		}
	}
	return best
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// errNoFeeEstimates is Electrum's NoDynamicFeeEstimates: the policy needs
// the node's estimate and there is none. It never falls back to a constant
// on mainnet, testnet or signet.
var errNoFeeEstimates = errors.New("Dynamic fee estimates not available")

// errFeeTooHigh refuses a fee or fee rate above the caps.
var errFeeTooHigh = errors.New("fee too high")

// staticFallback reports whether a missing estimate falls back to
// feeRateRegtestStatic (Electrum does on regtest; walletd also on simnet,
// the other chain whose blocks only tests mine).
func (s *sendSide) staticFallback() bool {
	n := s.d.net.Name
	return n == "regtest" || n == "simnet"
}

// nodeEstimate asks the node for its estimate for target blocks (sat/kvB);
// ok is false without a backend, on an error, or for an answer that is not
// a sane positive rate.
func (s *sendSide) nodeEstimate(ctx context.Context, target int64) (int64, bool) {
	// Electron Cash has no fee estimates: it never asks.
	if s.d.backend == nil || target < 1 || target > math.MaxInt32 || s.d.coin.Flavor == ElectronCash {
		return 0, false
	}
	rate, ok, err := s.d.backend.EstimateFee(ctx, int(target))
	if err != nil {
		s.d.log.Debug("fee estimate", "target", target, "err", err)
		return 0, false
	}
	if !ok || rate <= 0 || rate > maxEstimate {
		return 0, false
	}
	return rate, true
}

// etaTargetToFee is Electrum's FeeTimeEstimates.eta_target_to_fee: the
// node's estimate for target blocks (for 1 block, 1.5 times the 2-block
// estimate), the static regtest rate when there is none on regtest and
// simnet, clamped to [FEERATE_DEFAULT_RELAY, FEERATE_MAX_DYNAMIC].
func (s *sendSide) etaTargetToFee(ctx context.Context, target int64) (int64, bool) {
	var rate int64
	var ok bool
	if target == 1 {
		if rate, ok = s.nodeEstimate(ctx, 2); ok {
			rate += rate / 2
		}
	} else {
		rate, ok = s.nodeEstimate(ctx, target)
	}
	if !ok && s.staticFallback() {
		rate, ok = feeRateRegtestStatic, true
	}
	if !ok {
		return 0, false
	}
	return min(max(rate, feeRateDefaultRelay), feeRateMaxDynamic), true
}

// policyRate is the fee rate of a policy (FeePolicy.fee_per_kb); ok is
// false when a dynamic policy has no estimate, or for a fixed fee.
func (s *sendSide) policyRate(ctx context.Context, p feePolicy) (int64, bool) {
	switch p.method {
	case feeFeerate:
		return p.value, true
	case feeETA:
		return s.etaTargetToFee(ctx, feeETATargets[closestETAIndex(p.value)])
	}
	return 0, false
}

// noEstimate is the error for a policy without an estimate, naming the
// policy and what to do.
func noEstimate(p feePolicy) error {
	return fmt.Errorf("%w: the node has no fee estimate for policy %s yet; pass fee or feerate, or set fee_policy.default to feerate:<sat/kvB>",
		errNoFeeEstimates, p)
}

// defaultFee is Electrum's FeePolicy(config.FEE_POLICY).estimate_fee(size):
// the policy's fixed fee, or its rate applied to size vbytes.
func (s *sendSide) defaultFee(ctx context.Context, size int64) (int64, error) {
	p := s.conf.policy()
	if p.method == feeFixed {
		return p.value, nil
	}
	rate, ok := s.policyRate(ctx, p)
	if !ok {
		return 0, noEstimate(p)
	}
	if s.d.coin.Flavor == ElectronCash {
		// estimate_fee_for_feerate: int(fee_per_kb * size / 1000).
		if size > maxTxVSize {
			return 0, fmt.Errorf("%w: size %d is out of range", wallet.ErrInvalidAmount, size)
		}
		return s.d.engine.Coin().Policy.FeeFor(rate, int(size)), nil
	}
	return feeForFeerate(rate, size)
}

// feeForFeerate is Electrum's estimate_fee_for_feerate: the rate in sat/vB
// quantized to 0.1 (halves down), times size, rounded half to even. The
// product is overflow-checked.
func feeForFeerate(ratePerKvB, size int64) (int64, error) {
	if ratePerKvB < 0 || size < 0 {
		return 0, fmt.Errorf("%w: negative fee rate or size", wallet.ErrInvalidAmount)
	}
	tenths, r := ratePerKvB/100, ratePerKvB%100
	if r > 50 {
		tenths++
	}
	num, ok := mulInt64(tenths, size)
	if !ok {
		return 0, fmt.Errorf("%w: the fee of %d vbytes at %d sat/kvB does not fit 64 bits", wallet.ErrInvalidAmount, size, ratePerKvB)
	}
	q, rem := num/10, num%10
	if rem > 5 || rem == 5 && q%2 == 1 {
		q++
	}
	return q, nil
}

// mulInt64 multiplies two non-negative int64s; ok is false on overflow.
func mulInt64(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// checkFeeRate refuses a fee rate (sat/kvB) above the cap unless allowed.
func (s *sendSide) checkFeeRate(rate int64, allow bool) error {
	if allow || rate <= s.caps.maxRate {
		return nil
	}
	return fmt.Errorf("%w: a fee rate of %s %s/kvB is above the cap of %s (%s_MAX_FEE_RATE); pass allow_high_fee=true to pay it",
		errFeeTooHigh, FormatFixed(rate), s.d.coin.Ticker, FormatFixed(s.caps.maxRate), s.caps.prefix)
}

// checkFee refuses an absolute fee above the cap unless allowed.
func (s *sendSide) checkFee(fee int64, allow bool) error {
	if allow || fee <= s.caps.maxFee {
		return nil
	}
	return fmt.Errorf("%w: a fee of %s %s is above the cap of %s (%s_MAX_TX_FEE); pass allow_high_fee=true to pay it",
		errFeeTooHigh, FormatFixed(fee), s.d.coin.Ticker, FormatFixed(s.caps.maxFee), s.caps.prefix)
}

// checkBuilt applies both caps to a built transaction: its fee, and its
// fee over its (estimated signed) virtual size.
func (s *sendSide) checkBuilt(ctx context.Context, b *wallet.BuiltTx, allow bool) error {
	if allow {
		return nil
	}
	if err := s.checkFee(b.Fee, false); err != nil {
		return err
	}
	var vsize int
	if b.Complete {
		vsize = wallet.VSize(b.Tx)
	} else {
		vsize = s.d.engine.EstimateVSize(ctx, b.Tx, b.Packet)
	}
	if vsize <= 0 {
		return nil
	}
	// fee*1000/vsize > maxRate, without dividing: fee*1000 > maxRate*vsize.
	lhs, ok1 := mulInt64(b.Fee, 1000)
	rhs, ok2 := mulInt64(s.caps.maxRate, int64(vsize))
	switch {
	case !ok1:
		return s.checkFeeRate(b.Fee/int64(vsize)*1000, false)
	case ok2 && lhs > rhs:
		return s.checkFeeRate(lhs/int64(vsize), false)
	}
	return nil
}

type defaultFeeArgs struct {
	Tx json.RawMessage `rpc:"tx,required"`
}

func (s *sendSide) getDefaultFee(ctx context.Context, _ *base.Call, a defaultFeeArgs) (any, error) {
	size, err := s.sizeOf(ctx, a.Tx)
	if err != nil {
		return nil, err
	}
	fee, err := s.defaultFee(ctx, size)
	if err != nil {
		return nil, err
	}
	return FormatFixed(fee), nil
}

// sizeOf reads get_default_fee's argument: a vsize (JSON integer, or a
// string of digits) of at most a block's virtual size, or a raw
// transaction / PSBT.
func (s *sendSide) sizeOf(ctx context.Context, raw json.RawMessage) (int64, error) {
	tooBig := base.Errorf(spec.InvalidParams, "invalid value for argument \"tx\": a size must be an integer from 0 to %d vbytes", maxTxVSize)
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < 0 || v > maxTxVSize {
			return 0, tooBig
		}
		return v, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return 0, base.Errorf(spec.InvalidParams, "invalid value for argument \"tx\": expected a transaction or a size")
	}
	if t := strings.TrimSpace(str); t != "" && strings.Trim(t, "0123456789") == "" {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil || v > maxTxVSize {
			return 0, tooBig
		}
		return v, nil
	}
	size, err := s.txVSize(ctx, str)
	return int64(size), err
}

type recommendedFeeArgs struct {
	Target int64 `rpc:"target,required"`
}

// recommendedFee is Bitcart's recommended_fee: eta_target_to_fee(target),
// sat/kvB, or null without an estimate.
func (s *sendSide) recommendedFee(ctx context.Context, _ *base.Call, a recommendedFeeArgs) (any, error) {
	if a.Target < 1 || a.Target > feeETATargets[0] {
		return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"target\": a number of blocks from 1 to %d", feeETATargets[0])
	}
	rate, ok := s.etaTargetToFee(ctx, a.Target)
	if !ok {
		return nil, nil
	}
	return rate, nil
}

// feeRateArgs are getfeerate's Electrum 4.4 parameters, still accepted.
type feeRateArgs struct {
	FeeMethod *string      `rpc:"fee_method"`
	FeeLevel  *json.Number `rpc:"fee_level"`
}

// feeRateReply is Electrum 4.6's getfeerate reply.
type feeRateReply struct {
	Policy      string  `json:"policy"`
	Description *string `json:"description"`
	SatPerKvB   *int64  `json:"sat/kvB"`
	Tooltip     string  `json:"tooltip"`
}

// getfeerate is Electrum 4.6's: the fee policy in force, its description
// and current rate. Electrum 4.4's fee_method and fee_level (a slider
// position from 0 to 1) choose another policy for this answer.
func (s *sendSide) getfeerate(ctx context.Context, _ *base.Call, a feeRateArgs) (any, error) {
	p, err := s.legacyPolicy(a)
	if err != nil {
		return nil, err
	}
	reply := feeRateReply{Policy: p.String()}
	switch p.method {
	case feeETA:
		d := etaTooltip(p.value)
		reply.Description = &d
	case feeFeerate:
		d := formatFeeSatoshis(p.value) + " sat/vbyte"
		reply.Description = &d
	case feeMempool:
		d := "unknown from tip"
		reply.Description = &d
	}
	if rate, ok := s.policyRate(ctx, p); ok {
		reply.SatPerKvB = &rate
		if p.method == feeETA {
			reply.Tooltip = formatFeeSatoshis(rate) + " sat/vbyte"
		}
	}
	return reply, nil
}

// legacyPolicy maps getfeerate's 4.4 arguments to a policy: static is the
// 4.4 fee_per_kb (or a static slider value), eta a slider position over
// 25, 10, 5, 2 and 1 blocks.
func (s *sendSide) legacyPolicy(a feeRateArgs) (feePolicy, error) {
	p := s.conf.policy()
	if a.FeeMethod == nil && a.FeeLevel == nil {
		return p, nil
	}
	method := p.method
	if a.FeeMethod != nil {
		switch m := strings.ToLower(*a.FeeMethod); m {
		case "static", feeETA, feeMempool:
			method = m
		default:
			return feePolicy{}, base.Errorf(spec.InvalidParams, "Invalid fee estimation method: %s", shorten(*a.FeeMethod))
		}
	}
	var pos func(n int) (int, error)
	if a.FeeLevel != nil {
		level, ok := new(big.Rat).SetString(a.FeeLevel.String())
		if !ok {
			return feePolicy{}, base.Errorf(spec.InvalidParams, "fee_level must be a number from 0 to 1")
		}
		level = clampRat(level)
		pos = func(n int) (int, error) { return roundHalfEven(new(big.Rat).Mul(level, big.NewRat(int64(n), 1))), nil }
	}
	switch method {
	case "static", feeFeerate:
		if pos == nil {
			return feePolicy{method: feeFeerate, value: s.conf.getLegacy("fee_per_kb").(int64)}, nil
		}
		i, _ := pos(len(feeRateStaticValues) - 1)
		return feePolicy{method: feeFeerate, value: feeRateStaticValues[i]}, nil
	case feeETA:
		if pos == nil {
			return feePolicy{method: feeETA, value: p.value}, nil
		}
		i, _ := pos(len(legacyETATargets) - 1)
		return feePolicy{method: feeETA, value: legacyETATargets[i]}, nil
	}
	return feePolicy{method: feeMempool, value: 1_000_000}, nil
}

// clampRat clamps a slider level to [0, 1].
func clampRat(r *big.Rat) *big.Rat {
	if r.Sign() < 0 {
		return new(big.Rat)
	}
	if r.Cmp(big.NewRat(1, 1)) > 0 {
		return big.NewRat(1, 1)
	}
	return r
}

// roundHalfEven rounds a non-negative rational as Python's round().
func roundHalfEven(r *big.Rat) int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	switch twice.Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return int(q.Int64())
}

// etaTooltip is Electrum's FeePolicy.eta_tooltip.
func etaTooltip(blocks int64) string {
	switch blocks {
	case 1:
		return "In the next block"
	case 144:
		return "Within one day"
	case 1008:
		return "Within one week"
	}
	return fmt.Sprintf("Within %d blocks", blocks)
}

// formatFeeSatoshis is Electrum's format_fee_satoshis(rate/1000): sat/vB
// with one decimal at most, trailing zeros dropped ("12.5", "12.").
func formatFeeSatoshis(ratePerKvB int64) string {
	tenths, r := ratePerKvB/100, ratePerKvB%100
	if r > 50 || r == 50 && tenths%2 == 1 {
		tenths++
	}
	s := fmt.Sprintf("%d.%d", tenths/10, tenths%10)
	return strings.TrimSuffix(s, "0")
}
