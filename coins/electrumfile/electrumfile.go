// Package electrumfile reads the wallet files of Electrum 4.3 to 4.6 (the
// JSON wallet storage that Bitcart's BTC daemon writes, one file per wallet)
// into neutral structs: the wallet's public key material, the addresses
// Electrum revealed, and its payment requests with the ids Electrum gave
// them and the status Electrum computes for them from the history the file
// holds.
//
// Secrets never leave this package: a file's seed, seed passphrase, master
// private key, imported private keys and lightning keys are read (they are
// part of the JSON) but never copied into a returned value; the Wallet only
// lists which kinds it dropped. Error texts name JSON fields, never their
// values, and never a file name that may itself be key material (Bitcart
// names a wallet's file after the key string the merchant sent, which may
// be a seed).
//
// The formats: Electrum writes the whole wallet as one JSON object whose
// "seed_version" names its format (50 for 4.3, 51–53 for 4.4, 54–59 for 4.5,
// 60 for 4.6). From 4.5 on it may append JSON-patch operations after the
// object (",\n{op}" each) instead of rewriting the file; they are applied
// here as Electrum applies them. Files encrypted with a password (storage
// encryption, "BIE1"/"BIE2") are refused with ErrEncrypted.
//
// The package does no I/O beyond reading the one file Read is given.
package electrumfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Errors. Every error of this package wraps one of them (test with
// errors.Is); their texts never contain key material.
var (
	// ErrEncrypted: the file is encrypted with a password (Electrum's
	// storage encryption). walletd cannot and should not hold the password.
	ErrEncrypted = errors.New("the wallet file is encrypted with a password: open it in Electrum and remove the password (Electrum: Wallet > Password, empty new password) before importing")
	// ErrNotWallet: the file is not an Electrum JSON wallet.
	ErrNotWallet = errors.New("not an Electrum wallet file")
	// ErrVersion: the file's format is older than Electrum 4.3 or newer
	// than Electrum 4.6.
	ErrVersion = errors.New("unsupported Electrum wallet format")
	// ErrUnsupportedWallet: a kind of wallet walletd cannot run (multisig,
	// 2fa, Electrum 1.x "old" keys, hardware-less imported scripts).
	ErrUnsupportedWallet = errors.New("unsupported kind of Electrum wallet")
)

// Electrum's request statuses (invoices.py), as walletd serves them too.
const (
	StatusUnpaid      = 0
	StatusExpired     = 1
	StatusPaid        = 3
	StatusUnconfirmed = 7
)

// Seed versions of the formats this package reads: Electrum 4.3.x writes
// 50, 4.6.x writes 60.
const (
	MinSeedVersion = 50
	MaxSeedVersion = 60
)

// Kind is the kind of key material a wallet is built on.
type Kind int

// Kinds of wallets.
const (
	// KindDeterministic: a BIP32 wallet (seed, xprv or xpub, or a hardware
	// device): its addresses derive from XPub.
	KindDeterministic Kind = iota + 1
	// KindImported: a list of addresses, or of private keys (which are
	// dropped; their addresses remain).
	KindImported
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindDeterministic:
		return "deterministic"
	case KindImported:
		return "imported"
	}
	return "unknown"
}

// Wallet is what walletd carries over from one Electrum wallet file. It
// holds no secret.
type Wallet struct {
	// Name names the wallet in messages: the file's name, unless that name
	// is (or contains) key material, in which case it is built from the
	// master public key (deterministic) or the first address (imported).
	Name string
	// SeedVersion is the file's format number (50 to 60).
	SeedVersion int
	// Kind tells which of XPub or Addresses describes the wallet.
	Kind Kind
	// XPub is the account extended public key of a deterministic wallet, in
	// the SLIP-132 form Electrum stores (xpub/ypub/zpub, tpub/upub/vpub).
	XPub string
	// Derivation and RootFingerprint are the keystore's public origin
	// (e.g. "m/0'" and "5aec184c"), when the file records them.
	Derivation, RootFingerprint string
	// Receiving and Change are the addresses Electrum derived on each chain
	// of a deterministic wallet, by index.
	Receiving, Change []string
	// Addresses are an imported wallet's addresses, sorted.
	Addresses []string
	// Dropped lists the kinds of secrets the file held and that were left
	// behind ("seed", "seed passphrase", "master private key", "private
	// keys", "lightning keys"), empty for a watch-only wallet.
	Dropped []string
	// Requests are the payment requests walletd can carry, oldest first.
	Requests []Request
	// Skipped are the requests it cannot carry, with the reason.
	Skipped []Skipped
}

// HasSecrets reports whether the file held secrets (a hot wallet).
func (w *Wallet) HasSecrets() bool { return len(w.Dropped) > 0 }

// Request is one of Electrum's payment requests ("payment_requests").
type Request struct {
	// ID is the key Electrum stores the request under and returned as
	// request_id: 10 hex digits for an on-chain request (a hash of its
	// output and time), the 64-hex payment hash for one made by a wallet
	// with lightning keys. Bitcart's merchant keeps it as lookup_field.
	ID string
	// Address is the on-chain address the request is paid to.
	Address string
	// AmountSat is the amount asked, in satoshis; 0 asks for any amount.
	AmountSat int64
	// Message is the request's memo.
	Message string
	// Time is when it was made (unix seconds); Exp its lifetime in seconds
	// after Time (0: it never expires).
	Time, Exp int64
	// Height is the chain height Electrum knew when the request was made;
	// payments mined at or below it do not count for it.
	Height int64
	// Lightning is true when Electrum made it with a payment hash (a
	// lightning invoice with an on-chain fallback).
	Lightning bool
	// Paid is Electrum's view of its on-chain payment from the history the
	// file holds: StatusUnpaid, StatusUnconfirmed or StatusPaid.
	Paid int
	// Sent is the total the file's history pays to Address, and TxHashes
	// those transactions, confirmed ones first by height, then the others.
	Sent     int64
	TxHashes []string
}

// StatusAt is the status Electrum shows for the request at now: its Paid
// status, or StatusExpired once an unpaid request's lifetime is over.
func (r Request) StatusAt(now time.Time) int {
	if r.Paid == StatusUnpaid && r.Exp > 0 && r.Time+r.Exp < now.Unix() {
		return StatusExpired
	}
	return r.Paid
}

// Skipped is a request walletd cannot carry over.
type Skipped struct {
	ID     string
	Reason string
}

// Read reads and parses the wallet file at path (see Parse).
func Read(path string) (*Wallet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			// The path's last element may be a seed: never print it.
			return nil, fmt.Errorf("reading %s: %w", SafeName(path), pe.Err)
		}
		return nil, errors.New("reading the wallet file failed")
	}
	return Parse(filepath.Base(path), data)
}
