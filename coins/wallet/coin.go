package wallet

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/btc"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// Coin is what the engine needs to know of one coin on one network: its
// parameters and address codec, how it reads key material, how it signs,
// what it can do, its relay policy and its request rules. A coin package
// (daemons/btc, daemons/ltc, daemons/bch) fills it; Bitcoin(n) is the
// Bitcoin family's. It is a value: the engine never changes it.
type Coin struct {
	// Net is the coin's network, with its address codec (Net.Codec).
	Net *params.Network
	// Parse reads key material for Net (keys.Parse for Electrum's coins,
	// keys.ParseElectronCash for Bitcoin Cash).
	Parse func(material string, n *params.Network) (*keys.Material, error)
	// Signer signs and checks the coin's inputs and messages.
	Signer Signer
	// Caps are the coin's capabilities.
	Caps Caps
	// Policy is the coin's relay policy and transaction format.
	Policy Policy
	// RequestID makes the id of a new payment request on pkScript (its
	// printed address addr) made at now.
	RequestID func(pkScript []byte, addr string, now time.Time) string
	// SplitToken, when set, separates an output script carrying tokens
	// into its locking script (the script that says who spends it) and
	// reports whether tokens were there (BCH's CashTokens). A coin whose
	// outputs never carry tokens leaves it nil. The engine credits a
	// token output to the owner of its locking script and never spends
	// it as plain coin.
	SplitToken func(pkScript []byte) (token bool, locking []byte)
	// MinConfirmations selects Electron Cash's request rule: a paid
	// request's confirmations are those of its least confirmed payment,
	// not of the last one needed to reach the amount (Electrum 4.6).
	MinConfirmations bool
}

// Caps are what a coin can do.
type Caps struct {
	// Segwit: the coin has witness outputs (p2wpkh, nested p2wpkh).
	Segwit bool
	// RBF: transactions signal BIP125 replaceability and bumpfee works;
	// without it BumpFee is ErrRBFUnsupported.
	RBF bool
	// PSBT: unsigned transactions are BIP174 PSBTs; without it a
	// transaction the wallet does not sign is returned unsigned with
	// BuiltTx.Inputs saying what signs each input.
	PSBT bool
}

// Policy is a coin's relay policy and transaction format.
type Policy struct {
	// Dust reports whether an output is too small to be relayed.
	Dust func(out *wire.TxOut) bool
	// FeeFor returns the fee of size bytes (virtual bytes on a segwit
	// coin) at ratePerKB satoshis per 1000 of them.
	FeeFor func(ratePerKB int64, size int) int64
	// MinRelayPerKB is the node's minimum relay fee rate, which is also
	// the incremental rate a replacement must add (sat/kvB).
	MinRelayPerKB int64
	// TxVersion is the version of the transactions the wallet builds.
	TxVersion int32
	// Sequence is the nSequence of their inputs when they do not signal
	// replaceability (final, with nLockTime enabled).
	Sequence uint32
}

// Signer is a coin's signing rules: how inputs are signed and checked,
// what a signed transaction will weigh, and how messages are signed.
// Implementations (btc.Signer, bch.Signer) are safe for concurrent use.
type Signer interface {
	// SignInputs signs, for every i with keys[i] != nil, input i of tx
	// spending prevs[i] with keys[i] (SignatureScript, and Witness on a
	// segwit coin), then verifies each signed input with the coin's
	// script engine. Inputs with a nil key are left as they are.
	SignInputs(tx *wire.MsgTx, prevs []*wire.TxOut, keys []*btcec.PrivateKey) error
	// VerifyInputs runs the coin's script engine on every input of tx.
	VerifyInputs(tx *wire.MsgTx, prevs []*wire.TxOut) error
	// EstimateSize returns the size fees are paid on of tx once signed:
	// signed inputs as they are, unsigned ones by the script they spend
	// (prevs[i], nil when unknown) and the length of the public key that
	// will sign them (pubKeyLens[i]; 0 or a nil slice: compressed).
	EstimateSize(tx *wire.MsgTx, prevs []*wire.TxOut, pubKeyLens []int) int
	// SignMessage signs message with key the coin's way, as the base64
	// compact signature Electrum-family wallets print.
	SignMessage(key *btcec.PrivateKey, compressed bool, message string) (string, error)
	// VerifyMessage reports whether signature signs message for the key
	// that pkScript pays.
	VerifyMessage(pkScript []byte, signature, message string) bool
}

// nSequence values of Bitcoin-family transactions: BIP125 opt-in
// replace-by-fee, or final but with nLockTime enabled (Electrum's choice
// when rbf is off).
const (
	SequenceRBF   = wire.MaxTxInSequenceNum - 2 // 0xfffffffd
	SequenceNoRBF = wire.MaxTxInSequenceNum - 1 // 0xfffffffe
)

// Bitcoin returns the Bitcoin family's description for network n (BTC;
// LTC with LTCPolicy's dust rule): Electrum's key material, btc.Signer with
// n's message magic, segwit, RBF and PSBT, txrules' dust and relay fee,
// version 2 transactions, and Electrum's request ids.
func Bitcoin(n *params.Network) Coin {
	return Coin{
		Net:       n,
		Parse:     keys.Parse,
		Signer:    btc.Signer{Magic: n.MessageMagic},
		Caps:      Caps{Segwit: n.Bech32HRP != "", RBF: true, PSBT: true},
		Policy:    BitcoinPolicy(btc.DustRelayFeePerKB),
		RequestID: electrumRequestID,
	}
}

// BitcoinPolicy is the Bitcoin family's policy with txrules' dust rule at
// dustRelayPerKB (btc.DustRelayFeePerKB for Bitcoin,
// btc.LTCDustRelayFeePerKB for Litecoin).
func BitcoinPolicy(dustRelayPerKB int64) Policy {
	return Policy{
		Dust:          func(out *wire.TxOut) bool { return btc.IsDust(out, dustRelayPerKB) },
		FeeFor:        btc.FeeForSize,
		MinRelayPerKB: btc.MinRelayFeePerKB,
		TxVersion:     2,
		Sequence:      SequenceNoRBF,
	}
}

// electrumRequestID is walletd's request id for Electrum coins: the first
// 10 hex digits of sha256(address "|" creation time in nanoseconds).
func electrumRequestID(_ []byte, addr string, now time.Time) string {
	var buf [128]byte // on the stack for any address
	sum := sha256.Sum256(strconv.AppendInt(append(append(buf[:0], addr...), '|'), now.UnixNano(), 10))
	return hex.EncodeToString(sum[:5])
}

// coinOf completes a Config's coin: Coin as given, or Bitcoin(Net) when
// only Net is set.
func coinOf(cfg Config) Coin {
	c := cfg.Coin
	if c.Net == nil {
		return Bitcoin(cfg.Net)
	}
	return c
}

// Coin returns the engine's coin description.
func (e *Engine) Coin() Coin { return e.cfg.Coin }

var _ Signer = btc.Signer{}

// locking returns the script that says who spends an output (the output
// script itself, or the locking script after its token prefix on a coin
// with SplitToken) and whether the output carries tokens.
func (e *Engine) locking(pkScript []byte) (script []byte, token bool) {
	if e.cfg.Coin.SplitToken == nil {
		return pkScript, false
	}
	token, script = e.cfg.Coin.SplitToken(pkScript)
	return script, token
}

// lockingScript is locking's script.
func (e *Engine) lockingScript(pkScript []byte) []byte {
	s, _ := e.locking(pkScript)
	return s
}
