package keys

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcec/v2"
	bip39 "github.com/tyler-smith/go-bip39"
	"golang.org/x/text/unicode/norm"

	"github.com/walletd/walletd/coins/params"
)

// This file reads key material the way Electron Cash 4.4.2 (Bitcart's BCH
// daemon, Electron-Cash/Electron-Cash@492f050) does. It differs from
// Electrum 4.3.4 (material.go) in:
//
//   - seed types and their order (mnemonic.seed_type): "old" (Electrum 1.x:
//     12 or 24 words of the old list, or 32/64 hex digits), then "electrum"
//     (HMAC prefix "01" only; Electrum's segwit and 2fa prefixes are not
//     seeds), then "bip39" (English list, valid checksum);
//   - derivations (keystore.from_seed): electrum seeds at m/, BIP39 at
//     m/44'/145'/0' on every network, old seeds by Electrum 1.x's own scheme
//     (ecOldKeys) with uncompressed public keys;
//   - text normalization (mnemonic.normalize_text): accents are kept;
//   - one HD key type: p2pkh (xpub/tpub);
//   - WIF lists are one key per line (keystore.get_private_keys), WIF
//     without "type:" prefixes, version byte WIF_PREFIX (+5 for Electron
//     Cash's "p2sh" type, which it recognises but cannot import);
//   - addresses are cashaddr (params.CashAddr), legacy accepted;
//   - make_seed makes a 12-word BIP39 phrase.
//
// ParseElectronCash returns an *ECMaterial. For BIP32 and imported wallets it
// wraps the *Material the wallet engine already runs on (Material); old
// keystores have no Material until the family refactor moves ecOldKeys into
// Material (docs/family.md). The old-seed code here is walletd's own minimal
// copy: the BTC work on Electrum 1.x seeds carries its own, and the refactor
// keeps one.

// Electron Cash seed types (mnemonic.seed_type_names), as ElectronCashSeedType
// returns them and as its keystores store them.
const (
	ECSeedOld      = "old"
	ECSeedElectrum = "electrum"
	ECSeedBIP39    = "bip39"
)

// Derivations Electron Cash restores seeds at.
const (
	// ECDerivationElectrum is the account of an Electrum-format seed.
	ECDerivationElectrum = "m/"
	// ECDerivationBIP39 is keystore.bip44_derivation_145(0), used on every
	// network (testnets included).
	ECDerivationBIP39 = "m/44'/145'/0'"
)

// Electron Cash's wallet and keystore types, as restore reports them.
const (
	ECWalletStandard        = "standard"
	ECWalletImportedAddr    = "imported_addr"
	ECWalletImportedPrivkey = "imported_privkey"
	ECKeystoreBIP32         = "bip32"
	ECKeystoreOld           = "old"
	ECKeystoreImported      = "imported"
)

// ecNormalizeText is Electron Cash's mnemonic.normalize_text (not for
// passphrases): NFKD, Python's lower(), whitespace collapsed to single
// spaces, and the spaces between two CJK characters removed. Unlike
// Electrum's normalizeText it keeps combining characters (accents).
func ecNormalizeText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = pyLower(norm.NFKD.String(s))
	rs := []rune(strings.Join(pySplit(s), " "))
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		if r == ' ' && i > 0 && i+1 < len(rs) && isCJK(rs[i-1]) && isCJK(rs[i+1]) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// ecOldWords returns the old word list and each word's index. They are
// built once, on first use, and never modified.
var ecOldWords = sync.OnceValues(func() ([]string, map[string]int) {
	words := strings.Fields(ecOldWordList)
	idx := make(map[string]int, len(words))
	for i, w := range words {
		if _, dup := idx[w]; !dup {
			idx[w] = i
		}
	}
	return words, idx
})

// ecOldMnDecode is old_mnemonic.mn_decode: each group of three words gives
// eight hex digits (more when the three indices overflow 32 bits, which
// mn_encode never makes but mn_decode accepts); trailing words that do not
// fill a group are ignored. ok is false when a word of a group is not in the
// old list.
func ecOldMnDecode(words []string) (string, bool) {
	_, idx := ecOldWords()
	const n = 1626
	var b strings.Builder
	for i := 0; i+3 <= len(words); i += 3 {
		w1, ok1 := idx[words[i]]
		w2, ok2 := idx[words[i+1]]
		w3, ok3 := idx[words[i+2]]
		if !ok1 || !ok2 || !ok3 {
			return "", false
		}
		x := uint64(w1) + n*uint64(((w2-w1)%n+n)%n) + n*n*uint64(((w3-w2)%n+n)%n)
		fmt.Fprintf(&b, "%08x", x)
	}
	return b.String(), true
}

