package keys

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// extraFile is testdata/electrum_extra.json, made by Electrum 4.3.4 itself
// (testdata/gen_electrum_extra.py) for the edge cases of normalization, seed
// types, master keys, addresses, scripts, WIF keys and wallet restoration.
type extraFile struct {
	SeedCases []struct {
		Text         string `json:"text"`
		Normalized   string `json:"normalized"`
		SeedType     string `json:"seed_type"`
		BIP32SeedHex string `json:"bip32_seed_hex"`
	} `json:"seed_cases"`
	PassphraseCase struct {
		Text, Passphrase string
		BIP32SeedHex     string `json:"bip32_seed_hex"`
	} `json:"passphrase_case"`
	MadeSeeds      map[string][]string `json:"made_seeds"`
	NormalizeCases []struct {
		Text       string `json:"text"`
		Normalized string `json:"normalized"`
	} `json:"normalize_cases"`
	EnglishSHA256  string `json:"english_sha256"`
	MnemonicEncode []struct {
		Int   string `json:"int"`
		Words string `json:"words"`
	} `json:"mnemonic_encode"`
	BIP39Checksum []struct {
		Text   string `json:"text"`
		Result []bool `json:"result"`
	} `json:"bip39_checksum"`
	Networks map[string]struct {
		MasterKeys []struct {
			Text        string `json:"text"`
			IsMasterKey bool   `json:"is_master_key"`
		} `json:"master_keys"`
		Addresses []struct {
			Address string  `json:"address"`
			Valid   bool    `json:"valid"`
			Script  *string `json:"script"`
		} `json:"addresses"`
		Scripts []struct {
			Script  string  `json:"script"`
			Address *string `json:"address"`
		} `json:"scripts"`
		WIFs []struct {
			Text string `json:"text"`
			Info *struct {
				Type       string  `json:"type"`
				Compressed bool    `json:"compressed"`
				PubKey     string  `json:"pubkey"`
				Address    *string `json:"address"`
			} `json:"info"`
		} `json:"wifs"`
		Restore []struct {
			Text   string `json:"text"`
			Result struct {
				Error        string   `json:"error"`
				Wallet       string   `json:"wallet"`
				MPK          string   `json:"mpk"`
				Receiving    []string `json:"receiving"`
				Change       []string `json:"change"`
				TxinType     string   `json:"txin_type"`
				Addresses    []string `json:"addresses"`
				TxinTypes    []string `json:"txin_types"`
				WatchingOnly bool     `json:"watching_only"`
			} `json:"result"`
		} `json:"restore"`
	} `json:"networks"`
}

func loadExtra(t *testing.T) *extraFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "electrum_extra.json"))
	if err != nil {
		t.Fatal(err)
	}
	var x extraFile
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	if len(x.SeedCases) == 0 || len(x.Networks) != 5 {
		t.Fatalf("electrum_extra.json incomplete: %d seed cases, %d networks", len(x.SeedCases), len(x.Networks))
	}
	return &x
}

func TestElectrumNormalizeAndSeedType(t *testing.T) {
	x := loadExtra(t)
	oldWordSeeds := 0
	for _, c := range x.SeedCases {
		if got := normalizeText(c.Text); got != c.Normalized {
			t.Errorf("normalizeText(%+q) = %+q, want %+q", c.Text, got, c.Normalized)
		}
		if got := SeedType(c.Text); got != c.SeedType {
			t.Errorf("SeedType(%+q) = %q, want %q", c.Text, got, c.SeedType)
		}
		if c.SeedType == SeedTypeOld && strings.Contains(c.Text, "spiral") {
			oldWordSeeds++
		}
		seed, err := bip32SeedFromWords(c.Text, "")
		if err != nil || hex.EncodeToString(seed) != c.BIP32SeedHex {
			t.Errorf("bip32 seed of %+q = %x (%v), want %s", c.Text, seed, err, c.BIP32SeedHex)
		}
	}
	if oldWordSeeds != 1 { // the "spiral squeeze …" old word seed
		t.Errorf("%d old word seeds among the cases, want 1", oldWordSeeds)
	}
	for _, c := range x.NormalizeCases {
		if got := normalizeText(c.Text); got != c.Normalized {
			t.Errorf("normalizeText(%+q) = %+q, want %+q", c.Text, got, c.Normalized)
		}
	}
	pc := x.PassphraseCase
	seed, err := bip32SeedFromWords(pc.Text, pc.Passphrase)
	if err != nil || hex.EncodeToString(seed) != pc.BIP32SeedHex {
		t.Errorf("seed with passphrase = %x, want %s", seed, pc.BIP32SeedHex)
	}
}

