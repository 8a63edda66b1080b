package keys

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/vectors"
)

// loadVectors reads ../shared/testdata/electrum/vectors.json (made by
// Electrum 4.3.4); a missing file fails the test, never skips it.
func loadVectors(t testing.TB) *vectors.File {
	t.Helper()
	v := vectors.Load(t)
	return &v
}

func mustNet(t testing.TB, name string) *params.Network {
	t.Helper()
	n, err := params.BTC(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sortedNetworks(v *vectors.File) []string {
	var names []string
	for n := range v.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestElectrumVectorsWallets(t *testing.T) {
	v := loadVectors(t)
	for _, netName := range sortedNetworks(v) {
		nv := v.Networks[netName]
		n := mustNet(t, netName)
		if len(nv.Wallets) == 0 {
			t.Fatalf("%s: no wallets in vectors", netName)
		}
		byMPK := map[string]string{} // mpk -> fingerprint
		for _, w := range nv.Wallets {
			t.Run(netName+"/"+w.Label, func(t *testing.T) {
				m, err := Parse(w.KeyMaterial, n)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got := m.MasterPublicKey(); got != w.MPK {
					t.Errorf("MasterPublicKey = %s, want %s", got, w.MPK)
				}
				if got := m.ScriptType().String(); got != w.ScriptType {
					t.Errorf("ScriptType = %s, want %s", got, w.ScriptType)
				}
				wantKind := map[string]Kind{"seed": KindSeed, "master_public_key": KindMasterPublic,
					"master_private_key": KindMasterPrivate}[w.Kind]
				if m.Kind() != wantKind {
					t.Errorf("Kind = %v, want %v (%s)", m.Kind(), wantKind, w.Kind)
				}
				if m.HasPrivateKeys() != (w.Kind != "master_public_key") {
					t.Errorf("HasPrivateKeys = %v for %s", m.HasPrivateKeys(), w.Kind)
				}
				if !m.Deterministic() || m.Imported() != nil {
					t.Errorf("Deterministic = %v, Imported = %v", m.Deterministic(), m.Imported())
				}
				for chain, addrs := range [][]string{w.Receiving, w.Change} {
					if len(addrs) == 0 {
						t.Fatalf("no addresses for chain %d", chain)
					}
					for i, want := range addrs {
						k, err := m.Derive(chain == 1, uint32(i))
						if err != nil {
							t.Fatalf("Derive(%d,%d): %v", chain, i, err)
						}
						if k.Address != want {
							t.Errorf("Derive(%d,%d) = %s, want %s", chain, i, k.Address, want)
						}
						if k.Change != (chain == 1) || k.Index != uint32(i) || len(k.PubKey) != 33 {
							t.Errorf("Derive(%d,%d) metadata %+v", chain, i, k)
						}
						script, err := n.PkScript(want)
						if err != nil || hex.EncodeToString(script) != hex.EncodeToString(k.PkScript) {
							t.Errorf("Derive(%d,%d) PkScript %x, want %x (%v)", chain, i, k.PkScript, script, err)
						}
						if m.HasPrivateKeys() {
							priv, err := m.PrivKey(chain == 1, uint32(i))
							if err != nil {
								t.Fatalf("PrivKey: %v", err)
							}
							if got := priv.PubKey().SerializeCompressed(); hex.EncodeToString(got) != hex.EncodeToString(k.PubKey) {
								t.Errorf("PrivKey(%d,%d) does not match PubKey", chain, i)
							}
						} else if _, err := m.PrivKey(chain == 1, uint32(i)); err == nil {
							t.Errorf("PrivKey on watch-only material succeeded")
						}
					}
				}
				if w.Kind == "seed" {
					if got := SeedType(w.KeyMaterial); got != w.SeedType {
						t.Errorf("SeedType = %q, want %q", got, w.SeedType)
					}
					seed, err := bip32SeedFromWords(w.KeyMaterial, "")
					if err != nil {
						t.Fatal(err)
					}
					if got := hex.EncodeToString(seed); got != w.BIP32SeedHex {
						t.Errorf("bip32 seed = %s, want %s", got, w.BIP32SeedHex)
					}
				}
				// the account xpub restores the same wallet with the same fingerprint
				pub, err := Parse(m.MasterPublicKey(), n)
				if err != nil {
					t.Fatalf("Parse(mpk): %v", err)
				}
				if pub.Fingerprint() != m.Fingerprint() {
					t.Errorf("fingerprint of mpk %s != %s", pub.Fingerprint(), m.Fingerprint())
				}
				if len(m.Fingerprint()) != 64 {
					t.Errorf("fingerprint %q", m.Fingerprint())
				}
				if fp, ok := byMPK[w.MPK]; ok && fp != m.Fingerprint() {
					t.Errorf("same mpk, different fingerprints: %s %s", fp, m.Fingerprint())
				}
				byMPK[w.MPK] = m.Fingerprint()
				if s := m.String(); strings.Contains(s, w.KeyMaterial) {
					t.Errorf("String leaks material")
				}
			})
		}
	}
}

func TestElectrumVectorsIsMasterKeyOrSeed(t *testing.T) {
	v := loadVectors(t)
	for _, netName := range sortedNetworks(v) {
		table := v.Networks[netName].ValidKey
		if len(table) == 0 {
			t.Fatalf("%s: empty is_master_key_or_electrum_seed table", netName)
		}
		n := mustNet(t, netName)
		for s, want := range table {
			if got := ValidateKey(s, n); got != want {
				t.Errorf("%s: ValidateKey(%.20q…) = %v, want %v", netName, s, got, want)
			}
			isKey := strings.HasPrefix(s[min(len(s), 1):], "pub") || strings.HasPrefix(s[min(len(s), 1):], "prv")
			if isKey && IsMasterKey(s, n) != want {
				t.Errorf("%s: IsMasterKey(%.20q…) = %v, want %v", netName, s, !want, want)
			}
		}
	}
}

// TestSeedXprvXpubFingerprints checks that a seed, its account xprv and its
// account xpub are one wallet: same fingerprint, same addresses.
func TestSeedXprvXpubFingerprints(t *testing.T) {
	v := loadVectors(t)
	for _, netName := range sortedNetworks(v) {
		n := mustNet(t, netName)
		for _, w := range v.Networks[netName].Wallets {
			if w.Kind != "seed" {
				continue
			}
			seedM, err := Parse(w.KeyMaterial, n)
			if err != nil {
				t.Fatal(err)
			}
			xprv := accountXprv(t, seedM)
			prvM, err := Parse(xprv, n)
			if err != nil {
				t.Fatalf("%s/%s: Parse(xprv): %v", netName, w.Label, err)
			}
			pubM, err := Parse(w.MPK, n)
			if err != nil {
				t.Fatal(err)
			}
			if prvM.Kind() != KindMasterPrivate || pubM.Kind() != KindMasterPublic {
				t.Errorf("kinds %v %v", prvM.Kind(), pubM.Kind())
			}
			if seedM.Fingerprint() != prvM.Fingerprint() || prvM.Fingerprint() != pubM.Fingerprint() {
				t.Errorf("%s/%s: fingerprints differ: seed %s xprv %s xpub %s", netName, w.Label,
					seedM.Fingerprint(), prvM.Fingerprint(), pubM.Fingerprint())
			}
			if prvM.MasterPublicKey() != w.MPK {
				t.Errorf("xprv mpk %s, want %s", prvM.MasterPublicKey(), w.MPK)
			}
			for i := uint32(0); i < 3; i++ {
				a, _ := seedM.Derive(false, i)
				b, _ := prvM.Derive(false, i)
				c, _ := pubM.Derive(false, i)
				if a.Address != b.Address || b.Address != c.Address {
					t.Errorf("addresses differ at %d: %s %s %s", i, a.Address, b.Address, c.Address)
				}
				pa, _ := seedM.PrivKey(false, i)
				pb, _ := prvM.PrivKey(false, i)
				if !pa.Key.Equals(&pb.Key) {
					t.Errorf("private keys differ at %d", i)
				}
			}
		}
	}
}

// accountXprv serializes the account private key of deterministic material
// (test helper; the package never exports it).
func accountXprv(t *testing.T, m *Material) string {
	t.Helper()
	hd, ok := m.net.HDVersionFor(m.scriptType)
	if !ok || m.sec == nil {
		t.Fatal("no private account key")
	}
	return base58Check(m.sec.account.serialize(hd.Private, true))
}

// TestChainKeysDerivedOnFirstUse: an extended key's chain keys are
// derived when an address is first asked for, by whichever of concurrent
// callers comes first, and every caller gets Electrum's addresses.
func TestChainKeysDerivedOnFirstUse(t *testing.T) {
	v := loadVectors(t)
	n := mustNet(t, "regtest")
	for _, w := range v.Networks["regtest"].Wallets {
		if !strings.HasPrefix(w.KeyMaterial, "vpub") && !strings.HasPrefix(w.KeyMaterial, "tpub") {
			continue
		}
		m, err := Parse(w.KeyMaterial, n)
		if err != nil {
			t.Fatal(err)
		}
		if m.chains == nil || m.chains.keys[0] != nil {
			t.Fatalf("%s: chain keys derived by Parse", w.Label)
		}
		done := make(chan error, 8)
		for g := range 8 {
			go func() {
				i := g % len(w.Receiving)
				k, err := m.Derive(false, uint32(i))
				if err == nil && k.Address != w.Receiving[i] {
					err = fmt.Errorf("receiving %d: %s, want %s", i, k.Address, w.Receiving[i])
				}
				done <- err
			}()
		}
		for range 8 {
			if err := <-done; err != nil {
				t.Fatalf("%s: %v", w.Label, err)
			}
		}
		return
	}
	t.Fatal("no regtest extended public key among the vectors")
}