// ecIsOldSeed is old_mnemonic.mn_is_seed: after normalization, the text is
// bytes.fromhex-decodable to 16 or 32 bytes, or it is 12 or 24 words whose
// groups of three are all in the old list.
func ecIsOldSeed(s string) bool {
	t := ecNormalizeText(s)
	if n, ok := pyFromHexLen(t); ok && (n == 16 || n == 32) {
		return true
	}
	words := pySplit(t)
	if len(words) != 12 && len(words) != 24 {
		return false
	}
	_, ok := ecOldMnDecode(words)
	return ok
}

// ecIsElectrumSeed is mnemonic.is_electrum_seed with Electron Cash's only
// prefix, "01".
func ecIsElectrumSeed(s string) bool {
	m := hmac.New(sha512.New, []byte("Seed version"))
	m.Write([]byte(ecNormalizeText(s)))
	return strings.HasPrefix(hex.EncodeToString(m.Sum(nil)), "01")
}

// ecIsBIP39Seed is mnemonic.is_bip39_seed with the English list: every word
// in the list, 12/15/18/21/24 words, valid checksum.
func ecIsBIP39Seed(s string) bool {
	cs, _ := bip39ChecksumValid(ecNormalizeText(s))
	return cs
}

// ElectronCashSeedType returns the type Electron Cash 4.4.2 gives seed
// (mnemonic.seed_type_name, tried in its order): ECSeedOld, ECSeedElectrum,
// ECSeedBIP39, or "" when it is no seed. Case, extra whitespace and Unicode
// compatibility forms do not matter.
func ElectronCashSeedType(seed string) string {
	switch {
	case ecIsOldSeed(seed):
		return ECSeedOld
	case ecIsElectrumSeed(seed):
		return ECSeedElectrum
	case ecIsBIP39Seed(seed):
		return ECSeedBIP39
	}
	return ""
}

// ecIsOldMPK is Electron Cash's keystore.is_old_mpk: Python's int(s, 16)
// accepts s and s is 128 characters long. Unlike Electrum's it does not
// check that the key is a point on the curve (restoring such a key fails
// later, when its addresses are derived).
func ecIsOldMPK(s string) bool {
	return utf8.RuneCountInString(s) == 128 && pyIntBase16(s)
}

// pyIntBase16 reports whether Python's int(s, 16) accepts s: surrounding
// whitespace, an optional sign, an optional 0x prefix, then hex digits
// (Unicode decimal digits count as their value) with single underscores
// between them (also right after the prefix).
func pyIntBase16(s string) bool {
	s = pyStrip(s)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
		if strings.HasPrefix(s, "_") {
			s = s[1:]
		}
	}
	if s == "" {
		return false
	}
	prevUnderscore := true // no leading underscore
	for _, r := range s {
		switch {
		case r == '_':
			if prevUnderscore {
				return false
			}
			prevUnderscore = true
			continue
		case r < 0x80 && isHexDigit(byte(r)):
		case unicode.Is(unicode.Nd, r):
		default:
			return false
		}
		prevUnderscore = false
	}
	return !prevUnderscore
}

// ElectronCashIsMasterKey is Electron Cash's keystore.is_master_key on
// network b: an old master public key (see ecIsOldMPK), or an xprv/xpub
// (tprv/tpub on test networks) of the p2pkh type with a valid key. Nothing
// is trimmed.
func ElectronCashIsMasterKey(s string, b *params.BCHNetwork) bool {
	if b == nil {
		return false
	}
	if ecIsOldMPK(s) {
		return true
	}
	_, _, _, ok := parseExtKey(s, b.Network)
	return ok
}

// ElectronCashValidateKey is Bitcart's validatekey on Electron Cash: the
// string is a master key of the network or a seed of one of the three types
// (keystore.from_master_key and from_seed then succeed except with
// probability below 2^-127, which is not checked). Address and WIF lists are
// not keys.
func ElectronCashValidateKey(s string, b *params.BCHNetwork) bool {
	return ElectronCashIsMasterKey(s, b) || ElectronCashSeedType(s) != ""
}