func TestElectrumMadeSeeds(t *testing.T) {
	x := loadExtra(t)
	want := map[string]string{"standard": "standard", "segwit": "segwit", "2fa": "2fa", "2fa_segwit": "2fa_segwit",
		"segwit_264": "segwit", "standard_128": "standard"}
	for k, seeds := range x.MadeSeeds {
		if len(seeds) == 0 {
			t.Fatalf("no seeds for %s", k)
		}
		for _, s := range seeds {
			if got := SeedType(s); got != want[k] {
				t.Errorf("SeedType(Electrum %s seed) = %q", k, got)
			}
			if i, ok := mnemonicDecode(s); !ok || mnemonicEncode(i) != s {
				t.Errorf("mnemonic round trip failed for an Electrum %s seed", k)
			}
		}
	}
}

func TestElectrumWordList(t *testing.T) {
	x := loadExtra(t)
	sum := sha256.Sum256([]byte(strings.Join(englishWords(), "\n")))
	if got := hex.EncodeToString(sum[:]); got != x.EnglishSHA256 || len(englishWords()) != 2048 {
		t.Fatalf("go-bip39 English list differs from Electrum's english.txt: %s vs %s", got, x.EnglishSHA256)
	}
	for _, c := range x.MnemonicEncode {
		i, ok := new(big.Int).SetString(c.Int, 10)
		if !ok {
			t.Fatal(c.Int)
		}
		if got := mnemonicEncode(i); got != c.Words {
			t.Errorf("mnemonicEncode(%s) = %q, want %q", c.Int, got, c.Words)
		}
		back, ok := mnemonicDecode(c.Words)
		if !ok || back.Cmp(i) != 0 {
			t.Errorf("mnemonicDecode(%q) = %v", c.Words, back)
		}
	}
	for _, c := range x.BIP39Checksum {
		cs, wl := bip39ChecksumValid(c.Text)
		if cs != c.Result[0] || wl != c.Result[1] {
			t.Errorf("bip39ChecksumValid(%q) = %v %v, want %v", c.Text, cs, wl, c.Result)
		}
	}
}

func TestElectrumMasterKeysAddressesScriptsWIFs(t *testing.T) {
	x := loadExtra(t)
	for netName, nx := range x.Networks {
		n := mustNet(t, netName)
		if len(nx.MasterKeys) == 0 || len(nx.Addresses) == 0 || len(nx.Scripts) == 0 || len(nx.WIFs) == 0 {
			t.Fatalf("%s: incomplete tables", netName)
		}
		for _, c := range nx.MasterKeys {
			if got := IsMasterKey(c.Text, n); got != c.IsMasterKey {
				t.Errorf("%s: IsMasterKey(%.12q…) = %v, want %v", netName, c.Text, got, c.IsMasterKey)
			}
		}
		for _, c := range nx.Addresses {
			if got := n.ValidAddress(c.Address); got != c.Valid {
				t.Errorf("%s: ValidAddress(%q) = %v, want %v", netName, c.Address, got, c.Valid)
				continue
			}
			if !c.Valid {
				continue
			}
			script, err := n.PkScript(c.Address)
			if err != nil || c.Script == nil || hex.EncodeToString(script) != *c.Script {
				t.Errorf("%s: PkScript(%q) = %x %v, want %v", netName, c.Address, script, err, c.Script)
			}
		}
		for _, c := range nx.Scripts {
			b, _ := hex.DecodeString(c.Script)
			got, ok := n.AddressFromScript(b)
			if ok != (c.Address != nil) || (ok && got != *c.Address) {
				t.Errorf("%s: AddressFromScript(%s) = %q %v, want %v", netName, c.Script, got, ok, c.Address)
			}
		}
		for _, c := range nx.WIFs {
			w, ok := deserializePrivKey(c.Text, n)
			if ok != (c.Info != nil) {
				t.Errorf("%s: deserializePrivKey(#%d) ok=%v, Electrum %v", netName, len(c.Text), ok, c.Info != nil)
				continue
			}
			if !ok {
				continue
			}
			var pub []byte
			if w.compressed {
				pub = w.priv.PubKey().SerializeCompressed()
			} else {
				pub = w.priv.PubKey().SerializeUncompressed()
			}
			if hex.EncodeToString(pub) != c.Info.PubKey || w.compressed != c.Info.Compressed {
				t.Errorf("%s: WIF pubkey %x compressed %v, want %s %v", netName, pub, w.compressed, c.Info.PubKey, c.Info.Compressed)
			}
			wantType := c.Info.Type
			if wantType == "p2sh" {
				wantType = "unknown"
			}
			if w.scriptType.String() != wantType {
				t.Errorf("%s: WIF type %s, want %s", netName, w.scriptType, c.Info.Type)
			}
			if c.Info.Address != nil {
				addr, _, err := n.PubKeyAddress(w.scriptType, pub)
				if err != nil || addr != *c.Info.Address || !w.importable {
					t.Errorf("%s: WIF address %s %v, want %s", netName, addr, err, *c.Info.Address)
				}
			} else if w.importable {
				t.Errorf("%s: WIF of type %s importable", netName, c.Info.Type)
			}
		}
	}
}

