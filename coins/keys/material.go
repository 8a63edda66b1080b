package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/params"
)

// Sentinel errors. Every error of this package wraps one of them (test with
// errors.Is). No error text ever contains the key material it was given.
var (
	// ErrUnrecognized: the string is none of the accepted kinds of key
	// material for the network (this includes a valid key of another network).
	ErrUnrecognized = errors.New("keys: key material not recognized")
	// ErrUnsupportedKey: the string is key material Electrum recognises
	// (ValidateKey may be true) but that no Electrum standard wallet runs
	// from either: 2fa seeds, multisig (p2wsh) extended keys, and WIF lists
	// with no single-key script type.
	ErrUnsupportedKey = errors.New("keys: unsupported key material")
	// ErrNotDeterministic: a derivation was asked of an imported wallet.
	ErrNotDeterministic = errors.New("keys: wallet is not deterministic")
	// ErrNoPrivateKey: a private key was asked of watch-only material.
	ErrNoPrivateKey = errors.New("keys: wallet has no private keys")
	// ErrUnknownAddress: an address is not one of the imported wallet's.
	ErrUnknownAddress = errors.New("keys: address not in wallet")
	// ErrInvalidIndex: a derivation index is hardened (>= 2^31).
	ErrInvalidIndex = errors.New("keys: invalid derivation index")
)

// Kind is the kind of key material a Material was parsed from.
type Kind int

// Kinds of key material.
const (
	// KindSeed is an Electrum seed ("standard" or "segwit").
	KindSeed Kind = iota + 1
	// KindMasterPublic is an extended public key (xpub/ypub/zpub, tpub/upub/vpub).
	KindMasterPublic
	// KindMasterPrivate is an extended private key (xprv/yprv/zprv, tprv/uprv/vprv).
	KindMasterPrivate
	// KindAddressList is a whitespace-separated list of addresses (watch-only).
	KindAddressList
	// KindWIFList is a whitespace-separated list of WIF private keys.
	KindWIFList
)

// String returns a stable lower-case name: "seed", "master_public_key",
// "master_private_key", "address_list", "wif_list" (or "unknown").
func (k Kind) String() string {
	switch k {
	case KindSeed:
		return "seed"
	case KindMasterPublic:
		return "master_public_key"
	case KindMasterPrivate:
		return "master_private_key"
	case KindAddressList:
		return "address_list"
	case KindWIFList:
		return "wif_list"
	}
	return "unknown"
}

// Key is one address of a wallet with what is needed to watch and spend it.
type Key struct {
	// Address is the address in its network's encoding. For a deterministic
	// wallet it is derived; for an imported address list it is the string as
	// given (Electrum keeps an upper-case bech32 address in upper case).
	Address string
	// PkScript is the output script paying to Address.
	PkScript []byte
	// PubKey is the serialized public key: 33 bytes compressed, or 65 bytes
	// for an uncompressed WIF or minikey. Nil for an imported address.
	PubKey []byte
	// ScriptType is the key's script type; ScriptUnknown for an imported
	// address (Electrum's txin_type "address").
	ScriptType params.ScriptType
	// Change is true for the change chain (m/…/1/i) of a deterministic wallet.
	Change bool
	// Index is the address index within its chain, or the position in
	// Imported() (sorted by address, as Electrum lists them) for an imported
	// wallet.
	Index uint32
}

// clone returns a deep copy of k.
func (k Key) clone() Key {
	k.PkScript = slices.Clone(k.PkScript)
	k.PubKey = slices.Clone(k.PubKey)
	return k
}