// MakeElectronCashSeed returns a new BIP39 phrase as Electron Cash's
// make_seed does (Mnemonic.make_seed, English): nbits of entropy (0 means
// 128, giving 12 words; 160, 192, 224 and 256 are the other sizes), drawn
// again until the phrase is a BIP39 seed only (neither an Electrum-format
// nor an old seed). Other sizes are an error.
func MakeElectronCashSeed(nbits int) (string, error) {
	if nbits == 0 {
		nbits = 128
	}
	switch nbits {
	case 128, 160, 192, 224, 256:
	default:
		return "", fmt.Errorf("keys: seed strength must be 128, 160, 192, 224 or 256 bits, not %d", nbits)
	}
	entropy := make([]byte, nbits/8)
	defer clear(entropy)
	for {
		if _, err := rand.Read(entropy); err != nil {
			return "", fmt.Errorf("keys: reading entropy: %w", err)
		}
		seed, err := bip39.NewMnemonic(entropy)
		if err != nil {
			return "", fmt.Errorf("keys: bip39: %w", err)
		}
		if ecIsBIP39Seed(seed) && !ecIsElectrumSeed(seed) && !ecIsOldSeed(seed) {
			return seed, nil
		}
	}
}

// ecSeedBytes is Mnemonic.mnemonic_to_seed (salt "mnemonic", BIP39) and
// Mnemonic_Electrum.mnemonic_to_seed (salt "electrum"): PBKDF2-HMAC-SHA512
// of the normalized words, 2048 iterations, 64 bytes. The passphrase is
// NFKD-normalized only.
func ecSeedBytes(words, salt, passphrase string) ([]byte, error) {
	return pbkdf2.Key(sha512.New, ecNormalizeText(words), []byte(salt+norm.NFKD.String(passphrase)), 2048, 64)
}

// ECMaterial is key material as Electron Cash 4.4.2 restores it
// (restore_wallet_from_text): a BIP32 keystore (seed, xpub, xprv), an old
// (Electrum 1.x) keystore, or an imported wallet (address or WIF list). Its
// addresses are full cashaddrs of its network. It is immutable and safe for
// concurrent use; like Material, its printed forms show only its kind and
// fingerprint.
type ECMaterial struct {
	kind       Kind
	net        *params.BCHNetwork
	seedType   string
	derivation string
	keystore   string
	wallet     string

	m   *Material  // BIP32 and imported wallets
	old *ecOldKeys // old keystores
}

// Kind returns the kind of material (KindSeed for old seeds too,
// KindMasterPublic for an old master public key).
func (e *ECMaterial) Kind() Kind { return e.kind }

// Network returns the network the material was parsed for.
func (e *ECMaterial) Network() *params.BCHNetwork { return e.net }

// SeedType returns Electron Cash's keystore seed_type: ECSeedElectrum,
// ECSeedBIP39, ECSeedOld (for any old keystore, its master public key
// included: Electron Cash sets it when it loads the wallet), or "" for
// BIP32 keys and imported wallets.
func (e *ECMaterial) SeedType() string { return e.seedType }

// Derivation returns the account's derivation from a BIP32 seed
// (ECDerivationElectrum or ECDerivationBIP39), or "" (keys, old seeds,
// imported wallets).
func (e *ECMaterial) Derivation() string { return e.derivation }

// KeystoreType returns Electron Cash's keystore type: ECKeystoreBIP32,
// ECKeystoreOld, ECKeystoreImported (WIF list), or "" (address list).
func (e *ECMaterial) KeystoreType() string { return e.keystore }

// WalletType returns Electron Cash's wallet type: ECWalletStandard,
// ECWalletImportedAddr or ECWalletImportedPrivkey.
func (e *ECMaterial) WalletType() string { return e.wallet }

// Material returns the material as the wallet engine's *Material for BIP32
// and imported wallets, and nil for an old keystore. Its keys carry the
// right output scripts; their Address fields are legacy base58 until the
// family refactor gives params.Network its codec, so read addresses from
// ECMaterial.
func (e *ECMaterial) Material() *Material { return e.m }

// HasPrivateKeys reports whether the material can sign.
func (e *ECMaterial) HasPrivateKeys() bool {
	if e.old != nil {
		return e.old.sec != nil
	}
	return e.m.HasPrivateKeys()
}

