package keys

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/tyler-smith/go-bip39/wordlists"
)

// Seed types returned by SeedType, with Electrum's names.
const (
	SeedTypeOld       = "old"
	SeedTypeStandard  = "standard"
	SeedTypeSegwit    = "segwit"
	SeedType2FA       = "2fa"
	SeedType2FASegwit = "2fa_segwit"
)

// seedPrefix is Electrum 4.3.4's version.seed_prefix: the hex prefix of
// HMAC-SHA512("Seed version", normalized seed) that marks each seed type.
func seedPrefix(seedType string) (string, bool) {
	switch seedType {
	case SeedTypeStandard:
		return "01", true
	case SeedTypeSegwit:
		return "100", true
	case SeedType2FA:
		return "101", true
	case SeedType2FASegwit:
		return "102", true
	}
	return "", false
}

// seedVersionHex returns hex(HMAC-SHA512(key "Seed version", normalized)).
func seedVersionHex(normalized string) string {
	m := hmac.New(sha512.New, []byte("Seed version"))
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// SeedType returns the Electrum seed type of words exactly as Electrum
// 4.3.4's mnemonic.seed_type does: "old", "standard", "segwit", "2fa",
// "2fa_segwit", or "" when words is not an Electrum seed (a BIP39 mnemonic
// such as "abandon ... about" is not one). Words are normalized first
// (NFKD, lower case, accents removed, whitespace collapsed, spaces between
// CJK characters removed), so case, accents and extra whitespace do not
// matter. Old seeds are recognised in both forms: 12 or 24 words of
// Electrum's old word list, and 32 or 64 hex digits. Text longer than
// MaxMaterialBytes is no seed ("").
func SeedType(words string) string {
	if len(words) > MaxMaterialBytes {
		return ""
	}
	if isOldSeed(words) {
		return SeedTypeOld
	}
	v := seedVersionHex(normalizeText(words))
	numWords := len(pySplit(words))
	switch {
	case strings.HasPrefix(v, "01"):
		return SeedTypeStandard
	case strings.HasPrefix(v, "100"):
		return SeedTypeSegwit
	case strings.HasPrefix(v, "101") && (numWords == 12 || numWords >= 20):
		// Electrum 2.7 changed 2fa derivation but kept the prefix; only
		// the word count tells the two apart.
		return SeedType2FA
	case strings.HasPrefix(v, "102"):
		return SeedType2FASegwit
	}
	return ""
}

// pyFromHexLen returns the number of bytes Python's bytes.fromhex(s) would
// return, or ok=false where it would raise: pairs of hex digits, with ASCII
// whitespace allowed before each pair (not inside one).
func pyFromHexLen(s string) (n int, ok bool) {
	i := 0
	for {
		for i < len(s) && strings.IndexByte(" \t\n\r\v\f", s[i]) >= 0 {
			i++
		}
		if i == len(s) {
			return n, true
		}
		if i+1 >= len(s) || !isHexDigit(s[i]) || !isHexDigit(s[i+1]) {
			return 0, false
		}
		i += 2
		n++
	}
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// bip32SeedFromWords is Electrum's Mnemonic.mnemonic_to_seed:
// PBKDF2-HMAC-SHA512(normalized words, "electrum" + normalized passphrase,
// 2048 iterations, 64 bytes).
func bip32SeedFromWords(words, passphrase string) ([]byte, error) {
	salt := []byte("electrum" + normalizeText(passphrase))
	return pbkdf2.Key(sha512.New, normalizeText(words), salt, 2048, 64)
}

// englishIndex returns the index of every word of Electrum's english.txt
// (equal to BIP39's English list, which go-bip39 ships). It is built once and
// never modified.
var englishIndex = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(wordlists.English))
	for i, w := range wordlists.English {
		m[w] = i
	}
	return m
})

// englishWords returns the BIP39 English word list (2048 words). Callers must
// not modify it.
func englishWords() []string { return wordlists.English }

// mnemonicEncode is Electrum's Mnemonic.mnemonic_encode: i written in base
// 2048, least significant word first.
func mnemonicEncode(i *big.Int) string {
	words := englishWords()
	n := big.NewInt(int64(len(words)))
	x := new(big.Int).Set(i)
	m := new(big.Int)
	var out []string
	for x.Sign() > 0 {
		x.DivMod(x, n, m)
		out = append(out, words[m.Int64()])
	}
	return strings.Join(out, " ")
}

