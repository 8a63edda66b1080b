package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/repo"
)

func TestOldWordList(t *testing.T) {
	words := strings.Fields(oldWordsText)
	if len(words) != 1626 || len(oldIndex()) != 1626 {
		t.Fatalf("%d words, %d distinct; Electrum's old list has 1626", len(words), len(oldIndex()))
	}
	if strings.Join(words, " ") != oldWordsText {
		t.Error("the list is not single-space separated")
	}
	sum := sha256.Sum256([]byte(oldWordsText))
	if got := hex.EncodeToString(sum[:]); got != "430ce8fc15a42a6097782a10144d1277e2596b7591be338254a257dfcf1f57d6" {
		t.Errorf("old word list hash %s differs from Electrum 4.3.4's", got)
	}
}

// oldWallet is one wallet of testdata/electrum_old.json.
type oldWallet struct {
	Label        string   `json:"label"`
	KeyMaterial  string   `json:"key_material"`
	SeedType     string   `json:"seed_type"`
	MPK          string   `json:"mpk"`
	Receiving    []string `json:"receiving"`
	Change       []string `json:"change"`
	ReceivingWIF []string `json:"receiving_wif"`
	ChangeWIF    []string `json:"change_wif"`
}

// oldFile is testdata/electrum_old.json (testdata/gen_electrum_old.py, run
// on Electrum 4.3.4).
type oldFile struct {
	Networks map[string]struct {
		Wallets []oldWallet `json:"wallets"`
	} `json:"networks"`
	IsOldSeed []struct {
		Text     string `json:"text"`
		Old      bool   `json:"old"`
		SeedType string `json:"seed_type"`
	} `json:"is_old_seed"`
}

func loadOld(t *testing.T) oldFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "electrum_old.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f oldFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Networks) == 0 || len(f.IsOldSeed) == 0 {
		t.Fatal("electrum_old.json is incomplete")
	}
	return f
}

// TestOldSeedsAsElectrum: old seeds (12 and 24 words, hex, odd case and
// spacing, the largest word groups) and their master public keys load as
// Electrum's Old_KeyStore: same mpk, addresses and private keys; the seed
// and its mpk are one wallet (one fingerprint).
func TestOldSeedsAsElectrum(t *testing.T) {
	f := loadOld(t)
	for netName, nw := range f.Networks {
		n := mustNet(t, netName)
		for _, w := range nw.Wallets {
			t.Run(netName+"/"+w.Label, func(t *testing.T) {
				if got := SeedType(w.KeyMaterial); got != w.SeedType || !ValidateKey(w.KeyMaterial, n) {
					t.Errorf("SeedType %q (Electrum %q), ValidateKey %v", got, w.SeedType, ValidateKey(w.KeyMaterial, n))
				}
				m, err := Parse(w.KeyMaterial, n)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !m.Old() || m.Kind() != KindSeed || !m.HasPrivateKeys() || !m.Deterministic() || m.ScriptType().String() != "p2pkh" {
					t.Errorf("old %v kind %v private %v deterministic %v type %v", m.Old(), m.Kind(), m.HasPrivateKeys(),
						m.Deterministic(), m.ScriptType())
				}
				if m.MasterPublicKey() != w.MPK {
					t.Errorf("mpk %s, Electrum %s", m.MasterPublicKey(), w.MPK)
				}
				watch, err := Parse(w.MPK, n)
				if err != nil {
					t.Fatalf("Parse(mpk): %v", err)
				}
				if !watch.Old() || watch.Kind() != KindMasterPublic || watch.HasPrivateKeys() || !IsMasterKey(w.MPK, n) {
					t.Errorf("mpk: old %v kind %v private %v", watch.Old(), watch.Kind(), watch.HasPrivateKeys())
				}
				if watch.Fingerprint() != m.Fingerprint() {
					t.Error("the seed and its mpk have different fingerprints")
				}
				wifs := [][]string{w.ReceivingWIF, w.ChangeWIF}
				for chain, addrs := range [][]string{w.Receiving, w.Change} {
					for i, want := range addrs {
						for _, mat := range []*Material{m, watch} {
							k, err := mat.Derive(chain == 1, uint32(i))
							if err != nil || k.Address != want || len(k.PubKey) != 65 {
								t.Errorf("Derive(%d,%d) = %s (%d-byte key) %v, Electrum %s", chain, i, k.Address, len(k.PubKey), err, want)
							}
						}
						k, _ := m.Derive(chain == 1, uint32(i))
						p, err := m.PrivKey(chain == 1, uint32(i))
						if err != nil || !bytes.Equal(p.PubKey().SerializeUncompressed(), k.PubKey) {
							t.Errorf("PrivKey(%d,%d) does not match Derive: %v", chain, i, err)
						}
						if i < len(wifs[chain]) {
							wk, ok := deserializePrivKey(wifs[chain][i], n)
							if !ok || !bytes.Equal(wk.priv.Serialize(), p.Serialize()) || wk.compressed {
								t.Errorf("PrivKey(%d,%d) is not Electrum's exported key", chain, i)
							}
						}
					}
				}
				if _, err := watch.PrivKey(false, 0); err != ErrNoPrivateKey {
					t.Errorf("watch-only PrivKey: %v", err)
				}
				assertNoLeak(t, w.KeyMaterial, errString(m))
			})
		}
	}
	for _, c := range f.IsOldSeed {
		if got := isOldSeed(c.Text); got != c.Old {
			t.Errorf("isOldSeed(%q) = %v, Electrum %v", c.Text, got, c.Old)
		}
		if got := SeedType(c.Text); got != c.SeedType {
			t.Errorf("SeedType(%q) = %q, Electrum %q", c.Text, got, c.SeedType)
		}
	}
}