// Material is parsed key material: a deterministic wallet (seed, extended
// key) or an imported one (address or WIF list). It is immutable after Parse
// and safe for concurrent use. Private keys live only inside it, in memory;
// its String, GoString, Format and LogValue show only its kind and
// fingerprint, and the secrets sit behind a pointer so that even a
// reflection-based dump of the struct cannot print them.
type Material struct {
	kind        Kind
	net         *params.Network
	scriptType  params.ScriptType
	fingerprint string
	seedType    string // the seed's type ("standard", "segwit", "old"; Electron Cash: "electrum", "bip39", "old")
	derivation  string // the account's derivation from a BIP32 seed ("m/", "m/0'", "m/44'/145'/0'")

	// deterministic wallets
	mpk    string    // account xpub in the network's SLIP-132 form (old wallets: 128 hex digits)
	chains *hdChains // public receiving (m/…/0) and change (m/…/1) chain keys
	old    *oldKey   // an Electrum 1.x wallet's master key, instead of chains

	// imported wallets
	keys     []Key
	byScript map[string]int // string(PkScript) -> index in keys

	sec *secrets // nil for watch-only material
}

// secrets holds the private keys of a Material.
type secrets struct {
	account   *extKey             // private account key of a deterministic wallet
	chains    [2]*extKey          // private chain keys of a deterministic wallet
	imported  []*btcec.PrivateKey // parallel to Material.keys for a WIF list
	oldMaster *btcec.ModNScalar   // master private key of an Electrum 1.x wallet
}

// Kind returns the kind of key material.
func (m *Material) Kind() Kind { return m.kind }

// Network returns the network the material was parsed for.
func (m *Material) Network() *params.Network { return m.net }

// ScriptType returns the wallet's script type: the type of every derived
// address of a deterministic wallet, the common type of an imported WIF list
// (ScriptUnknown if its keys mix types), and ScriptUnknown for an address list.
func (m *Material) ScriptType() params.ScriptType { return m.scriptType }

// SeedType returns the type of the seed the material was restored from,
// as its wallet names it: Electrum's "standard", "segwit" or "old";
// Electron Cash's ECSeedElectrum, ECSeedBIP39 or ECSeedOld (which Electron
// Cash also gives an old master public key). "" for keys and imported
// wallets.
func (m *Material) SeedType() string { return m.seedType }

// Derivation returns the account's derivation from a BIP32 seed ("m/",
// Electrum's "m/0'" for segwit seeds, Electron Cash's ECDerivationBIP39),
// or "" (keys, old seeds, imported wallets).
func (m *Material) Derivation() string { return m.derivation }

// HasPrivateKeys reports whether the material can sign (seed, extended
// private key, WIF list).
func (m *Material) HasPrivateKeys() bool { return m.sec != nil }

// Deterministic reports whether addresses are derived (seed or extended key)
// rather than imported; Derive works exactly when it is true.
func (m *Material) Deterministic() bool { return m.chains != nil || m.old != nil }

// Old reports whether the material is an Electrum 1.x ("old") wallet: an old
// seed or an old master public key. Its keys are uncompressed P2PKH and its
// MasterPublicKey is 128 hex digits; it has no BIP32 derivation.
func (m *Material) Old() bool { return m.old != nil }

// MasterPublicKey returns the account-level extended public key in the
// network's SLIP-132 form (zpub/vpub for segwit, xpub/tpub for standard, …),
// which is what Electrum's getmpk returns; for an old wallet its master
// public key in 128 lower-case hex digits; "" for an imported wallet.
func (m *Material) MasterPublicKey() string { return m.mpk }

// Fingerprint returns a stable identifier (64 hex characters) computed only
// from public material: coin, network, script type and the account xpub
// serialization for a deterministic wallet; coin, network and the sorted set
// of output scripts for an imported wallet. A wallet given as seed, as its
// xprv or as its xpub has one fingerprint, and so has a WIF list and the list
// of its addresses.
func (m *Material) Fingerprint() string { return m.fingerprint }

// String returns "keys.Material{kind=…, fingerprint=…}" and nothing else.
func (m Material) String() string {
	return "keys.Material{kind=" + m.kind.String() + ", fingerprint=" + m.fingerprint + "}"
}

// GoString is String: %#v never shows key material.
func (m Material) GoString() string { return m.String() }

// Format prints String for every verb, so no fmt verb can reach the fields.
func (m Material) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(m.String())) }

// LogValue implements slog.LogValuer with the kind and fingerprint only.
func (m Material) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", m.kind.String()), slog.String("fingerprint", m.fingerprint))
}

