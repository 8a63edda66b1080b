package keys

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
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
//     m/44'/145'/0' on every network, old seeds by Electrum 1.x's scheme
//     (old.go, shared with BTC) with uncompressed public keys;
//   - text normalization (mnemonic.normalize_text): accents are kept;
//   - one HD key type: p2pkh (xpub/tpub);
//   - WIF lists are one key per line (keystore.get_private_keys), WIF
//     without "type:" prefixes, version byte WIF_PREFIX (+5 for Electron
//     Cash's "p2sh" type, which it recognises but cannot import);
//   - addresses are cashaddr (the network's Codec), legacy accepted, printed
//     without their prefix;
//   - make_seed makes a 12-word BIP39 phrase.
//
// ParseElectronCash returns the same *Material the wallet engine runs on
// for every coin; SeedType, Derivation, ECKeystoreType and ECWalletType
// report what Electron Cash's restore says of it.

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

// ecIsOldSeed is old_mnemonic.mn_is_seed: after normalization, the text is
// bytes.fromhex-decodable to 16 or 32 bytes, or it is 12 or 24 words whose
// groups of three are all in the old list.
func ecIsOldSeed(s string) bool { return isOldSeedNormalized(ecNormalizeText(s)) }

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
		s = strings.TrimPrefix(s[2:], "_")
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
func ElectronCashIsMasterKey(s string, n *params.Network) bool {
	if n == nil {
		return false
	}
	if ecIsOldMPK(s) {
		return true
	}
	_, _, _, ok := parseExtKey(s, n)
	return ok
}

// ElectronCashValidateKey is Bitcart's validatekey on Electron Cash: the
// string is a master key of the network or a seed of one of the three types
// (keystore.from_master_key and from_seed then succeed except with
// probability below 2^-127, which is not checked). Address and WIF lists are
// not keys.
func ElectronCashValidateKey(s string, n *params.Network) bool {
	if len(s) > MaxMaterialBytes {
		return false
	}
	return ElectronCashIsMasterKey(s, n) || ElectronCashSeedType(s) != ""
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

// ECKeystoreType returns Electron Cash's keystore type of material parsed
// by ParseElectronCash: ECKeystoreBIP32, ECKeystoreOld, ECKeystoreImported
// (WIF list), or "" (address list).
func (m *Material) ECKeystoreType() string {
	switch {
	case m.old != nil:
		return ECKeystoreOld
	case m.chains != nil:
		return ECKeystoreBIP32
	case m.kind == KindWIFList:
		return ECKeystoreImported
	}
	return ""
}

// ECWalletType returns Electron Cash's wallet type of material parsed by
// ParseElectronCash: ECWalletStandard, ECWalletImportedAddr or
// ECWalletImportedPrivkey.
func (m *Material) ECWalletType() string {
	switch m.kind {
	case KindAddressList:
		return ECWalletImportedAddr
	case KindWIFList:
		return ECWalletImportedPrivkey
	}
	return ECWalletStandard
}

// ParseElectronCash parses key material for network n (a BCH network:
// its Codec is cashaddr) exactly as Electron Cash 4.4.2's
// restore_wallet_from_text does, in its order, after trimming surrounding
// whitespace:
//
//  1. whitespace-separated addresses valid on n (cashaddr with or without
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
// Material beyond Parse's bounds (MaxMaterialBytes, MaxParts, MaxPartBytes)
// is refused first. Anything else (a key of another network, a ypub, an
// Electrum segwit seed) is an error wrapping ErrUnrecognized, Electron
// Cash's "Seed or key not recognized". A WIF of Electron Cash's p2sh type,
// or an old master public key that is not a point, is recognised but cannot
// be restored: an error wrapping ErrUnsupportedKey. Error texts never
// contain the material. Addresses of the result are the network's printed
// form (the cashaddr without its prefix).
func ParseElectronCash(material string, n *params.Network) (*Material, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: no network given", ErrUnrecognized)
	}
	if err := checkBounds(material); err != nil {
		return nil, err
	}
	text := pyStrip(material)
	if parts := pySplit(text); len(parts) > 0 && allValidAddresses(parts, n) {
		return ecAddressList(parts, n)
	}
	if ecIsPrivateKeyList(text, n) {
		return ecWIFList(pySplit(text), n)
	}
	if k, _, private, ok := parseExtKey(text, n); ok && private {
		return newFromExtKey(k, params.P2PKH, true, n)
	}
	if ecIsOldMPK(text) {
		raw, err := hex.DecodeString(text)
		if err != nil || len(raw) != 64 {
			return nil, fmt.Errorf("%w: old master public key is not 64 bytes of hex", ErrUnsupportedKey)
		}
		m, err := newFromOldMPK(raw, n)
		if err != nil {
			return nil, fmt.Errorf("%w: old master public key is not a point", ErrUnsupportedKey)
		}
		m.mpk, m.seedType = text, ECSeedOld // getmpk shows it as given
		return m, nil
	}
	if k, _, _, ok := parseExtKey(text, n); ok {
		return newFromExtKey(k, params.P2PKH, false, n)
	}
	switch st := ElectronCashSeedType(text); st {
	case ECSeedOld:
		m, err := newFromOldSeedNormalized(ecNormalizeText(text), n)
		if err != nil {
			return nil, err
		}
		m.seedType = st
		return m, nil
	case ECSeedElectrum, ECSeedBIP39:
		salt, path, derivation := "electrum", []uint32(nil), ECDerivationElectrum
		if st == ECSeedBIP39 {
			salt, path = "mnemonic", []uint32{hardened + 44, hardened + params.BCHCoinType, hardened}
			derivation = ECDerivationBIP39
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
				return nil, fmt.Errorf("keys: derive %s: %w", derivation, err)
			}
		}
		m, err := newFromExtKey(k, params.P2PKH, true, n)
		if err != nil {
			return nil, err
		}
		m.kind, m.seedType, m.derivation = KindSeed, st, derivation
		return m, nil
	}
	return nil, fmt.Errorf("%w for %s (Seed or key not recognized)", ErrUnrecognized, n)
}

