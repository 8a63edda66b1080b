package wallet

import (
	"bytes"
	"context"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// SignMessage signs message with the key of one of the wallet's addresses
// as the coin's reference wallet does (Electrum's signmessage: a 65-byte
// compact recoverable signature, header 27+recid, +4 for a compressed key,
// over the digest of the network's message magic and the message, in
// base64). keys.ErrUnknownAddress when the address is not the wallet's,
// ErrWatchOnly without private keys.
func (w *Wallet) SignMessage(ctx context.Context, addr, message string) (string, error) {
	script, err := w.e.cfg.Net.PkScript(strings.TrimSpace(addr))
	if err != nil {
		return "", err
	}
	mat, err := w.material()
	if err != nil {
		return "", err
	}
	if !mat.HasPrivateKeys() {
		return "", ErrWatchOnly
	}
	if _, ok := w.ref(script); !ok {
		return "", keys.ErrUnknownAddress
	}
	key, err := w.keyForScript(mat, script)
	if err != nil {
		return "", err
	}
	if key == nil {
		return "", keys.ErrUnknownAddress
	}
	defer key.Zero()
	compressed := true
	if txscript.IsPayToPubKeyHash(script) {
		compressed = bytes.Equal(script[3:23], address.Hash160(key.PubKey().SerializeCompressed()))
	}
	return w.e.cfg.Coin.Signer.SignMessage(key, compressed, message)
}

// VerifyMessage checks a base64 compact signature of message by address
// as the coin's reference wallet does (Electrum's verifymessage: the key
// recovered from the signature must give address as p2pkh, p2wpkh or
// p2wpkh-p2sh; Electron Cash's: p2pkh). Anything malformed, an invalid
// address included, is false.
func (e *Engine) VerifyMessage(addr, signature, message string) bool {
	return VerifyMessageFor(e.cfg.Coin, addr, signature, message)
}

// VerifyMessageFor is VerifyMessage for a coin without an engine.
func VerifyMessageFor(c Coin, addr, signature, message string) bool {
	want, err := c.Net.PkScript(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	return c.Signer.VerifyMessage(want, strings.TrimSpace(signature), message)
}

// VerifyMessage is VerifyMessageFor the Bitcoin family on n.
func VerifyMessage(n *params.Network, addr, signature, message string) bool {
	return VerifyMessageFor(Bitcoin(n), addr, signature, message)
}