// Derive returns the key at index of the receiving chain (change=false) or
// the change chain (change=true) of a deterministic wallet: account/0/index
// or account/1/index, as Electrum derives it. It costs one public child
// derivation. An imported wallet gives ErrNotDeterministic, a hardened index
// ErrInvalidIndex.
func (m *Material) Derive(change bool, index uint32) (Key, error) {
	if !m.Deterministic() {
		return Key{}, ErrNotDeterministic
	}
	if index >= hardened {
		return Key{}, fmt.Errorf("%w: %d is hardened", ErrInvalidIndex, index)
	}
	c := 0
	if change {
		c = 1
	}
	var pub []byte
	if m.old != nil {
		p, err := m.old.pubKey(uint32(c), index)
		if err != nil {
			return Key{}, fmt.Errorf("keys: derive %d/%d: %w", c, index, err)
		}
		pub = p
	} else {
		ck, err := m.chains.chain(c)
		if err != nil {
			return Key{}, err
		}
		k, err := ck.child(index)
		if err != nil {
			return Key{}, fmt.Errorf("keys: derive %d/%d: %w", c, index, err)
		}
		pub = slices.Clone(k.pub[:])
	}
	addr, script, err := m.net.PubKeyAddress(m.scriptType, pub)
	if err != nil {
		return Key{}, fmt.Errorf("keys: derive %d/%d: %w", c, index, err)
	}
	return Key{Address: addr, PkScript: script, PubKey: pub,
		ScriptType: m.scriptType, Change: change, Index: index}, nil
}