// mnemonicDecode is Electrum's Mnemonic.mnemonic_decode, the inverse of
// mnemonicEncode; ok is false if a word is not in the list.
func mnemonicDecode(seed string) (*big.Int, bool) {
	idx := englishIndex()
	words := pySplit(seed)
	n := big.NewInt(int64(len(englishWords())))
	i := new(big.Int)
	for k := len(words) - 1; k >= 0; k-- {
		w, ok := idx[words[k]]
		if !ok {
			return nil, false
		}
		i.Mul(i, n)
		i.Add(i, big.NewInt(int64(w)))
	}
	return i, true
}

// bip39ChecksumValid is Electrum's keystore.bip39_is_checksum_valid with the
// English list: (checksum valid, all words in the list).
func bip39ChecksumValid(mnemonic string) (checksumOK, wordlistOK bool) {
	idx := englishIndex()
	words := pySplit(mnemonic)
	i := new(big.Int)
	n := big.NewInt(2048)
	for _, w := range words {
		k, ok := idx[w]
		if !ok {
			return false, false
		}
		i.Mul(i, n)
		i.Add(i, big.NewInt(int64(k)))
	}
	switch len(words) {
	case 12, 15, 18, 21, 24:
	default:
		return false, true
	}
	csLen := uint(11 * len(words) / 33)
	entLen := 32 * csLen
	cs := new(big.Int).And(i, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), csLen), big.NewInt(1)))
	ent := new(big.Int).Rsh(i, csLen)
	entBytes := ent.FillBytes(make([]byte, entLen/8))
	h := sha256.Sum256(entBytes)
	calc := new(big.Int).Rsh(new(big.Int).SetBytes(h[:]), 256-csLen)
	return cs.Cmp(calc) == 0, true
}

// Bounds of MakeSeed's entropy. Electrum has none: below 12 bits its
// make_seed returns a seed with no randomness at all, and a huge value makes
// it run for ever (each attempt encodes and decodes the whole number).
// walletd refuses both: 256 bits (24 words) is twice what Electrum's wizard
// and Bitcart ask for (132).
const (
	minSeedBits = 128
	maxSeedBits = 256
)

// MakeSeed returns a new Electrum seed of the given type ("" means "segwit";
// "standard", "segwit", "2fa", "2fa_segwit") with at least nbits bits of
// entropy (0 means 132), following Electrum 4.3.4's Mnemonic.make_seed with
// the English word list: nbits is rounded up to a whole number of 11-bit
// words, entropy is drawn from crypto/rand until it fills the top word, and a
// nonce is added until the seed has the type's prefix, is not an old seed and
// is not also a valid BIP39 mnemonic. An unknown type, or nbits outside
// 128..256 (other than 0), is an error; so is ctx ending before a seed is
// found (a few thousand attempts for the segwit and 2fa prefixes).
func MakeSeed(ctx context.Context, seedType string, nbits int) (string, error) {
	if seedType == "" {
		seedType = SeedTypeSegwit
	}
	prefix, ok := seedPrefix(seedType)
	if !ok {
		return "", fmt.Errorf("keys: unknown seed type %q (accepted: standard, segwit, 2fa, 2fa_segwit)", seedType)
	}
	if nbits == 0 {
		nbits = 132
	}
	if nbits < minSeedBits || nbits > maxSeedBits {
		return "", fmt.Errorf("keys: seed entropy must be between %d and %d bits", minSeedBits, maxSeedBits)
	}
	const bpw = 11 // log2(2048), exact
	numBits := (nbits + bpw - 1) / bpw * bpw
	limit := new(big.Int).Lsh(big.NewInt(1), uint(numBits))
	floor := new(big.Int).Lsh(big.NewInt(1), uint(numBits-bpw))
	entropy := big.NewInt(1)
	for entropy.Cmp(floor) < 0 {
		e, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", fmt.Errorf("keys: reading entropy: %w", err)
		}
		entropy = e
	}
	i := new(big.Int).Set(entropy)
	one := big.NewInt(1)
	for attempt := 0; ; attempt++ {
		if attempt%256 == 0 && ctx.Err() != nil {
			return "", fmt.Errorf("keys: making a seed: %w", ctx.Err())
		}
		i.Add(i, one)
		seed := mnemonicEncode(i)
		if back, ok := mnemonicDecode(seed); !ok || back.Cmp(i) != 0 {
			return "", fmt.Errorf("keys: cannot extract same entropy from mnemonic")
		}
		if isOldSeed(seed) {
			continue
		}
		if cs, wl := bip39ChecksumValid(seed); cs && wl {
			continue
		}
		if strings.HasPrefix(seedVersionHex(normalizeText(seed)), prefix) {
			return seed, nil
		}
	}
}
