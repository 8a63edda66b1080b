package params

import (
	"crypto/sha256"

	"golang.org/x/crypto/scrypt"
)

// PoWAlgorithm names the proof-of-work hash of a coin's block headers.
type PoWAlgorithm int

const (
	// PoWSHA256d is Bitcoin's double SHA-256 (the zero value).
	PoWSHA256d PoWAlgorithm = iota
	// PoWScrypt is Litecoin's scrypt (N=1024, r=1, p=1, the 80-byte header
	// as both password and salt, 32-byte output).
	PoWScrypt
)

// PoWHash returns the proof-of-work hash of an 80-byte serialized block
// header, in internal byte order (compare it, reversed, with the target as
// chainhash does). For SHA-256d it equals the block hash; for scrypt it does
// not (Litecoin's block hash stays SHA-256d). A header of another length
// hashes whatever it is given.
func (n *Network) PoWHash(header []byte) [32]byte {
	var out [32]byte
	if n.PoW == PoWScrypt {
		h, err := scrypt.Key(header, header, 1024, 1, 1, 32)
		if err != nil {
			panic(err) // only for invalid constant parameters
		}
		copy(out[:], h)
		return out
	}
	first := sha256.Sum256(header)
	return sha256.Sum256(first[:])
}