// DeriveRange returns Derive(change, i) for i in [from, from+n), faster
// than n calls: the public keys share one field inversion and are
// computed on up to GOMAXPROCS goroutines (a new wallet's addresses, a
// chunk derived ahead).
func (m *Material) DeriveRange(change bool, from uint32, n int) ([]Key, error) {
	if !m.Deterministic() {
		return nil, ErrNotDeterministic
	}
	if m.old != nil || n < 2 {
		out := make([]Key, 0, n)
		for i := 0; i < n; i++ {
			k, err := m.Derive(change, from+uint32(i))
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, nil
	}
	c := 0
	if change {
		c = 1
	}
	ck, err := m.chains.chain(c)
	if err != nil {
		return nil, err
	}
	pubs, err := ck.pubChildren(from, n)
	if err != nil {
		return nil, fmt.Errorf("keys: derive %d/%d…: %w", c, from, err)
	}
	out := make([]Key, n)
	for i := range pubs {
		pub := slices.Clone(pubs[i][:])
		addr, script, err := m.net.PubKeyAddress(m.scriptType, pub)
		if err != nil {
			return nil, fmt.Errorf("keys: derive %d/%d: %w", c, from+uint32(i), err)
		}
		out[i] = Key{Address: addr, PkScript: script, PubKey: pub,
			ScriptType: m.scriptType, Change: change, Index: from + uint32(i)}
	}
	return out, nil
}

// PrivKey returns the private key of Derive(change, index). Watch-only
// material gives ErrNoPrivateKey, an imported wallet ErrNotDeterministic.
// The returned key is a copy the caller may zero.
func (m *Material) PrivKey(change bool, index uint32) (*btcec.PrivateKey, error) {
	if !m.Deterministic() {
		return nil, ErrNotDeterministic
	}
	if m.sec == nil {
		return nil, ErrNoPrivateKey
	}
	if index >= hardened {
		return nil, fmt.Errorf("%w: %d is hardened", ErrInvalidIndex, index)
	}
	c := 0
	if change {
		c = 1
	}
	if m.old != nil {
		p, err := m.old.privKey(m.sec.oldMaster, uint32(c), index)
		if err != nil {
			return nil, fmt.Errorf("keys: derive %d/%d: %w", c, index, err)
		}
		return p, nil
	}
	k, err := m.sec.chains[c].child(index)
	if err != nil {
		return nil, fmt.Errorf("keys: derive %d/%d: %w", c, index, err)
	}
	p := btcec.PrivKeyFromScalar(k.priv)
	k.priv.Zero()
	return p, nil
}

// Imported returns a copy of the keys of an imported wallet, ordered by
// address as Electrum orders them (a later key with the output script of an
// earlier one is dropped); nil for a deterministic wallet.
func (m *Material) Imported() []Key {
	if m.keys == nil {
		return nil
	}
	out := make([]Key, len(m.keys))
	for i, k := range m.keys {
		out[i] = k.clone()
	}
	return out
}

// ImportedPrivKey returns the private key of address in an imported WIF
// wallet (any valid spelling of the address, e.g. upper-case bech32).
// Watch-only material gives ErrNoPrivateKey; an address that is not one of
// the wallet's imported addresses (and any address of a deterministic wallet,
// whose keys come from PrivKey) gives ErrUnknownAddress. The returned key is a
// copy the caller may zero.
func (m *Material) ImportedPrivKey(address string) (*btcec.PrivateKey, error) {
	if m.sec == nil {
		return nil, ErrNoPrivateKey
	}
	if m.sec.imported == nil {
		return nil, fmt.Errorf("%w: not an imported wallet", ErrUnknownAddress)
	}
	script, err := m.net.PkScript(address)
	if err != nil {
		return nil, ErrUnknownAddress
	}
	i, ok := m.byScript[string(script)]
	if !ok {
		return nil, ErrUnknownAddress
	}
	return btcec.PrivKeyFromScalar(&m.sec.imported[i].Key), nil
}

// Bounds of the key material Parse reads. They are checked before any
// decoder sees the text, so that a long string costs a length comparison:
// btcd's base58 decoding is quadratic in the length of its input, and a
// list of addresses or keys costs a decoding per part.
const (
	// MaxMaterialBytes bounds key material (a list of MaxParts parts of
	// MaxPartBytes each, with their separators).
	MaxMaterialBytes = 128 << 10
	// MaxParts bounds the whitespace-separated parts of key material: the
	// addresses of an address list, the keys of a WIF list, a seed's words.
	MaxParts = 1000
	// MaxPartBytes bounds one part: the longest is an old master public
	// key (128 hex digits); an extended key has 111 or 112 characters, an
	// address at most 90, a WIF with its type prefix at most 64.
	MaxPartBytes = 128
	// maxExtKeyLen is the longest base58check extended key (82 bytes).
	maxExtKeyLen = 112
	// maxWIFLen is the longest base58check WIF (38 bytes).
	maxWIFLen = 52
)

// IsMasterKey reports whether s is a master key on network n exactly as
// Electrum 4.3.4's keystore.is_master_key decides it: an extended key, public
// or private, with one of n's SLIP-132 versions (x/y/z/t/u/v, and Electrum's
// multisig Y/Z/U/V), a valid key and a correct checksum; or an old-style
// (Electrum 1.x) master public key of 128 hex characters. A key of another
// network is false (a mainnet xpub on regtest). Nothing is trimmed.
func IsMasterKey(s string, n *params.Network) bool {
	if n == nil {
		return false
	}
	if _, _, _, ok := parseExtKey(s, n); ok {
		return true
	}
	return isOldMPK(s)
}

// ValidateKey is Bitcart's validatekey: IsMasterKey(s, n), or a seed of a
// type Bitcart can restore a wallet from (2fa seeds are false, as
// Electrum-LTC's vectors record Bitcart's answer). Every key it accepts,
// Parse loads, except multisig (Y/Z/U/V) extended keys, which Electrum
// itself cannot open as a single-signer wallet either (Parse:
// ErrUnsupportedKey).
func ValidateKey(s string, n *params.Network) bool {
	if len(s) > MaxMaterialBytes {
		return false
	}
	if IsMasterKey(s, n) {
		return true
	}
	switch SeedType(s) {
	case "", SeedType2FA, SeedType2FASegwit:
		return false
	}
	return true
}

// isOldMPK is Electrum's keystore.is_old_mpk: 128 hex characters that, after
// a 0x04 prefix, are an uncompressed point on the curve.
func isOldMPK(s string) bool {
	_, ok := oldMPKBytes(s)
	return ok
}

// oldMPKBytes decodes an old master public key (see isOldMPK).
func oldMPKBytes(s string) ([]byte, bool) {
	if len(s) != 128 {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, false
	}
	if _, err := btcec.ParsePubKey(append([]byte{0x04}, b...)); err != nil {
		return nil, false
	}
	return b, true
}

// Parse parses key material for network n the way Electrum 4.3.4's
// restore_wallet_from_text does, in the same order, after trimming
// surrounding whitespace:
//
//  1. a whitespace-separated list of addresses valid on n (watch-only);
//  2. a whitespace-separated list of private keys valid on n: WIF, with an
//     optional "p2pkh:", "p2wpkh:" or "p2wpkh-p2sh:" prefix (no prefix means
//     the Electrum 3.0.x version-byte encoding, plain WIF being p2pkh), or
//     Casascius minikeys; keys of Electrum's multisig types are skipped as
//     Electrum skips them;
//  3. an extended key of n (x/y/z/t/u/v pub or prv), restored as an
//     account-level key (receiving account/0/i, change account/1/i);
//  4. an old (Electrum 1.x) master public key, watch-only;
//  5. an Electrum seed: "standard" (p2pkh, account m) or "segwit" (p2wpkh,
//     account m/0'), BIP32 seed PBKDF2-HMAC-SHA512(normalized words,
//     "electrum", 2048); or an old seed (Electrum 1.x: its key stretched
//     with 100,000 SHA-256 rounds, which costs tens of milliseconds).
//
// Material longer than MaxMaterialBytes, with more than MaxParts parts or a
// part longer than MaxPartBytes is refused (ErrUnrecognized) before any
// decoding. 2fa seeds and multisig extended keys give an error wrapping
// ErrUnsupportedKey; anything else (including a key of another network) one
// wrapping ErrUnrecognized. Error texts never contain the material.
func Parse(material string, n *params.Network) (*Material, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: no network given", ErrUnrecognized)
	}
	if err := checkBounds(material); err != nil {
		return nil, err
	}
	text := pyStrip(material)
	parts := pySplit(text)
	if len(parts) > 0 && allValidAddresses(parts, n) {
		return newAddressList(parts, n)
	}
	if len(parts) > 0 {
		if wifs, ok := allPrivKeys(parts, n); ok {
			return newWIFList(wifs, n)
		}
	}
	if k, t, private, ok := parseExtKey(text, n); ok {
		return newFromExtKey(k, t, private, n)
	}
	if mpk, ok := oldMPKBytes(text); ok {
		return newFromOldMPK(mpk, n)
	}
	switch st := SeedType(text); st {
	case SeedTypeStandard, SeedTypeSegwit:
		return newFromSeed(text, "", st, n)
	case SeedTypeOld:
		return newFromOldSeed(text, n)
	case "":
	default:
		return nil, fmt.Errorf("%w: %s seed", ErrUnsupportedKey, st)
	}
	return nil, fmt.Errorf("%w for %s", ErrUnrecognized, n)
}