// errString gives Material's printed form as an error, for assertNoLeak.
func errString(m *Material) error { return &printed{m.String()} }

type printed struct{ s string }

func (p *printed) Error() string { return p.s }

// TestOldSeedsAsElectronCash checks the old-seed and old-mpk wallets of
// ../shared/testdata/electroncash/vectors.json (Electron Cash derives old
// wallets exactly as Electrum; its legacy addresses are Bitcoin's).
func TestOldSeedsAsElectronCash(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "..", "shared", "testdata", "electroncash", "vectors.json"))
	if err != nil {
		t.Fatalf("%v (shared/ must sit beside the repository)", err)
	}
	var f struct {
		Networks map[string]struct {
			Wallets []struct {
				Label           string   `json:"label"`
				KeyMaterial     string   `json:"key_material"`
				MPK             string   `json:"mpk"`
				ReceivingLegacy []string `json:"receiving_legacy"`
				ChangeLegacy    []string `json:"change_legacy"`
			} `json:"wallets"`
		} `json:"networks"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for netName, nw := range f.Networks {
		n := mustNet(t, netName)
		for _, w := range nw.Wallets {
			if !strings.HasPrefix(w.Label, "old-") {
				continue
			}
			m, err := Parse(w.KeyMaterial, n)
			if err != nil {
				t.Fatalf("%s %s: %v", netName, w.Label, err)
			}
			if m.MasterPublicKey() != w.MPK || m.HasPrivateKeys() != (w.Label == "old-seed") {
				t.Errorf("%s %s: mpk %s private %v", netName, w.Label, m.MasterPublicKey(), m.HasPrivateKeys())
			}
			for chain, addrs := range [][]string{w.ReceivingLegacy, w.ChangeLegacy} {
				for i, want := range addrs {
					k, err := m.Derive(chain == 1, uint32(i))
					if err != nil || k.Address != want {
						t.Errorf("%s %s: Derive(%d,%d) = %s %v, want %s", netName, w.Label, chain, i, k.Address, err, want)
					}
					checked++
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d old-wallet addresses checked", checked)
	}
}

// BenchmarkParseOldSeed measures the key stretching of an old seed
// (100,000 SHA-256 rounds).
func BenchmarkParseOldSeed(b *testing.B) {
	n, _ := params.BTC("mainnet")
	for i := 0; i < b.N; i++ {
		if _, err := Parse("blame mold yearn naked obviously type fold draw fate cheer branch wheel", n); err != nil {
			b.Fatal(err)
		}
	}
}
