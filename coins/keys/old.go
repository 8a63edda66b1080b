package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/params"
)

// Electrum 1.x ("old") wallets: Electrum 4.3.4's Old_KeyStore. The seed is
// 12 or 24 words of the old word list (or 32 or 64 hex digits); its hex
// text is stretched into the master private key; each address is the
// uncompressed P2PKH of mpk + sha256d("i:c:" || mpk)·G.

// oldStretchRounds is Old_KeyStore.stretch_key's number of SHA-256 rounds.
const oldStretchRounds = 100000

// oldIndex returns the index of every old-list word. It is built once and
// never modified.
var oldIndex = sync.OnceValue(func() map[string]int {
	words := strings.Fields(oldWordsText)
	m := make(map[string]int, len(words))
	for i, w := range words {
		m[w] = i
	}
	return m
})

// oldMnDecode is Electrum's old_mnemonic.mn_decode: each group of three
// words becomes eight (or, for the largest values, nine) hex digits; words
// past the last whole group are ignored. ok is false when a word of a
// group is not in the old list.
func oldMnDecode(words []string) (string, bool) {
	idx := oldIndex()
	n := len(idx)
	var b strings.Builder
	for i := 0; i+3 <= len(words); i += 3 {
		w1, ok1 := idx[words[i]]
		w2, ok2 := idx[words[i+1]]
		w3, ok3 := idx[words[i+2]]
		if !ok1 || !ok2 || !ok3 {
			return "", false
		}
		mod := func(a int) int { return ((a % n) + n) % n }
		x := uint64(w1) + uint64(n)*uint64(mod(w2-w1)) + uint64(n)*uint64(n)*uint64(mod(w3-w2))
		s := strconv.FormatUint(x, 16)
		if len(s) < 8 {
			s = strings.Repeat("0", 8-len(s)) + s
		}
		b.WriteString(s)
	}
	return b.String(), true
}

// isOldSeed is Electrum 4.3.4's mnemonic.is_old_seed: after normalization
// the text is hex (bytes.fromhex: whitespace allowed between byte pairs)
// of 16 or 32 bytes, or 12 or 24 words that all are old-list words.
func isOldSeed(words string) bool { return isOldSeedNormalized(normalizeText(words)) }

// isOldSeedNormalized is is_old_seed of text already normalized (Electrum
// and Electron Cash normalize differently, then decide alike).
func isOldSeedNormalized(norm string) bool {
	if n, ok := pyFromHexLen(norm); ok && (n == 16 || n == 32) {
		return true
	}
	parts := pySplit(norm)
	if len(parts) != 12 && len(parts) != 24 {
		return false
	}
	_, ok := oldMnDecode(parts)
	return ok
}

// oldSeedHexNormalized is Old_KeyStore.format_seed of normalized text:
// the text itself when it is hex, else the mn_decode of its words.
func oldSeedHexNormalized(norm string) (string, bool) {
	if _, ok := pyFromHexLen(norm); ok && norm != "" {
		return norm, true
	}
	s, ok := oldMnDecode(pySplit(norm))
	return s, ok && s != ""
}

// oldKey is an old wallet's master key: its 64-byte public key (the mpk,
// X||Y) as an affine point. It is immutable.
type oldKey struct {
	mpk   [64]byte
	point btcec.JacobianPoint
}

// oldStretch is Old_KeyStore.stretch_key: x = seed; 100000 times
// x = SHA-256(x || seed); the result is the master private key (refused,
// as Electrum's ECPrivkey refuses it, if it is not below the curve order or
// is zero).
func oldStretch(seedHex string) (*btcec.ModNScalar, bool) {
	seed := []byte(seedHex)
	buf := make([]byte, 0, sha256.Size+len(seed))
	x := sha256.Sum256(append(append(buf, seed...), seed...))
	for i := 1; i < oldStretchRounds; i++ {
		buf = append(append(buf[:0], x[:]...), seed...)
		x = sha256.Sum256(buf)
	}
	clear(buf)
	var k btcec.ModNScalar
	overflow := k.SetByteSlice(x[:])
	clear(x[:])
	if overflow || k.IsZero() {
		return nil, false
	}
	return &k, true
}

