package params_test

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/internal/vectors"
)

// The Electrum-LTC vectors (bitcart/electrum-ltc@5fd9931, the version Bitcart
// pins) go through the same loader as the BTC ones and are checked in full:
// constants, every wallet's addresses, validatekey, is_master_key_or_seed,
// validateaddress and restore.

func ltcNet(t *testing.T, name string) *params.Network {
	t.Helper()
	n, err := params.LTC(name)
	if err != nil {
		t.Fatalf("LTC(%q): %v", name, err)
	}
	return n
}

func ltcNetworks(t *testing.T, v vectors.File) []string {
	t.Helper()
	var names []string
	for n := range v.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "mainnet,regtest,testnet" {
		t.Fatalf("vector networks %v", names)
	}
	return names
}

func TestLTCVectorsConstants(t *testing.T) {
	v := vectors.LoadLTC(t)
	for _, name := range ltcNetworks(t, v) {
		c, ok := v.Constants[name]
		if !ok {
			t.Fatalf("%s: no network_constants", name)
		}
		n := ltcNet(t, name)
		hexByte := func(s string) byte {
			b, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 8)
			if err != nil {
				t.Fatalf("%s: bad byte %q", name, s)
			}
			return byte(b)
		}
		if n.WIFBase != hexByte(c.WIFPrefixConstant) || n.WIFPrefix != hexByte(c.WIFFirstByteP2PKH) {
			t.Errorf("%s: WIF base %#x prefix %#x, want %s %s", name, n.WIFBase, n.WIFPrefix, c.WIFPrefixConstant, c.WIFFirstByteP2PKH)
		}
		if int(n.P2PKHAddrID) != c.AddrTypeP2PKH || int(n.P2SHAddrID) != c.AddrTypeP2SH ||
			n.Bech32HRP != c.SegwitHRP || int(n.BIP44CoinType) != c.BIP44CoinType {
			t.Errorf("%s: %d %d %q %d, want %+v", name, n.P2PKHAddrID, n.P2SHAddrID, n.Bech32HRP, n.BIP44CoinType, c)
		}
		if n.Chain.PubKeyHashAddrID != n.P2PKHAddrID || n.Chain.ScriptHashAddrID != n.P2SHAddrID ||
			n.Chain.Bech32HRPSegwit != n.Bech32HRP || n.Chain.PrivateKeyID != n.WIFPrefix {
			t.Errorf("%s: Chain disagrees with the network: %+v", name, n.Chain)
		}
		count := 0
		for kind, types := range c.HDVersions {
			for st, want := range types {
				typ, err := params.ParseScriptType(st)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				hv, ok := n.HDVersionFor(typ)
				if !ok {
					t.Fatalf("%s: no HD version for %s", name, st)
				}
				got := hv.Public
				if kind == "xprv" {
					got = hv.Private
				}
				if "0x"+hex.EncodeToString(got[:]) != want {
					t.Errorf("%s: %s %s = %x, want %s", name, kind, st, got, want)
				}
				count++
			}
		}
		if count != 10 {
			t.Errorf("%s: %d HD versions checked, want 10", name, count)
		}
	}
}

func TestLTCVectorsWallets(t *testing.T) {
	v := vectors.LoadLTC(t)
	for _, name := range ltcNetworks(t, v) {
		n := ltcNet(t, name)
		nv := v.Networks[name]
		if len(nv.Wallets) != 12 {
			t.Fatalf("%s: %d wallets", name, len(nv.Wallets))
		}
		for _, w := range nv.Wallets {
			t.Run(name+"/"+w.Label, func(t *testing.T) {
				m, err := keys.Parse(w.KeyMaterial, n)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if w.WalletType == "imported" {
					checkImported(t, n, m, w)
					return
				}
				if got := m.MasterPublicKey(); got != w.MPK {
					t.Errorf("MasterPublicKey = %s, want %s", got, w.MPK)
				}
				if got := m.ScriptType().String(); got != w.ScriptType {
					t.Errorf("ScriptType = %s, want %s", got, w.ScriptType)
				}
				for chain, addrs := range [][]string{w.Receiving, w.Change} {
					for i, want := range addrs {
						k, err := m.Derive(chain == 1, uint32(i))
						if err != nil {
							t.Fatalf("Derive(%d,%d): %v", chain, i, err)
						}
						if k.Address != want {
							t.Errorf("Derive(%d,%d) = %s, want %s", chain, i, k.Address, want)
						}
						script, err := n.PkScript(want)
						if err != nil || hex.EncodeToString(script) != hex.EncodeToString(k.PkScript) {
							t.Errorf("PkScript(%s) = %x, %v; derived %x", want, script, err, k.PkScript)
						}
						if a, ok := n.AddressFromScript(k.PkScript); !ok || a != want {
							t.Errorf("AddressFromScript = %s %v, want %s", a, ok, want)
						}
					}
				}
				if w.Kind == "seed" && w.KeystoreType == "bip32" {
					if got := keys.SeedType(w.KeyMaterial); got != w.SeedType {
						t.Errorf("SeedType = %q, want %q", got, w.SeedType)
					}
				}
			})
		}
	}
}