// Deterministic reports whether addresses are derived (Derive works).
func (e *ECMaterial) Deterministic() bool { return e.old != nil || e.m.Deterministic() }

// ScriptType returns P2PKH for a deterministic or WIF wallet and
// ScriptUnknown for an address list.
func (e *ECMaterial) ScriptType() params.ScriptType {
	if e.old != nil {
		return params.P2PKH
	}
	return e.m.ScriptType()
}

// MasterPublicKey returns Electron Cash's getmpk: the account xpub/tpub, the
// 128-hex old master public key (as given, or lower case when made from a
// seed), or "" for an imported wallet.
func (e *ECMaterial) MasterPublicKey() string {
	if e.old != nil {
		return e.old.mpkText
	}
	return e.m.MasterPublicKey()
}

// Fingerprint returns the 64-hex identifier computed from public material
// only (see Material.Fingerprint; an old keystore hashes its 64-byte master
// public key). A seed, its xprv and its xpub share it.
func (e *ECMaterial) Fingerprint() string {
	if e.old != nil {
		return e.old.fingerprint
	}
	return e.m.Fingerprint()
}

// Derive returns the receiving (change=false) or change key at index of a
// deterministic wallet, with its full cashaddr. An imported wallet gives
// ErrNotDeterministic, a hardened index ErrInvalidIndex.
func (e *ECMaterial) Derive(change bool, index uint32) (Key, error) {
	var k Key
	var err error
	if e.old != nil {
		if index >= hardened {
			return Key{}, fmt.Errorf("%w: %d is hardened", ErrInvalidIndex, index)
		}
		k, err = e.old.derive(change, index)
	} else {
		k, err = e.m.Derive(change, index)
	}
	if err != nil {
		return Key{}, err
	}
	k.Address, err = e.net.Codec.Encode(k.PkScript)
	if err != nil {
		return Key{}, fmt.Errorf("keys: derive: %w", err)
	}
	return k, nil
}

// PrivKey returns the private key of Derive(change, index) (old keystores:
// of its uncompressed public key). Watch-only material gives
// ErrNoPrivateKey, an imported wallet ErrNotDeterministic. The returned key
// is a copy the caller may zero.
func (e *ECMaterial) PrivKey(change bool, index uint32) (*btcec.PrivateKey, error) {
	if e.old == nil {
		return e.m.PrivKey(change, index)
	}
	if e.old.sec == nil {
		return nil, ErrNoPrivateKey
	}
	if index >= hardened {
		return nil, fmt.Errorf("%w: %d is hardened", ErrInvalidIndex, index)
	}
	return e.old.privKey(change, index)
}

// Imported returns a copy of the keys of an imported wallet, ordered by
// cashaddr as Electron Cash lists them; nil for a deterministic wallet.
func (e *ECMaterial) Imported() []Key {
	if e.m == nil {
		return nil
	}
	return e.m.Imported()
}

// ImportedPrivKey returns the private key of address (any form: cashaddr
// with or without prefix, legacy) in an imported WIF wallet. Watch-only
// material gives ErrNoPrivateKey; an address not among the wallet's imported
// ones ErrUnknownAddress.
func (e *ECMaterial) ImportedPrivKey(address string) (*btcec.PrivateKey, error) {
	if !e.HasPrivateKeys() {
		return nil, ErrNoPrivateKey
	}
	if e.m == nil || e.m.sec.imported == nil {
		return nil, fmt.Errorf("%w: not an imported wallet", ErrUnknownAddress)
	}
	script, err := e.net.Codec.Decode(address)
	if err != nil {
		return nil, ErrUnknownAddress
	}
	i, ok := e.m.byScript[string(script)]
	if !ok {
		return nil, ErrUnknownAddress
	}
	return btcec.PrivKeyFromScalar(&e.m.sec.imported[i].Key), nil
}

// String returns "keys.ECMaterial{kind=…, fingerprint=…}" and nothing else.
func (e ECMaterial) String() string {
	return "keys.ECMaterial{kind=" + e.kind.String() + ", fingerprint=" + e.Fingerprint() + "}"
}

// GoString is String: %#v never shows key material.
func (e ECMaterial) GoString() string { return e.String() }

// Format prints String for every verb.
func (e ECMaterial) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.String())) }