// newOldKey builds the master key from its 64-byte public key; ok is false
// when the bytes are not a point on the curve.
func newOldKey(mpk []byte) (*oldKey, bool) {
	if len(mpk) != 64 {
		return nil, false
	}
	pk, err := btcec.ParsePubKey(append([]byte{0x04}, mpk...))
	if err != nil {
		return nil, false
	}
	k := &oldKey{}
	copy(k.mpk[:], mpk)
	pk.AsJacobian(&k.point)
	return k, true
}

// sequence is Old_KeyStore.get_sequence: sha256d("%d:%d:" % (index,
// change) || mpk) as a scalar (reduced modulo the curve order, which is
// what multiplying the base point by it does).
func (k *oldKey) sequence(change uint32, index uint32) btcec.ModNScalar {
	data := make([]byte, 0, 24+64)
	data = fmt.Appendf(data, "%d:%d:", index, change)
	data = append(data, k.mpk[:]...)
	h := chainhash.DoubleHashB(data)
	var z btcec.ModNScalar
	z.SetByteSlice(h)
	return z
}

// pubKey is Old_KeyStore.get_pubkey_from_mpk: mpk + sequence·G,
// serialized uncompressed (65 bytes).
func (k *oldKey) pubKey(change, index uint32) ([]byte, error) {
	z := k.sequence(change, index)
	var zG, sum btcec.JacobianPoint
	btcec.ScalarBaseMultNonConst(&z, &zG)
	btcec.AddNonConst(&zG, &k.point, &sum)
	if (sum.X.IsZero() && sum.Y.IsZero()) || sum.Z.IsZero() {
		return nil, errInvalidChild
	}
	sum.ToAffine()
	return btcec.NewPublicKey(&sum.X, &sum.Y).SerializeUncompressed(), nil
}

// privKey is Old_KeyStore's private key of (change, index):
// (master + sequence) mod n.
func (k *oldKey) privKey(master *btcec.ModNScalar, change, index uint32) (*btcec.PrivateKey, error) {
	z := k.sequence(change, index)
	z.Add(master)
	if z.IsZero() {
		return nil, errInvalidChild
	}
	p := btcec.PrivKeyFromScalar(&z)
	z.Zero()
	return p, nil
}

// newFromOldSeed builds an old wallet from an old seed (Electrum's
// from_seed with seed type "old").
func newFromOldSeed(words string, n *params.Network) (*Material, error) {
	return newFromOldSeedNormalized(normalizeText(words), n)
}

// newFromOldSeedNormalized is newFromOldSeed of normalized text (Electron
// Cash normalizes with its own rules, then restores alike).
func newFromOldSeedNormalized(norm string, n *params.Network) (*Material, error) {
	seedHex, ok := oldSeedHexNormalized(norm)
	if !ok {
		return nil, fmt.Errorf("%w: old seed", ErrUnrecognized)
	}
	priv, ok := oldStretch(seedHex)
	if !ok {
		return nil, fmt.Errorf("%w: old seed gives an invalid master key", ErrUnsupportedKey)
	}
	pub := btcec.PrivKeyFromScalar(priv).PubKey().SerializeUncompressed()
	m, err := newFromOldMPK(pub[1:], n)
	if err != nil {
		priv.Zero()
		return nil, err
	}
	m.kind, m.seedType = KindSeed, SeedTypeOld
	m.sec = &secrets{oldMaster: priv}
	return m, nil
}

// newFromOldMPK builds a watch-only old wallet from its master public key
// (64 bytes; Electrum's from_old_mpk).
func newFromOldMPK(mpk []byte, n *params.Network) (*Material, error) {
	k, ok := newOldKey(mpk)
	if !ok {
		return nil, fmt.Errorf("%w: old master public key is not a point", ErrUnrecognized)
	}
	m := &Material{kind: KindMasterPublic, net: n, scriptType: params.P2PKH, old: k,
		mpk: hex.EncodeToString(k.mpk[:])}
	h := sha256.New()
	h.Write(fingerprintHeader(n, "old"))
	h.Write(k.mpk[:])
	m.fingerprint = hex.EncodeToString(h.Sum(nil))
	return m, nil
}
