package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// messageHash is Electrum's (and Bitcoin Core's) signed-message digest:
// double SHA-256 of the network's magic ("\x18Bitcoin Signed Message:\n"),
// varint(len), message.
func messageHash(n *params.Network, message string) []byte {
	var buf bytes.Buffer
	buf.WriteString(n.MessageMagic)
	_ = wire.WriteVarInt(&buf, 0, uint64(len(message)))
	buf.WriteString(message)
	first := sha256.Sum256(buf.Bytes())
	second := sha256.Sum256(first[:])
	return second[:]
}

// SignMessage signs message with the key of one of the wallet's addresses
// as Electrum's signmessage does: a 65-byte compact recoverable signature
// (header 27+recid, +4 for a compressed key) over messageHash, in base64.
// keys.ErrUnknownAddress when the address is not the wallet's,
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
	sig := ecdsa.SignCompact(key, messageHash(w.e.cfg.Net, message), compressed)
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyMessage checks a base64 compact signature of message by address
// as Electrum's verifymessage: the public key recovered from the signature
// must give address as p2pkh, p2wpkh or p2wpkh-p2sh (BIP137 headers 35-42
// are accepted too). Anything malformed is false.
func VerifyMessage(n *params.Network, addr, signature, message string) bool {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(sig) != 65 {
		return false
	}
	want, err := n.PkScript(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	sig = append([]byte(nil), sig...)
	types := []params.ScriptType{params.P2PKH, params.P2WPKH, params.P2WPKHP2SH}
	switch h := sig[0]; {
	case h >= 27 && h < 35:
	case h >= 35 && h < 39:
		sig[0] = h - 4
		types = []params.ScriptType{params.P2WPKHP2SH}
	case h >= 39 && h < 43:
		sig[0] = h - 8
		types = []params.ScriptType{params.P2WPKH}
	default:
		return false
	}
	pub, compressed, err := ecdsa.RecoverCompact(sig, messageHash(n, message))
	if err != nil {
		return false
	}
	pubBytes := pub.SerializeCompressed()
	if !compressed {
		pubBytes = pub.SerializeUncompressed()
	}
	for _, t := range types {
		if !compressed && t != params.P2PKH {
			continue
		}
		if _, script, err := n.PubKeyAddress(t, pubBytes); err == nil && bytes.Equal(script, want) {
			return true
		}
	}
	return false
}
