package ecies

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// electrumPy runs Debian's python3-electrum (installed by .ci/run through
// scripts/deps.d) on a short script; argv follows the script.
func electrumPy(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-electrum: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// messages cover the empty message, a block-sized one (a whole padding
// block), UTF-8 and a multi-block one.
var messages = []string{"", "0123456789abcdef", "héllo, wörld ✓", strings.Repeat("walletd ", 50)}

// TestElectrumDecryptsOurs: what Encrypt makes, Electrum's own
// ECPrivkey.decrypt_message reads back.
func TestElectrumDecryptsOurs(t *testing.T) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	{
		for _, m := range messages {
			enc, err := Encrypt(nil, priv.PubKey(), []byte(m))
			if err != nil {
				t.Fatal(err)
			}
			got := electrumPy(t, `
import sys
from electrum import ecc
k = ecc.ECPrivkey(bytes.fromhex(sys.argv[1]))
print(k.decrypt_message(sys.argv[2]).hex())`, hex.EncodeToString(priv.Serialize()), enc)
			if got != hex.EncodeToString([]byte(m)) {
				t.Errorf("%q: Electrum decrypted %q", m, got)
			}
		}
	}
}

// TestWeDecryptElectrums: what Electrum's ECPubkey.encrypt_message makes,
// Decrypt reads back; another key gets ErrMAC, an altered byte ErrMAC, a
// cut or garbled text ErrBadCiphertext.
func TestWeDecryptElectrums(t *testing.T) {
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, pubForm := range [][]byte{priv.PubKey().SerializeCompressed(), priv.PubKey().SerializeUncompressed()} {
		for _, m := range messages {
			enc := electrumPy(t, `
import sys
from electrum import ecc
print(ecc.ECPubkey(bytes.fromhex(sys.argv[1])).encrypt_message(bytes.fromhex(sys.argv[2])).decode())`,
				hex.EncodeToString(pubForm), hex.EncodeToString([]byte(m)))
			got, err := Decrypt(priv, enc)
			if err != nil || string(got) != m {
				t.Fatalf("%q: got %q, %v", m, got, err)
			}
		}
	}
	enc := electrumPy(t, `
import sys
from electrum import ecc
print(ecc.ECPubkey(bytes.fromhex(sys.argv[1])).encrypt_message(b"secret plan").decode())`,
		hex.EncodeToString(priv.PubKey().SerializeCompressed()))
	other, _ := btcec.NewPrivateKey()
	if _, err := Decrypt(other, enc); !errors.Is(err, ErrMAC) {
		t.Errorf("another key: %v, want ErrMAC", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(enc)
	raw[40] ^= 1
	if _, err := Decrypt(priv, base64.StdEncoding.EncodeToString(raw)); !errors.Is(err, ErrMAC) {
		t.Errorf("altered: %v, want ErrMAC", err)
	}
	raw[40] ^= 1
	bad := map[string]string{
		"short":     base64.StdEncoding.EncodeToString(raw[:60]),
		"not b64":   "%%%" + enc,
		"magic":     base64.StdEncoding.EncodeToString(append([]byte("BIE2"), raw[4:]...)),
		"ephemeral": base64.StdEncoding.EncodeToString(append([]byte("BIE1\x05"), raw[5:]...)),
	}
	for name, s := range bad {
		if _, err := Decrypt(priv, s); !errors.Is(err, ErrBadCiphertext) {
			t.Errorf("%s: %v, want ErrBadCiphertext", name, err)
		}
	}
}

// TestRoundTrip: Encrypt then Decrypt gives the message back, and every
// encryption is fresh (a new ephemeral key).
func TestRoundTrip(t *testing.T) {
	priv, _ := btcec.NewPrivateKey()
	a, err := Encrypt(nil, priv.PubKey(), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Encrypt(nil, priv.PubKey(), []byte("x"))
	if a == b {
		t.Fatal("two encryptions are equal: the ephemeral key is not fresh")
	}
	for _, m := range messages {
		enc, _ := Encrypt(nil, priv.PubKey(), []byte(m))
		if got, err := Decrypt(priv, enc); err != nil || string(got) != m {
			t.Fatalf("%q: %q, %v", m, got, err)
		}
	}
}