// checkImported: an imported wallet lists its addresses sorted as strings,
// and (for keys) the private key of each.
func checkImported(t *testing.T, n *params.Network, m *keys.Material, w vectors.Wallet) {
	t.Helper()
	imp := m.Imported()
	var got []string
	for _, k := range imp {
		got = append(got, k.Address)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(w.Receiving, " ") {
		t.Errorf("imported addresses %v, want %v", got, w.Receiving)
	}
	if (w.KeystoreType == "imported") != m.HasPrivateKeys() {
		t.Errorf("HasPrivateKeys = %v for keystore %q", m.HasPrivateKeys(), w.KeystoreType)
	}
	if m.HasPrivateKeys() {
		for _, a := range w.Receiving {
			if _, err := m.ImportedPrivKey(a); err != nil {
				t.Errorf("ImportedPrivKey(%s): %v", a, err)
			}
		}
	}
	for _, a := range w.Receiving {
		if !n.ValidAddress(a) {
			t.Errorf("imported address %s not valid", a)
		}
	}
}

func TestLTCVectorsKeyValidation(t *testing.T) {
	v := vectors.LoadLTC(t)
	for _, name := range ltcNetworks(t, v) {
		n := ltcNet(t, name)
		nv := v.Networks[name]
		if len(nv.ValidateKey) == 0 || len(nv.ValidKey) == 0 {
			t.Fatalf("%s: empty key tables", name)
		}
		for s, want := range nv.ValidateKey {
			got := keys.ValidateKey(s, n)
			if got != want {
				t.Errorf("%s: ValidateKey(%.24q…) = %v, want %v (validatekey)", name, s, got, want)
			}
		}
		for s, want := range nv.ValidKey {
			isSeed := keys.SeedType(s) != ""
			got := isSeed || keys.IsMasterKey(s, n)
			if got != want {
				t.Errorf("%s: is_master_key or is_seed(%.24q…) = %v, want %v", name, s, got, want)
			}
		}
	}
}

func TestLTCVectorsValidateAddress(t *testing.T) {
	v := vectors.LoadLTC(t)
	for _, name := range ltcNetworks(t, v) {
		n := ltcNet(t, name)
		table := v.Networks[name].ValidateAddress
		if len(table) < 18 {
			t.Fatalf("%s: %d addresses", name, len(table))
		}
		for s, want := range table {
			if got := n.ValidAddress(s); got != want {
				t.Errorf("%s: ValidAddress(%q) = %v, want %v", name, s, got, want)
			}
			_, err := n.PkScript(s)
			if (err == nil) != want {
				t.Errorf("%s: PkScript(%q) error %v, want valid=%v", name, s, err, want)
			}
		}
	}
}

func TestLTCVectorsRestore(t *testing.T) {
	v := vectors.LoadLTC(t)
	for _, name := range ltcNetworks(t, v) {
		n := ltcNet(t, name)
		for input, want := range v.Networks[name].Restore {
			label := fmt.Sprintf("%s/%.24q", name, input)
			m, err := keys.Parse(input, n)
			if !want.Accepted {
				if err == nil {
					t.Errorf("%s: accepted, Electrum-LTC refuses it (%s)", label, want.Error)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: Parse: %v", label, err)
				continue
			}
			var first string
			if m.Deterministic() {
				k, err := m.Derive(false, 0)
				if err != nil {
					t.Fatalf("%s: Derive: %v", label, err)
				}
				first = k.Address
			} else {
				var addrs []string
				for _, k := range m.Imported() {
					addrs = append(addrs, k.Address)
				}
				sort.Strings(addrs)
				first = addrs[0]
			}
			if first != want.FirstAddress {
				t.Errorf("%s: first address %s, want %s", label, first, want.FirstAddress)
			}
			if want.WalletType == "standard" && m.ScriptType().String() != want.ScriptType {
				t.Errorf("%s: script type %s, want %s", label, m.ScriptType(), want.ScriptType)
			}
		}
	}
}