// LogValue implements slog.LogValuer with the kind and fingerprint only.
func (e ECMaterial) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", e.kind.String()), slog.String("fingerprint", e.Fingerprint()))
}

// ParseElectronCash parses key material for network b exactly as Electron
// Cash 4.4.2's restore_wallet_from_text does, in its order, after trimming
// surrounding whitespace:
//
//  1. whitespace-separated addresses valid on b (cashaddr with or without
//     prefix, token-aware, or legacy): a watch-only imported_addr wallet;
//  2. WIF private keys (or minikeys), one per line (whitespace inside a line
//     is removed first, so several keys on one line are not a list): an
//     imported_privkey wallet;
//  3. a master key: xprv/tprv, an old master public key, xpub/tpub,
//     restored as the account key (receiving account/0/i, change
//     account/1/i);
//  4. a seed (ElectronCashSeedType): old, electrum (account m/) or bip39
//     (account m/44'/145'/0'), with an empty passphrase as Bitcart uses.
//
// Anything else (a key of another network, a ypub, an Electrum segwit seed)
// is an error wrapping ErrUnrecognized, Electron Cash's "Seed or key not
// recognized". A WIF of Electron Cash's p2sh type, or an old master public
// key that is not a point, is recognised but cannot be restored: an error
// wrapping ErrUnsupportedKey. Error texts never contain the material.
func ParseElectronCash(material string, b *params.BCHNetwork) (*ECMaterial, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: no network given", ErrUnrecognized)
	}
	text := pyStrip(material)
	if parts := pySplit(text); len(parts) > 0 && ecAllAddresses(parts, b) {
		return ecAddressList(parts, b)
	}
	if ecIsPrivateKeyList(text, b) {
		return ecWIFList(pySplit(text), b)
	}
	e := &ECMaterial{net: b, wallet: ECWalletStandard}
	if k, _, private, ok := parseExtKey(text, b.Network); ok && private {
		return e.bip32(k, true, KindMasterPrivate)
	}
	if ecIsOldMPK(text) {
		old, err := ecOldFromMPK(text, b.Network)
		if err != nil {
			return nil, err
		}
		e.kind, e.keystore, e.seedType, e.old = KindMasterPublic, ECKeystoreOld, ECSeedOld, old
		return e, nil
	}
	if k, _, _, ok := parseExtKey(text, b.Network); ok {
		return e.bip32(k, false, KindMasterPublic)
	}
	switch st := ElectronCashSeedType(text); st {
	case ECSeedOld:
		old, err := ecOldFromSeed(text, b.Network)
		if err != nil {
			return nil, err
		}
		e.kind, e.keystore, e.seedType, e.old = KindSeed, ECKeystoreOld, st, old
		return e, nil
	case ECSeedElectrum, ECSeedBIP39:
		salt, path := "electrum", []uint32(nil)
		e.derivation = ECDerivationElectrum
		if st == ECSeedBIP39 {
			salt, path = "mnemonic", []uint32{hardened + 44, hardened + params.BCHCoinType, hardened}
			e.derivation = ECDerivationBIP39
		}
		seed, err := ecSeedBytes(text, salt, "")
		if err != nil {
			return nil, fmt.Errorf("keys: seed derivation: %w", err)
		}
		k, err := masterFromSeed(seed)
		clear(seed)
		if err != nil {
			return nil, fmt.Errorf("%w: seed gives an invalid master key", ErrUnsupportedKey)
		}
		for _, i := range path {
			if k, err = k.child(i); err != nil {
				return nil, fmt.Errorf("keys: derive %s: %w", e.derivation, err)
			}
		}
		e.seedType = st
		return e.bip32(k, true, KindSeed)
	}
	return nil, fmt.Errorf("%w for %s (Seed or key not recognized)", ErrUnrecognized, b)
}

// bip32 finishes a BIP32 keystore whose account key is k.
func (e *ECMaterial) bip32(k *extKey, private bool, kind Kind) (*ECMaterial, error) {
	m, err := newFromExtKey(k, params.P2PKH, private, e.net.Network)
	if err != nil {
		return nil, err
	}
	m.kind = kind
	e.kind, e.keystore, e.m = kind, ECKeystoreBIP32, m
	return e, nil
}

func ecAllAddresses(parts []string, b *params.BCHNetwork) bool {
	for _, p := range parts {
		if !b.Codec.Valid(p) {
			return false
		}
	}
	return true
}