// ecAddressList builds a watch-only imported_addr wallet: one key per
// distinct script, named by its printed (prefix-less) cashaddr, sorted as
// Electron Cash sorts them.
func ecAddressList(parts []string, n *params.Network) (*Material, error) {
	m := &Material{kind: KindAddressList, net: n}
	for _, p := range parts {
		script, err := n.PkScript(p)
		if err != nil { // cannot happen: every part was validated
			return nil, fmt.Errorf("%w: invalid address in list", ErrUnrecognized)
		}
		addr, ok := n.AddressFromScript(script)
		if !ok {
			return nil, fmt.Errorf("%w: an address of the list has no printed form", ErrUnrecognized)
		}
		m.keys = append(m.keys, Key{Address: addr, PkScript: script})
	}
	m.finishImported(nil)
	return m, nil
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
func ecIsPrivateKeyList(text string, n *params.Network) bool {
	count := 0
	for _, line := range strings.Split(text, "\n") {
		k := strings.Join(pySplit(line), "")
		if k == "" {
			continue
		}
		if _, ok := ecDeserializePrivKey(k, n); !ok {
			return false
		}
		count++
	}
	return count > 0
}

// ecWIFList builds an imported_privkey wallet from the whitespace-separated
// tokens of the text (ImportedPrivkeyWallet.from_text): every token must be
// an importable key.
func ecWIFList(tokens []string, n *params.Network) (*Material, error) {
	m := &Material{kind: KindWIFList, net: n, sec: &secrets{}, scriptType: params.P2PKH}
	var privs []*btcec.PrivateKey
	for _, tok := range tokens {
		w, ok := ecDeserializePrivKey(tok, n)
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
		addr, script, err := n.PubKeyAddress(params.P2PKH, pub)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		m.keys = append(m.keys, Key{Address: addr, PkScript: script, PubKey: pub, ScriptType: params.P2PKH})
		privs = append(privs, w.priv)
	}
	m.finishImported(privs)
	return m, nil
}