// checkBounds refuses material beyond MaxMaterialBytes, MaxParts or
// MaxPartBytes (ErrUnrecognized) before any decoder sees it.
func checkBounds(material string) error {
	if len(material) > MaxMaterialBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrUnrecognized, MaxMaterialBytes)
	}
	parts := pySplit(pyStrip(material))
	if len(parts) > MaxParts {
		return fmt.Errorf("%w: more than %d whitespace-separated parts", ErrUnrecognized, MaxParts)
	}
	for _, p := range parts {
		if len(p) > MaxPartBytes {
			return fmt.Errorf("%w: a part is longer than %d bytes", ErrUnrecognized, MaxPartBytes)
		}
	}
	return nil
}

func allValidAddresses(parts []string, n *params.Network) bool {
	for _, p := range parts {
		if !n.ValidAddress(p) {
			return false
		}
	}
	return true
}

func allPrivKeys(parts []string, n *params.Network) ([]*wifKey, bool) {
	out := make([]*wifKey, 0, len(parts))
	for _, p := range parts {
		w, ok := deserializePrivKey(p, n)
		if !ok {
			return nil, false
		}
		out = append(out, w)
	}
	return out, true
}

// newAddressList builds a watch-only imported wallet.
func newAddressList(parts []string, n *params.Network) (*Material, error) {
	m := &Material{kind: KindAddressList, net: n}
	for _, p := range parts {
		script, err := n.PkScript(p)
		if err != nil { // cannot happen: every part was validated
			return nil, fmt.Errorf("%w: invalid address in list", ErrUnrecognized)
		}
		m.keys = append(m.keys, Key{Address: p, PkScript: script})
	}
	m.finishImported(nil)
	return m, nil
}