// ecAddressList builds a watch-only imported_addr wallet: one key per
// distinct script, named by its full cashaddr, sorted as Electron Cash sorts
// them (by the prefix-less cashaddr).
func ecAddressList(parts []string, b *params.BCHNetwork) (*ECMaterial, error) {
	m := &Material{kind: KindAddressList, net: b.Network}
	for _, p := range parts {
		script, err := b.Codec.Decode(p)
		if err != nil { // cannot happen: every part was validated
			return nil, fmt.Errorf("%w: invalid address in list", ErrUnrecognized)
		}
		addr, err := b.Codec.Encode(script)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnrecognized, err)
		}
		m.keys = append(m.keys, Key{Address: addr, PkScript: script})
	}
	m.finishImported(nil)
	return &ECMaterial{kind: KindAddressList, net: b, wallet: ECWalletImportedAddr, m: m}, nil
}

// ecWIF is a private key as Electron Cash's bitcoin.deserialize_privkey
// reads it.
type ecWIF struct {
	priv       *btcec.PrivateKey
	compressed bool
	p2sh       bool // Electron Cash's "p2sh" WIF type: recognised, not importable
}

// ecDeserializePrivKey is bitcoin.deserialize_privkey: a minikey
// (uncompressed), or base58check of WIF_PREFIX (or WIF_PREFIX+5, "p2sh"),
// the 32-byte secret, and 0x01 when compressed. The secret is reduced
// modulo the curve order and must not be zero.
func ecDeserializePrivKey(s string, n *params.Network) (*ecWIF, bool) {
	if isMinikey(s) {
		h := sha256.Sum256([]byte(s))
		priv, ok := privFromBytesMod(h[:])
		clear(h[:])
		return &ecWIF{priv: priv}, ok
	}
	vch, ok := decodeBase58Check(s, maxWIFLen)
	if !ok || len(vch) == 0 {
		return nil, false
	}
	defer clear(vch)
	w := &ecWIF{}
	switch int(vch[0]) - int(n.WIFPrefix) {
	case 0:
	case 5:
		w.p2sh = true
	default:
		return nil, false
	}
	switch {
	case len(vch) == 34 && vch[33] == 0x01:
		w.compressed = true
	case len(vch) == 33:
	default:
		return nil, false
	}
	if w.priv, ok = privFromBytesMod(vch[1:33]); !ok {
		return nil, false
	}
	return w, true
}

// ecIsPrivateKeyList is keystore.is_private_key_list: the text split at
// "\n", whitespace removed inside each line, empty lines dropped, and every
// line a private key.
func ecIsPrivateKeyList(text string, b *params.BCHNetwork) bool {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		k := strings.Join(pySplit(line), "")
		if k == "" {
			continue
		}
		if _, ok := ecDeserializePrivKey(k, b.Network); !ok {
			return false
		}
		n++
	}
	return n > 0
}

// ecWIFList builds an imported_privkey wallet from the whitespace-separated
// tokens of the text (ImportedPrivkeyWallet.from_text): every token must be
// an importable key.
func ecWIFList(tokens []string, b *params.BCHNetwork) (*ECMaterial, error) {
	m := &Material{kind: KindWIFList, net: b.Network, sec: &secrets{}, scriptType: params.P2PKH}
	var privs []*btcec.PrivateKey
	for _, tok := range tokens {
		w, ok := ecDeserializePrivKey(tok, b.Network)
		if !ok {
			return nil, fmt.Errorf("%w: a line of the key list is not one private key", ErrUnrecognized)
		}
		if w.p2sh {
			return nil, fmt.Errorf("%w: a private key of Electron Cash's p2sh type cannot be imported", ErrUnsupportedKey)
		}
		pub := w.priv.PubKey().SerializeUncompressed()
		if w.compressed {
			pub = w.priv.PubKey().SerializeCompressed()
		}
		addr, script, err := b.PubKeyAddress(pub)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		m.keys = append(m.keys, Key{Address: addr, PkScript: script, PubKey: pub, ScriptType: params.P2PKH})
		privs = append(privs, w.priv)
	}
	m.finishImported(privs)
	return &ECMaterial{kind: KindWIFList, net: b, wallet: ECWalletImportedPrivkey,
		keystore: ECKeystoreImported, m: m}, nil
}
