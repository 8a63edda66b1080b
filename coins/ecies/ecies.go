// Package ecies is Electrum's message encryption to a public key (the
// "BIE1" ECIES of electrum/crypto.py ecies_encrypt_message and
// ecies_decrypt_message): what Electrum's encrypt and decrypt commands
// produce and read, byte for byte in format, so that Electrum decrypts what
// this package encrypts and the other way round.
//
// The format, base64-encoded: "BIE1" ‖ ephemeral public key (33 bytes,
// compressed) ‖ AES-128-CBC ciphertext (PKCS#7 padded) ‖ HMAC-SHA256 (32
// bytes) over everything before it. The keys come from SHA-512 of the
// compressed ECDH point: bytes 0..16 are the IV, 16..32 the AES key, 32..64
// the MAC key.
package ecies

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
)

// Magic is the prefix Electrum writes and requires.
const Magic = "BIE1"

// minLen is the shortest decoded message: magic, ephemeral key, one AES
// block and the MAC (Electrum's "invalid ciphertext: length" bound).
const minLen = 4 + 33 + 16 + 32

// Errors of Decrypt. Their texts are Electrum's; none carries key material
// or plaintext.
var (
	// ErrBadCiphertext is wrapped by every malformed-input error.
	ErrBadCiphertext = errors.New("invalid ciphertext")
	// ErrMAC is a MAC that does not match: the message was not encrypted to
	// this key, or it was altered (Electrum raises InvalidPassword).
	ErrMAC = errors.New("incorrect password or wrong key: the message's MAC does not match")
)

func badCiphertext(why string) error {
	return fmt.Errorf("%w: %s", ErrBadCiphertext, why)
}

// keys derives IV, AES key and MAC key from the shared point.
func keys(point *btcec.JacobianPoint) (iv, keyE, keyM []byte) {
	point.ToAffine()
	shared := btcec.NewPublicKey(&point.X, &point.Y).SerializeCompressed()
	sum := sha512.Sum512(shared)
	return sum[0:16], sum[16:32], sum[32:64]
}

// Encrypt encrypts message to pub as Electrum's encrypt command does, with a
// fresh ephemeral key from rnd (crypto/rand when nil), and returns the
// base64 text.
func Encrypt(rnd io.Reader, pub *btcec.PublicKey, message []byte) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var eph *btcec.PrivateKey
	for eph == nil {
		var buf [32]byte
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return "", err
		}
		var s btcec.ModNScalar
		if overflow := s.SetBytes(&buf); overflow == 0 && !s.IsZero() {
			eph = btcec.PrivKeyFromScalar(&s)
		}
	}
	defer eph.Zero()
	var p, shared btcec.JacobianPoint
	pub.AsJacobian(&p)
	btcec.ScalarMultNonConst(&eph.Key, &p, &shared)
	iv, keyE, keyM := keys(&shared)
	block, err := aes.NewCipher(keyE)
	if err != nil {
		return "", err
	}
	pad := aes.BlockSize - len(message)%aes.BlockSize
	plain := append(append([]byte(nil), message...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	out := append([]byte(Magic), eph.PubKey().SerializeCompressed()...)
	out = append(out, ct...)
	mac := hmac.New(sha256.New, keyM)
	mac.Write(out)
	out = mac.Sum(out)
	return base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt decrypts Electrum's base64 text with priv. A malformed text wraps
// ErrBadCiphertext; a MAC mismatch (another key, or an altered message) is
// ErrMAC. The MAC is checked before anything is decrypted.
func Decrypt(priv *btcec.PrivateKey, encrypted string) ([]byte, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace([]byte(encrypted))))
	if err != nil {
		return nil, badCiphertext("not base64")
	}
	if len(raw) < minLen {
		return nil, badCiphertext("length")
	}
	if string(raw[:4]) != Magic {
		return nil, badCiphertext("invalid magic bytes")
	}
	eph, err := btcec.ParsePubKey(raw[4:37])
	if err != nil {
		return nil, badCiphertext("invalid ephemeral pubkey")
	}
	ct, tag := raw[37:len(raw)-32], raw[len(raw)-32:]
	var p, shared btcec.JacobianPoint
	eph.AsJacobian(&p)
	btcec.ScalarMultNonConst(&priv.Key, &p, &shared)
	iv, keyE, keyM := keys(&shared)
	mac := hmac.New(sha256.New, keyM)
	mac.Write(raw[:len(raw)-32])
	if !hmac.Equal(mac.Sum(nil), tag) {
		return nil, ErrMAC
	}
	if len(ct)%aes.BlockSize != 0 {
		return nil, badCiphertext("not a whole number of AES blocks")
	}
	block, err := aes.NewCipher(keyE)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	n := int(plain[len(plain)-1])
	if n < 1 || n > aes.BlockSize || !bytes.Equal(plain[len(plain)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, badCiphertext("invalid padding")
	}
	return plain[:len(plain)-n], nil
}
