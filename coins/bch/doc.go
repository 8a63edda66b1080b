// Package bch holds what Bitcoin Cash does differently from Bitcoin when a
// wallet spends: signing with SIGHASH_ALL|SIGHASH_FORKID through bchd's
// txscript (Schnorr signatures by default, as Electron Cash 4.4.2 makes
// them), verification with bchd's script engine, transaction size (no
// segwit: size is vsize), Electron Cash's dust and fee policy, its signed
// message format, and recognising CashToken-carrying outputs so that they are
// never spent as plain BCH.
//
// The wallet engine builds transactions as btcd wire.MsgTx values: the
// serialization is the same on both chains (a CashTokens output simply has
// its token prefix at the front of its PkScript bytes). Signer converts to
// bchd's wire types internally, by serialization, and copies the signature
// scripts back.
//
// Signer implements the wallet engine's per-coin signing interface
// (wallet.Signer; coins/btc.Signer is Bitcoin's). The package does no I/O
// and holds no mutable package-level state.
package bch