// finishImported removes the keys (and their private keys, parallel to keys
// when privs is not nil) whose output script an earlier key already has,
// orders the rest by address as Electrum's imported wallets do
// (sorted(addresses)), numbers them and computes the fingerprint.
func (m *Material) finishImported(privs []*btcec.PrivateKey) {
	type entry struct {
		k Key
		p *btcec.PrivateKey
	}
	seen := make(map[string]bool, len(m.keys))
	var es []entry
	for i, k := range m.keys {
		if seen[string(k.PkScript)] {
			continue
		}
		seen[string(k.PkScript)] = true
		e := entry{k: k}
		if privs != nil {
			e.p = privs[i]
		}
		es = append(es, e)
	}
	slices.SortStableFunc(es, func(a, b entry) int { return strings.Compare(a.k.Address, b.k.Address) })
	m.keys = m.keys[:0]
	m.byScript = make(map[string]int, len(es))
	if privs != nil {
		m.sec.imported = make([]*btcec.PrivateKey, 0, len(es))
	}
	for i, e := range es {
		e.k.Index = uint32(i)
		m.keys = append(m.keys, e.k)
		m.byScript[string(e.k.PkScript)] = i
		if privs != nil {
			m.sec.imported = append(m.sec.imported, e.p)
		}
	}
	m.fingerprint = importedFingerprint(m.keys, m.net)
}

// newWIFList builds an imported-keys wallet as Electrum's
// Imported_Wallet.import_private_keys does: keys of a script type it cannot
// import (p2sh, p2wsh, p2wsh-p2sh) are skipped, and no importable key at all
// is an error.
func newWIFList(wifs []*wifKey, n *params.Network) (*Material, error) {
	m := &Material{kind: KindWIFList, net: n, sec: &secrets{}}
	var privs []*btcec.PrivateKey
	for _, w := range wifs {
		if !w.importable {
			continue
		}
		pub := w.priv.PubKey()
		var pubBytes []byte
		if w.compressed {
			pubBytes = pub.SerializeCompressed()
		} else {
			pubBytes = pub.SerializeUncompressed()
		}
		addr, script, err := n.PubKeyAddress(w.scriptType, pubBytes)
		if err != nil {
			continue
		}
		m.keys = append(m.keys, Key{Address: addr, PkScript: script, PubKey: pubBytes, ScriptType: w.scriptType})
		privs = append(privs, w.priv)
	}
	if len(m.keys) == 0 {
		return nil, fmt.Errorf("%w: none of the private keys has an importable script type", ErrUnsupportedKey)
	}
	m.finishImported(privs)
	m.scriptType = m.keys[0].ScriptType
	for _, k := range m.keys[1:] {
		if k.ScriptType != m.scriptType {
			m.scriptType = params.ScriptUnknown
			break
		}
	}
	return m, nil
}

