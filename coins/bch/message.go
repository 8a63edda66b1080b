package bch

import (
	"bytes"
	"encoding/base64"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/walletd/walletd/coins/btc"
)

// MessageMagic is the prefix Electron Cash hashes before a signed message
// (bitcoin.msg_magic): the same as Bitcoin's.
const MessageMagic = "\x18Bitcoin Signed Message:\n"

// MessageHash is Electron Cash's signed-message digest:
// sha256d(MessageMagic || varint(len(message)) || message), Bitcoin's.
func MessageHash(message string) []byte { return btc.MessageHash(MessageMagic, message) }

// SignMessage implements wallet.Signer as Electron Cash's signmessage: a 65-byte
// compact recoverable ECDSA signature (header 27+recid, +4 for a compressed
// key; message signatures are never Schnorr) over MessageHash, in base64.
func (Signer) SignMessage(key *btcec.PrivateKey, compressed bool, message string) (string, error) {
	return base64.StdEncoding.EncodeToString(ecdsa.SignCompact(key, MessageHash(message), compressed)), nil
}

// VerifyMessage implements wallet.Signer as Electron Cash's verify_message: the
// header is 27..34, the public key recovered from the signature (compressed
// when the header says so) must hash to the P2PKH script pkScript, and the
// signature must verify. Anything malformed is false.
func (Signer) VerifyMessage(pkScript []byte, signature, message string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != 65 || sig[0] < 27 || sig[0] >= 35 {
		return false
	}
	if len(pkScript) != 25 || pkScript[0] != 0x76 || pkScript[1] != 0xa9 || pkScript[2] != 20 {
		return false
	}
	pub, compressed, err := ecdsa.RecoverCompact(sig, MessageHash(message))
	if err != nil {
		return false
	}
	pubBytes := pub.SerializeUncompressed()
	if compressed {
		pubBytes = pub.SerializeCompressed()
	}
	return bytes.Equal(address.Hash160(pubBytes), pkScript[3:23])
}
