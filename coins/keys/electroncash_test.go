package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	bip39 "github.com/tyler-smith/go-bip39"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/vectors"
)

func mustBCH(t testing.TB, name string) *params.Network {
	t.Helper()
	b, err := params.BCH(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ecVectorNet is the vectors network a BCH network answers as (Electron
// Cash's TestNet4, ScaleNet and ChipNet keep TestNet's constants).
func ecVectorNet(name string) string {
	switch name {
	case "testnet4", "scalenet", "chipnet":
		return "testnet"
	}
	return name
}

// ecSlowOnAlias reports whether restoring material is slow (a seed: PBKDF2,
// or 100000 SHA-256 rounds for an old one) and the network only aliases
// another's vectors: such inputs are checked once, on the network whose
// vectors they are, to keep the race-detector run short; the aliases still
// restore every key, xpub, mpk and list.
func ecSlowOnAlias(network, material string) bool {
	return ecVectorNet(network) != network && ElectronCashSeedType(material) != ""
}

// TestElectronCashVectorWallets restores every wallet of the Electron Cash
// vectors on every BCH network and checks everything Electron Cash said of
// it: type, keystore, seed type, derivation, master public key, receiving
// and change addresses in every form, imported keys.
func TestElectronCashVectorWallets(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range params.BCHNetworks() {
		b := mustBCH(t, name)
		fps := map[string]string{}
		for _, w := range v.Networks[ecVectorNet(name)].Wallets {
			if ecSlowOnAlias(name, w.KeyMaterial) {
				continue
			}
			t.Run(name+"/"+w.Label, func(t *testing.T) {
				e, err := ParseElectronCash(w.KeyMaterial, b)
				if err != nil {
					t.Fatalf("ParseElectronCash: %v", err)
				}
				wantSeedType := w.SeedType
				if w.KeystoreType == ECKeystoreOld { // set on load, as restore reports it
					wantSeedType = ECSeedOld
				}
				if e.ECWalletType() != w.WalletType || e.ECKeystoreType() != w.KeystoreType ||
					e.SeedType() != wantSeedType || e.Derivation() != w.Derivation {
					t.Errorf("wallet %q keystore %q seed %q derivation %q; want %q %q %q %q",
						e.ECWalletType(), e.ECKeystoreType(), e.SeedType(), e.Derivation(),
						w.WalletType, w.KeystoreType, w.SeedType, w.Derivation)
				}
				if e.MasterPublicKey() != w.MPK {
					t.Errorf("MasterPublicKey = %q, want %q", e.MasterPublicKey(), w.MPK)
				}
				wantKind := map[string]Kind{"seed": KindSeed, "master_public_key": KindMasterPublic,
					"master_private_key": KindMasterPrivate, "address_list": KindAddressList,
					"privkey_list": KindWIFList}[w.Kind]
				if e.Kind() != wantKind || wantKind == 0 {
					t.Errorf("Kind = %v, want %v (%s)", e.Kind(), wantKind, w.Kind)
				}
				wantPriv := w.Kind == "seed" || w.Kind == "master_private_key" || w.Kind == "privkey_list"
				if e.HasPrivateKeys() != wantPriv {
					t.Errorf("HasPrivateKeys = %v", e.HasPrivateKeys())
				}
				if e.Old() != (w.KeystoreType == ECKeystoreOld) {
					t.Errorf("Old() = %v for keystore %q", e.Old(), w.KeystoreType)
				}
				if e.Network() != b {
					t.Errorf("Network() = %v, want %v", e.Network(), b)
				}
				if w.MPK != "" {
					if prev, ok := fps[w.MPK]; ok && prev != e.Fingerprint() {
						t.Errorf("fingerprint %s differs from the one of the same mpk %s", e.Fingerprint(), prev)
					}
					fps[w.MPK] = e.Fingerprint()
				}
				if len(e.Fingerprint()) != 64 {
					t.Errorf("Fingerprint = %q", e.Fingerprint())
				}
				if e.Deterministic() {
					checkECDerived(t, e, b, w, ecVectorNet(name) == name)
				} else {
					checkECImported(t, e, b, w)
				}
				if ecVectorNet(name) == name {
					checkECSeedBytes(t, w)
				}
			})
		}
	}
}

// checkECDerived checks receiving/change addresses (all forms) and that
// each private key matches its public key; on a network that only aliases
// another's vectors (full false) the first key of each chain only, to keep
// the race-detector run short.
func checkECDerived(t *testing.T, e *Material, b *params.Network, w vectors.ECWallet, full bool) {
	t.Helper()
	if e.Imported() != nil {
		t.Errorf("Imported() = %v on a deterministic wallet", e.Imported())
	}
	for c, addrs := range [][]string{w.Receiving, w.Change} {
		legacy := [][]string{w.ReceivingLegacy, w.ChangeLegacy}[c]
		if len(addrs) == 0 || len(legacy) != len(addrs) {
			t.Fatalf("chain %d: %d addresses, %d legacy", c, len(addrs), len(legacy))
		}
		for i, want := range addrs {
			if !full && i > 0 {
				break
			}
			k, err := e.Derive(c == 1, uint32(i))
			if err != nil {
				t.Fatalf("Derive(%d,%d): %v", c, i, err)
			}
			// The printed form: the cashaddr without its prefix.
			if full, _ := b.CashAddr().Encode(k.PkScript); full != want ||
				k.Address != strings.TrimPrefix(want, b.CashAddr().Prefix()+":") || k.Change != (c == 1) || k.Index != uint32(i) || k.ScriptType != params.P2PKH {
				t.Errorf("Derive(%d,%d) = %s %v %d %v, want %s", c, i, k.Address, k.Change, k.Index, k.ScriptType, want)
			}
			if l, err := b.CashAddr().Legacy(k.PkScript); err != nil || l != legacy[i] {
				t.Errorf("legacy %d/%d = %s, want %s", c, i, l, legacy[i])
			}
			if c == 0 {
				if bare, _ := b.CashAddr().Bare(k.PkScript); bare != w.ReceivingBare[i] {
					t.Errorf("bare %d = %s, want %s", i, bare, w.ReceivingBare[i])
				}
				if tok, _ := b.CashAddr().Token(k.PkScript); tok != w.ReceivingToken[i] {
					t.Errorf("token %d = %s, want %s", i, tok, w.ReceivingToken[i])
				}
			}
			// old keystores pay uncompressed keys, BIP32 ones compressed
			wantLen := 33
			if w.KeystoreType == ECKeystoreOld {
				wantLen = 65
			}
			if len(k.PubKey) != wantLen {
				t.Errorf("public key of %d bytes, want %d", len(k.PubKey), wantLen)
			}
			priv, err := e.PrivKey(c == 1, uint32(i))
			if !e.HasPrivateKeys() {
				if !errors.Is(err, ErrNoPrivateKey) {
					t.Errorf("PrivKey on watch-only = %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("PrivKey(%d,%d): %v", c, i, err)
			}
			got := priv.PubKey().SerializeCompressed()
			if wantLen == 65 {
				got = priv.PubKey().SerializeUncompressed()
			}
			if !bytes.Equal(got, k.PubKey) {
				t.Errorf("PrivKey(%d,%d) is not the key of %s", c, i, want)
			}
		}
	}
	if _, err := e.Derive(false, 1<<31); !errors.Is(err, ErrInvalidIndex) {
		t.Errorf("hardened Derive: %v", err)
	}
	if _, err := e.ImportedPrivKey(w.Receiving[0]); err == nil {
		t.Error("ImportedPrivKey on a deterministic wallet succeeded")
	}
}

// checkECImported checks an imported wallet's address order and keys.
func checkECImported(t *testing.T, e *Material, b *params.Network, w vectors.ECWallet) {
	t.Helper()
	keys := e.Imported()
	if len(keys) != len(w.Receiving) || len(w.Change) != 0 {
		t.Fatalf("%d imported keys, want %d (and no change: %d)", len(keys), len(w.Receiving), len(w.Change))
	}
	for i, k := range keys {
		if k.Address != w.ReceivingBare[i] || k.Index != uint32(i) {
			t.Errorf("imported %d = %s (index %d), want %s", i, k.Address, k.Index, w.ReceivingBare[i])
		}
		if l, _ := b.CashAddr().Legacy(k.PkScript); l != w.ReceivingLegacy[i] {
			t.Errorf("legacy %d = %s, want %s", i, l, w.ReceivingLegacy[i])
		}
		if bare, _ := b.CashAddr().Bare(k.PkScript); bare != w.ReceivingBare[i] {
			t.Errorf("bare %d = %s, want %s", i, bare, w.ReceivingBare[i])
		}
		if tok, _ := b.CashAddr().Token(k.PkScript); tok != w.ReceivingToken[i] {
			t.Errorf("token %d = %s, want %s", i, tok, w.ReceivingToken[i])
		}
	}
	if _, err := e.Derive(false, 0); !errors.Is(err, ErrNotDeterministic) {
		t.Errorf("Derive on imported: %v", err)
	}
	if len(w.Imports) == 0 {
		if _, err := e.ImportedPrivKey(w.Receiving[0]); !errors.Is(err, ErrNoPrivateKey) {
			t.Errorf("ImportedPrivKey on an address list: %v", err)
		}
		return
	}
	for _, imp := range w.Imports {
		for _, form := range []string{imp.Address, imp.AddressLegacy, strings.TrimPrefix(imp.Address, b.CashAddr().Prefix()+":")} {
			p, err := e.ImportedPrivKey(form)
			if err != nil {
				t.Fatalf("ImportedPrivKey(%s): %v", form, err)
			}
			if hex.EncodeToString(p.Serialize()) != imp.SecretHex {
				t.Errorf("ImportedPrivKey(%s) is not the imported secret", form)
			}
		}
		var found bool
		for _, k := range keys {
			if k.Address == strings.TrimPrefix(imp.Address, b.CashAddr().Prefix()+":") {
				found = true
				if (len(k.PubKey) == 33) != imp.Compressed {
					t.Errorf("%s: compressed %v, want %v", imp.Address, len(k.PubKey) == 33, imp.Compressed)
				}
			}
		}
		if !found {
			t.Errorf("%s not among the imported keys", imp.Address)
		}
	}
	// An address of the right network that is not among the imported ones.
	foreign, _ := b.CashAddr().Encode(append(append([]byte{0x76, 0xa9, 20}, bytes.Repeat([]byte{7}, 20)...), 0x88, 0xac))
	if _, err := e.ImportedPrivKey(foreign); !errors.Is(err, ErrUnknownAddress) {
		t.Errorf("ImportedPrivKey(foreign) = %v", err)
	}
	if _, err := e.ImportedPrivKey("not an address"); !errors.Is(err, ErrUnknownAddress) {
		t.Errorf("ImportedPrivKey(garbage) = %v", err)
	}
}

// checkECSeedBytes checks the intermediate values the vectors record: the
// BIP32 seed, the old seed's hex, the BIP39 entropy, and where an account
// key comes from.
func checkECSeedBytes(t *testing.T, w vectors.ECWallet) {
	t.Helper()
	if w.BIP32SeedHex != "" {
		salt := "electrum"
		if w.SeedType == ECSeedBIP39 {
			salt = "mnemonic"
		}
		s, err := ecSeedBytes(w.KeyMaterial, salt, "")
		if err != nil || hex.EncodeToString(s) != w.BIP32SeedHex {
			t.Errorf("BIP32 seed %x, %v; want %s", s, err, w.BIP32SeedHex)
		}
	}
	if w.OldSeedHex != "" {
		if h, ok := oldSeedHexNormalized(ecNormalizeText(w.KeyMaterial)); !ok || h != w.OldSeedHex {
			t.Errorf("old seed hex %q, want %s", h, w.OldSeedHex)
		}
	}
	if w.BIP39EntropyHex != "" {
		ent, err := bip39.EntropyFromMnemonic(w.KeyMaterial)
		if err != nil || hex.EncodeToString(ent) != w.BIP39EntropyHex {
			t.Errorf("entropy %x, %v; want %s", ent, err, w.BIP39EntropyHex)
		}
	}
	if w.RootSeedHex != "" {
		if w.DerivationFromRoot != ECDerivationBIP39 {
			t.Fatalf("derivation_from_root %q", w.DerivationFromRoot)
		}
		seed, _ := hex.DecodeString(w.RootSeedHex)
		k, err := masterFromSeed(seed)
		for _, i := range []uint32{hardened + 44, hardened + 145, hardened} {
			if err == nil {
				k, err = k.child(i)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		b := mustBCH(t, "mainnet")
		if strings.HasPrefix(w.MPK, "tpub") {
			b = mustBCH(t, "testnet")
		}
		hd, _ := b.HDVersionFor(params.P2PKH)
		if got := base58Check(k.public().serialize(hd.Public, false)); got != w.MPK {
			t.Errorf("root seed at %s gives %s, want %s", w.DerivationFromRoot, got, w.MPK)
		}
	}
}

// TestElectronCashValidateKeyVectors is Bitcart's validatekey over Electron
// Cash on every input of the vectors.
func TestElectronCashValidateKeyVectors(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range params.BCHNetworks() {
		b := mustBCH(t, name)
		in := v.Networks[ecVectorNet(name)].ValidateKey
		if len(in) < 15 {
			t.Fatalf("%s: %d validatekey vectors", name, len(in))
		}
		for s, want := range in {
			if got := ElectronCashValidateKey(s, b); got != want {
				t.Errorf("%s: ElectronCashValidateKey(%q) = %v, want %v", name, s, got, want)
			}
		}
	}
}

// TestElectronCashRestoreVectors is restore on every input of the vectors:
// accepted or not, the wallet and keystore types, seed type, derivation and
// first address.
func TestElectronCashRestoreVectors(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, name := range params.BCHNetworks() {
		b := mustBCH(t, name)
		in := v.Networks[ecVectorNet(name)].Restore
		if len(in) < 10 {
			t.Fatalf("%s: %d restore vectors", name, len(in))
		}
		for s, want := range in {
			if want.Accepted && ecSlowOnAlias(name, s) {
				continue
			}
			e, err := ParseElectronCash(s, b)
			if !want.Accepted {
				if !errors.Is(err, ErrUnrecognized) || want.Error != "Seed or key not recognized" {
					t.Errorf("%s: restore(%q) = %v, want %q", name, s, err, want.Error)
				}
				if err != nil && len(s) > 8 && strings.Contains(err.Error(), s[:8]) {
					t.Errorf("%s: error %q shows the material", name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: restore(%q): %v", name, s, err)
				continue
			}
			var first string
			if e.Deterministic() {
				k, err := e.Derive(false, 0)
				if err != nil {
					t.Fatal(err)
				}
				first, _ = b.CashAddr().Encode(k.PkScript)
			} else {
				first, _ = b.CashAddr().Encode(e.Imported()[0].PkScript)
			}
			if first != want.FirstAddress || e.ECWalletType() != want.WalletType ||
				e.ECKeystoreType() != want.KeystoreType || e.SeedType() != want.SeedType ||
				e.Derivation() != want.Derivation {
				t.Errorf("%s: restore(%q) = %s %s %q %q %q; want %+v", name, s, first, e.ECWalletType(),
					e.ECKeystoreType(), e.SeedType(), e.Derivation(), want)
			}
		}
	}
}

func TestElectronCashSeedTypes(t *testing.T) {
	cases := map[string]string{
		"crouch cherry obtain snake soccer wolf movie parent please economy stone anchor":               ECSeedElectrum,
		"  CROUCH  cherry obtain snake soccer wolf movie parent please economy stone anchor":            ECSeedElectrum,
		"nice smooth disease student daughter ramp broccoli weasel trumpet family spray around":         ECSeedBIP39,
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about": ECSeedBIP39,
		"blame mold yearn naked obviously type fold draw fate cheer branch wheel":                       ECSeedOld,
		"081a7cd4b4a0ce24d8f94bfce9d5c223":                                                              ECSeedOld,
		"08 1a 7c d4 b4 a0 ce 24 d8 f9 4b fc e9 d5 c2 23":                                               ECSeedOld,
		strings.Repeat("ab", 32): ECSeedOld,
		strings.Repeat("ab", 24): "",
		// an Electrum "segwit" seed (prefix 100): not an Electron Cash seed
		"dove yard flock tower palace loop tragic region inner hover list minute": "",
		// old words, but 11 of them
		"blame mold yearn naked obviously type fold draw fate cheer branch": "",
		"": "", "x": "",
	}
	for s, want := range cases {
		if got := ElectronCashSeedType(s); got != want {
			t.Errorf("ElectronCashSeedType(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestECNormalizeKeepsAccents: Electron Cash's normalize_text, unlike
// Electrum's, keeps combining marks, so an accented seed hashes differently.
func TestECNormalizeKeepsAccents(t *testing.T) {
	if got := ecNormalizeText("  Café \t  Ｆｕｌｌ "); got != "cafe\u0301 full" {
		t.Errorf("ecNormalizeText = %q", got)
	}
	if got := normalizeText("Café"); got != "cafe" {
		t.Errorf("Electrum's normalizeText = %q", got)
	}
	if got := ecNormalizeText("\u4e00 \u4e01 a"); got != "\u4e00\u4e01 a" {
		t.Errorf("CJK spaces: %q", got)
	}
}

func TestECIsOldMPK(t *testing.T) {
	mpk := "1373b444b0877ca8e9e868be4044513523bbea71bfebc5fd8e16c9f1ef2763dee1709b2da198ba9f03e2ec367dc18509dcde672cc5b2fe3a90d5fc659be3fe3f"
	cases := map[string]bool{
		mpk:                        true,
		strings.ToUpper(mpk):       true,
		strings.Repeat("f", 128):   true, // Electron Cash does not check the point
		"0x" + mpk[2:]:             true, // Python's int(s, 16) takes a 0x prefix
		" " + mpk[1:]:              true, // and surrounding whitespace
		"-" + mpk[1:]:              true,
		mpk[:64] + "_" + mpk[65:]:  true,
		mpk[:64] + "__" + mpk[66:]: false,
		"_" + mpk[1:]:              false,
		mpk[:127] + "_":            false,
		mpk[:127]:                  false,
		mpk + "0":                  false,
		mpk[:127] + "g":            false,
		"٣" + mpk[1:]:              true, // a Unicode decimal digit
		strings.Repeat(" ", 128):   false,
	}
	for s, want := range cases {
		if got := ecIsOldMPK(s); got != want {
			t.Errorf("ecIsOldMPK(%q) = %v, want %v", s, got, want)
		}
	}
	b := mustBCH(t, "mainnet")
	// validatekey says yes to a number that is not a point; restore refuses it.
	bad := strings.Repeat("f", 128)
	if !ElectronCashValidateKey(bad, b) {
		t.Error("validatekey(128 f) = false, Electron Cash says true")
	}
	if _, err := ParseElectronCash(bad, b); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("restore(128 f) = %v, want ErrUnsupportedKey", err)
	}
	if _, err := ParseElectronCash("0x"+mpk[2:], b); err == nil {
		t.Error("restore of a 0x-prefixed mpk succeeded")
	}
	e, err := ParseElectronCash(strings.ToUpper(mpk), b)
	if err != nil {
		t.Fatal(err)
	}
	if e.MasterPublicKey() != strings.ToUpper(mpk) {
		t.Errorf("getmpk = %s, want the mpk as given", e.MasterPublicKey())
	}
}

func TestMakeElectronCashSeed(t *testing.T) {
	b := mustBCH(t, "regtest")
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		s, err := MakeElectronCashSeed(0)
		if err != nil {
			t.Fatal(err)
		}
		if len(strings.Fields(s)) != 12 || seen[s] {
			t.Fatalf("seed %d: %d words (or repeated)", i, len(strings.Fields(s)))
		}
		seen[s] = true
		if ElectronCashSeedType(s) != ECSeedBIP39 || ecIsElectrumSeed(s) || ecIsOldSeed(s) || !bip39.IsMnemonicValid(s) {
			t.Fatalf("made seed is not a BIP39-only seed")
		}
		e, err := ParseElectronCash(s, b)
		if err != nil || e.Derivation() != ECDerivationBIP39 || e.Kind() != KindSeed {
			t.Fatalf("restore of a made seed: %v", err)
		}
	}
	for bits, words := range map[int]int{128: 12, 160: 15, 192: 18, 224: 21, 256: 24} {
		s, err := MakeElectronCashSeed(bits)
		if err != nil || len(strings.Fields(s)) != words || ElectronCashSeedType(s) != ECSeedBIP39 {
			t.Errorf("MakeElectronCashSeed(%d) = %d words, %v", bits, len(strings.Fields(s)), err)
		}
	}
	for _, bits := range []int{1, 127, 132, 129, 512, -128} {
		if _, err := MakeElectronCashSeed(bits); err == nil {
			t.Errorf("MakeElectronCashSeed(%d) succeeded", bits)
		}
	}
}

// TestParseElectronCashRefusals: what Electron Cash recognises but cannot
// restore, and what it does not recognise.
func TestParseElectronCashRefusals(t *testing.T) {
	b := mustBCH(t, "mainnet")
	secret := bytes.Repeat([]byte{0x42}, 32)
	p2sh := base58Check(append(append([]byte{0x80 + 5}, secret...), 1))
	p2pkh := base58Check(append(append([]byte{0x80}, secret...), 1))
	if !ecIsPrivateKeyList(p2sh, b) {
		t.Fatal("a p2sh-typed WIF is a private key to Electron Cash")
	}
	if _, err := ParseElectronCash(p2sh, b); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("p2sh WIF: %v", err)
	}
	if ElectronCashValidateKey(p2pkh, b) {
		t.Error("a WIF is not a key for validatekey")
	}
	// The same key twice is one imported key; compressed and uncompressed are two.
	unc := base58Check(append([]byte{0x80}, secret...))
	e, err := ParseElectronCash(p2pkh+"\n"+p2pkh+"\r\n"+unc+"\n\n", b)
	if err != nil || len(e.Imported()) != 2 {
		t.Fatalf("WIF list: %v, %d keys", err, len(e.Imported()))
	}
	// A key split by spaces on one line is joined for detection, and then
	// fails to import as Electron Cash's from_text does.
	if _, err := ParseElectronCash(p2pkh[:10]+" "+p2pkh[10:], b); !errors.Is(err, ErrUnrecognized) {
		t.Errorf("split WIF: %v", err)
	}
	// Keys of another network.
	for _, s := range []string{
		"tpubDCbnKpK66Lvpw75MH51X1ACxSrvvGVPeqgJUfcGdvDWvxwxmiojTRGJyg68LeWe9uSYP5fw6ARgWbBjJzDotLSiHG2A26N59423Kc3R4uaq",
		base58Check(append(append([]byte{0xef}, secret...), 1)),
		"bchtest:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c6dmzt2fq",
		"", "   ",
	} {
		if _, err := ParseElectronCash(s, b); !errors.Is(err, ErrUnrecognized) {
			t.Errorf("ParseElectronCash(%q) = %v, want ErrUnrecognized", s, err)
		}
	}
	if _, err := ParseElectronCash("x", nil); !errors.Is(err, ErrUnrecognized) {
		t.Errorf("nil network: %v", err)
	}
	// An address list dedups spellings of one address and keeps prefix-less,
	// upper-case, token-aware and legacy forms as one key.
	e, err = ParseElectronCash("bitcoincash:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu QPDHGCTL8GGYU7M77TPXF2AJ7WG4CGZX2C7LL9FAWU\n"+
		"19LZuju5iiYtRbnVvUs6fg3rF2iYSL4r7o bitcoincash:zpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2ce4vm8m30", b)
	if err != nil || len(e.Imported()) != 1 || e.Imported()[0].Address != "qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu" {
		t.Errorf("address list: %v %v", err, e)
	}
}

// TestECMaterialNeverPrintsSecrets: no fmt verb or slog rendering of
// Electron Cash material shows its seed, master private key or WIF.
func TestECMaterialNeverPrintsSecrets(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	b := mustBCH(t, "mainnet")
	for _, w := range v.Networks["mainnet"].Wallets {
		if w.Kind == "master_public_key" || w.Kind == "address_list" {
			continue
		}
		e, err := ParseElectronCash(w.KeyMaterial, b)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "material", e, "value", *e)
		out := fmt.Sprintf("%v %+v %#v %s %q %x", e, e, e, *e, e, e) + logged.String()
		for _, secret := range append(strings.Fields(w.KeyMaterial), w.OldSeedHex, w.BIP32SeedHex) {
			if len(secret) > 6 && strings.Contains(out, secret) {
				t.Errorf("%s: printed form shows %q: %s", w.Label, secret, out)
			}
		}
		if !strings.Contains(out, e.Fingerprint()) {
			t.Errorf("%s: printed form lacks the fingerprint", w.Label)
		}
	}
}

// TestECOldKeystoreKnownKey pins Electrum 1.x derivation on the vectors'
// old seed: the first receiving key's private key (from the stretched seed)
// and public key (from the mpk alone) agree.
func TestECOldKeystoreKnownKey(t *testing.T) {
	b := mustBCH(t, "mainnet")
	seed, err := ParseElectronCash("081a7cd4b4a0ce24d8f94bfce9d5c223", b)
	if err != nil {
		t.Fatal(err)
	}
	mpk, err := ParseElectronCash(seed.MasterPublicKey(), b)
	if err != nil {
		t.Fatal(err)
	}
	for _, change := range []bool{false, true} {
		for i := uint32(0); i < 10; i++ {
			k1, _ := seed.Derive(change, i)
			k2, _ := mpk.Derive(change, i)
			p, err := seed.PrivKey(change, i)
			if err != nil || k1.Address != k2.Address ||
				!bytes.Equal(p.PubKey().SerializeUncompressed(), k2.PubKey) {
				t.Fatalf("old keystore %v/%d: seed and mpk disagree", change, i)
			}
		}
	}
	if seed.Fingerprint() != mpk.Fingerprint() {
		t.Error("old seed and its mpk have different fingerprints")
	}
	if _, err := mpk.PrivKey(false, 0); !errors.Is(err, ErrNoPrivateKey) {
		t.Errorf("PrivKey on old mpk: %v", err)
	}
}

// TestElectronCashBounds: ParseElectronCash applies Parse's bounds before
// any decoding: a list of more than MaxParts valid addresses is refused, as
// is oversized material (a list of MaxParts addresses is fine).
func TestElectronCashBounds(t *testing.T) {
	b := mustBCH(t, "mainnet")
	addr := "qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2c7ll9fawu"
	if _, err := ParseElectronCash(strings.Repeat(addr+" ", MaxParts), b); err != nil {
		t.Fatalf("%d addresses: %v", MaxParts, err)
	}
	if _, err := ParseElectronCash(strings.Repeat(addr+" ", MaxParts+1), b); !errors.Is(err, ErrUnrecognized) {
		t.Errorf("%d addresses: %v, want ErrUnrecognized", MaxParts+1, err)
	}
	if _, err := ParseElectronCash(strings.Repeat("x", MaxMaterialBytes+1), b); !errors.Is(err, ErrUnrecognized) {
		t.Errorf("oversized material: %v", err)
	}
	if ElectronCashValidateKey(strings.Repeat("x", MaxMaterialBytes+1), b) {
		t.Error("oversized material validates")
	}
}