// newFromSeed builds a deterministic wallet from an Electrum seed
// (keystore.from_seed): standard seeds use the root m as account with xtype
// p2pkh, segwit seeds m/0' with p2wpkh.
func newFromSeed(words, passphrase, seedType string, n *params.Network) (*Material, error) {
	seed, err := bip32SeedFromWords(words, passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: seed derivation: %w", err)
	}
	root, err := masterFromSeed(seed)
	clear(seed)
	if err != nil {
		return nil, fmt.Errorf("%w: seed gives an invalid master key", ErrUnsupportedKey)
	}
	account, t := root, params.P2PKH
	if seedType == SeedTypeSegwit {
		account, err = root.child(hardened + 0)
		if err != nil {
			return nil, fmt.Errorf("keys: derive m/0': %w", err)
		}
		t = params.P2WPKH
	}
	m, err := newFromExtKey(account, t, true, n)
	if err != nil {
		return nil, err
	}
	m.kind, m.seedType, m.derivation = KindSeed, seedType, "m/"
	if seedType == SeedTypeSegwit {
		m.derivation = "m/0'"
	}
	return m, nil
}

// newFromExtKey builds a deterministic wallet whose account key is k.
func newFromExtKey(k *extKey, t params.ScriptType, private bool, n *params.Network) (*Material, error) {
	if !t.SingleKey() {
		return nil, fmt.Errorf("%w: %s extended key (multisig script type)", ErrUnsupportedKey, t)
	}
	hd, ok := n.HDVersionFor(t)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no %s extended keys", ErrUnsupportedKey, n, t)
	}
	m := &Material{kind: KindMasterPublic, net: n, scriptType: t}
	pubPayload := k.public().serialize(hd.Public, false)
	// One string for both, the identity of every loaded wallet.
	mpk, fp := base58Check(pubPayload), deterministicFingerprint(pubPayload, t, n)
	both := mpk + fp
	m.mpk, m.fingerprint = both[:len(mpk)], both[len(mpk):]
	m.chains = &hdChains{account: *k.public()}
	if private {
		m.kind = KindMasterPrivate
		m.sec = &secrets{account: k}
		for c := uint32(0); c < 2; c++ {
			ck, err := k.child(c)
			if err != nil {
				return nil, fmt.Errorf("keys: derive chain %d: %w", c, err)
			}
			m.sec.chains[c] = ck
		}
	}
	return m, nil
}

// hdChains are a deterministic wallet's public chain keys, derived from
// the account key on first use: loading a wallet whose addresses are
// stored already (a call naming a tracked wallet after a restart or an
// eviction) costs no EC multiplication. Safe for concurrent use.
type hdChains struct {
	account extKey // by value: one object less per loaded wallet
	once    sync.Once
	keys    [2]*extKey
	err     error
}

// chain returns chain key c (0 receiving, 1 change).
func (h *hdChains) chain(c int) (*extKey, error) {
	h.once.Do(func() {
		for i := range h.keys {
			k, err := h.account.child(uint32(i))
			if err != nil {
				h.err = fmt.Errorf("keys: derive chain %d: %w", i, err)
				return
			}
			h.keys[i] = k
		}
	})
	return h.keys[c], h.err
}

// fingerprintPrefix starts every fingerprint preimage; change it (v2) only
// together with a store migration.
const fingerprintPrefix = "walletd/v1"

func fingerprintHeader(n *params.Network, kind string) []byte {
	var b bytes.Buffer
	for _, s := range []string{fingerprintPrefix, n.Coin, n.Name, kind} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.Bytes()
}

// deterministicFingerprint hashes the account xpub serialization (78 bytes,
// SLIP-132 version included) with the coin, network and script type.
func deterministicFingerprint(xpub []byte, t params.ScriptType, n *params.Network) string {
	h := sha256.New()
	h.Write(fingerprintHeader(n, "bip32"))
	h.Write([]byte(t.String()))
	h.Write([]byte{0})
	h.Write(xpub)
	return hex.EncodeToString(h.Sum(nil))
}

// importedFingerprint hashes the sorted set of output scripts.
func importedFingerprint(keys []Key, n *params.Network) string {
	scripts := make([]string, 0, len(keys))
	for _, k := range keys {
		scripts = append(scripts, string(k.PkScript))
	}
	slices.Sort(scripts)
	scripts = slices.Compact(scripts)
	h := sha256.New()
	h.Write(fingerprintHeader(n, "imported"))
	var lenBuf [binary.MaxVarintLen64]byte
	for _, s := range scripts {
		h.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
