package bch

// Policy of Electron Cash 4.4.2 and bchd v0.22.2 for ordinary sends.
const (
	// DustThreshold is Electron Cash's dust_threshold (satoshis): change
	// below it is added to the fee, and no output is made below it. bchd's
	// isDust at MinRelayFeePerKB gives the same 546 for P2PKH outputs.
	DustThreshold = 546
	// DefaultFeePerKB is Electron Cash's fee_per_kb for a new wallet
	// (simple_config.fee_per_kb): 1 sat/byte. Electron Cash has no fee
	// estimation for BCH (has_fee_estimates is always false) and Bitcart's
	// BCH recommended_fee answers 0, so this static rate is the default.
	DefaultFeePerKB = 1000
	// MinRelayFeePerKB is bchd's DefaultMinRelayTxFee.
	MinRelayFeePerKB = 1000
	// MaxFeePerKB is Electron Cash's MAX_FEE_RATE, the top of its fee
	// slider (satoshis per kB).
	MaxFeePerKB = 20000
	// MaxFeeSatPerByte is the rate above which Electron Cash refuses to
	// build a transaction (make_unsigned_transaction raises ExcessiveFee).
	MaxFeeSatPerByte = 50
	// MinTxSize is the smallest transaction BCH accepts (bytes, since the
	// November 2018 upgrade): a smaller one is rejected by the network.
	MinTxSize = 100
	// TokenDust is the value Electron Cash gives token-carrying outputs
	// (token.heuristic_dust_limit_for_token_bearing_output).
	TokenDust = 800
)