// TestElectrumRestore compares Parse with Electrum's restore_wallet_from_text
// on each network.
func TestElectrumRestore(t *testing.T) {
	x := loadExtra(t)
	for netName, nx := range x.Networks {
		n := mustNet(t, netName)
		if len(nx.Restore) == 0 {
			t.Fatalf("%s: no restore cases", netName)
		}
		for i, c := range nx.Restore {
			m, err := Parse(c.Text, n)
			r := c.Result
			switch {
			case r.Error == "NotImplementedError": // multisig xpub in a standard wallet
				if !errors.Is(err, ErrUnsupportedKey) {
					t.Errorf("%s #%d: err %v, want ErrUnsupportedKey", netName, i, err)
				}
			case r.Error != "":
				if !errors.Is(err, ErrUnrecognized) && !errors.Is(err, ErrUnsupportedKey) {
					t.Errorf("%s #%d: Parse succeeded (%v) where Electrum failed with %s", netName, i, m, r.Error)
				}
			case r.Wallet == "Standard_Wallet":
				if len(r.MPK) == 128 && (err != nil || !m.Old()) { // old keystore
					t.Errorf("%s #%d: old wallet: err %v", netName, i, err)
					continue
				}
				if err != nil {
					t.Errorf("%s #%d: Parse: %v", netName, i, err)
					continue
				}
				if m.MasterPublicKey() != r.MPK || m.ScriptType().String() != r.TxinType || !m.Deterministic() {
					t.Errorf("%s #%d: mpk %s type %s, want %s %s", netName, i, m.MasterPublicKey(), m.ScriptType(), r.MPK, r.TxinType)
				}
				if m.HasPrivateKeys() == r.WatchingOnly {
					t.Errorf("%s #%d: HasPrivateKeys %v, watching_only %v", netName, i, m.HasPrivateKeys(), r.WatchingOnly)
				}
				for chain, addrs := range [][]string{r.Receiving, r.Change} {
					for j, want := range addrs {
						k, err := m.Derive(chain == 1, uint32(j))
						if err != nil || k.Address != want {
							t.Errorf("%s #%d: Derive(%d,%d) = %s %v, want %s", netName, i, chain, j, k.Address, err, want)
						}
					}
				}
			case r.Wallet == "Imported_Wallet":
				if err != nil {
					t.Errorf("%s #%d: Parse: %v", netName, i, err)
					continue
				}
				if m.Deterministic() || m.MasterPublicKey() != "" || m.HasPrivateKeys() == r.WatchingOnly {
					t.Errorf("%s #%d: imported wallet flags wrong", netName, i)
				}
				keys := m.Imported()
				if len(keys) != len(r.Addresses) {
					t.Fatalf("%s #%d: %d keys, want %d", netName, i, len(keys), len(r.Addresses))
				}
				for j, k := range keys {
					wantType := r.TxinTypes[j]
					if wantType == "address" {
						wantType = "unknown"
					}
					if k.Address != r.Addresses[j] || k.ScriptType.String() != wantType || k.Index != uint32(j) {
						t.Errorf("%s #%d: key %d = %s %s, want %s %s", netName, i, j, k.Address, k.ScriptType, r.Addresses[j], r.TxinTypes[j])
					}
					if m.HasPrivateKeys() {
						p, err := m.ImportedPrivKey(k.Address)
						if err != nil {
							t.Errorf("ImportedPrivKey: %v", err)
						} else if pk := p.PubKey(); hex.EncodeToString(pk.SerializeCompressed()) != hex.EncodeToString(k.PubKey) &&
							hex.EncodeToString(pk.SerializeUncompressed()) != hex.EncodeToString(k.PubKey) {
							t.Errorf("ImportedPrivKey does not match PubKey")
						}
					}
				}
			default:
				t.Fatalf("%s #%d: unexpected Electrum result %+v", netName, i, r)
			}
			if err != nil {
				assertNoLeak(t, c.Text, err)
			}
		}
	}
}

// assertNoLeak fails if err's text contains the material or any
// whitespace-separated part of it longer than 3 characters.
func assertNoLeak(t *testing.T, material string, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(material) != "" && strings.Contains(msg, strings.TrimSpace(material)) {
		t.Errorf("error %q contains the key material", msg)
	}
	for _, p := range pySplit(material) {
		if len(p) > 3 && strings.Contains(msg, p) {
			t.Errorf("error %q contains part %q of the key material", msg, p)
		}
	}
}
