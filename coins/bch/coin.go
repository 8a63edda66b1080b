package bch

import (
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
)

// Sequence is the nSequence Electron Cash gives every input (final, with
// nLockTime enabled; Bitcoin Cash has no replace-by-fee).
const Sequence = 0xfffffffe

// TxVersion is the version of the transactions Electron Cash builds
// (Transaction.from_io).
const TxVersion = 1

// Coin describes Bitcoin Cash on network n (a params.BCH network) to the
// wallet engine, as Electron Cash 4.4.2 spends: its key material
// (keys.ParseElectronCash), Signer (SIGHASH_ALL|FORKID, Schnorr), no segwit,
// no RBF, no PSBT, its dust threshold and fee rounding, version 1
// transactions with final sequences, its request ids (RequestID of the
// legacy address), its confirmation rule for requests (the least confirmed
// payment's), and CashTokens outputs credited to their locking script but
// never spent as plain BCH.
func Coin(n *params.Network) wallet.Coin {
	return wallet.Coin{
		Net:    n,
		Parse:  keys.ParseElectronCash,
		Signer: Signer{},
		Policy: wallet.Policy{
			Dust:          func(o *wire.TxOut) bool { return o.Value < DustThreshold },
			FeeFor:        FeeForSize,
			MinRelayPerKB: MinRelayFeePerKB,
			TxVersion:     TxVersion,
			Sequence:      Sequence,
		},
		RequestID: func(pkScript []byte, addr string, now time.Time) string {
			legacy := addr
			if c := n.CashAddr(); c != nil {
				if l, err := c.Legacy(pkScript); err == nil {
					legacy = l
				}
			}
			return RequestID(legacy, now.Unix())
		},
		SplitToken:       splitLocking,
		MinConfirmations: true,
	}
}

// splitLocking is SplitToken for the engine: the locking script of an
// output and whether it carries tokens. A malformed token prefix is a
// token output whose locking script is unknown: it pays no wallet.
func splitLocking(pkScript []byte) (bool, []byte) {
	if !HasToken(pkScript) {
		return false, pkScript
	}
	_, locking, err := SplitToken(pkScript)
	if err != nil {
		return true, pkScript
	}
	return true, locking
}
