// Package vectors loads ../shared/testdata/electrum/vectors.json, the keys
// and addresses Electrum 4.3.4 produced for fixed seeds and master keys, and
// ../shared/testdata/electrum-ltc/vectors.json, Electrum-LTC's (the version
// Bitcart pins) in the same schema with more tables, for tests anywhere in the
// module. A missing file fails the test: it is never a reason to skip.
package vectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/walletd/walletd/internal/repo"
)

// Wallet is one Electrum wallet of the vectors.
type Wallet struct {
	Label        string   `json:"label"`
	Kind         string   `json:"kind"`
	KeyMaterial  string   `json:"key_material"`
	MPK          string   `json:"mpk"`
	ScriptType   string   `json:"script_type"`
	Receiving    []string `json:"receiving"`
	Change       []string `json:"change"`
	SeedType     string   `json:"seed_type"`
	BIP32SeedHex string   `json:"bip32_seed_hex"`
	// WalletType, KeystoreType and Derivation are Electrum's wallet_type
	// ("standard", "imported"), keystore type ("bip32", "old",
	// "imported"; empty for an address list) and root derivation
	// (Electrum-LTC file only).
	WalletType   string `json:"wallet_type"`
	KeystoreType string `json:"keystore_type"`
	Derivation   string `json:"derivation"`
}

// Restore is what Electrum's restore makes of one input (Electrum-LTC file).
type Restore struct {
	Accepted     bool   `json:"accepted"`
	Error        string `json:"error"`
	WalletType   string `json:"wallet_type"`
	KeystoreType string `json:"keystore_type"`
	SeedType     string `json:"seed_type"`
	Derivation   string `json:"derivation"`
	FirstAddress string `json:"first_address"`
	ScriptType   string `json:"script_type"`
}

// Constants are a network's Electrum constants (Electrum-LTC file).
type Constants struct {
	WIFPrefixConstant string `json:"wif_prefix_constant"`
	WIFFirstByteP2PKH string `json:"wif_first_byte_p2pkh"`
	AddrTypeP2PKH     int    `json:"addrtype_p2pkh"`
	AddrTypeP2SH      int    `json:"addrtype_p2sh"`
	SegwitHRP         string `json:"segwit_hrp"`
	BIP44CoinType     int    `json:"bip44_coin_type"`
	// HDVersions maps "xpub"/"xprv" to script type → "0x…" version.
	HDVersions map[string]map[string]string `json:"hd_versions"`
}

// Network holds one network's vectors.
type Network struct {
	Wallets []Wallet `json:"wallets"`
	// ValidKey maps a string to Electrum's is_master_key or is_seed verdict.
	ValidKey map[string]bool `json:"is_master_key_or_electrum_seed"`
	// ValidateKey is Bitcart's validatekey verdict, ValidateAddress
	// Electrum's is_address and Restore what restore makes of each input
	// (Electrum-LTC file only).
	ValidateKey     map[string]bool    `json:"validatekey"`
	ValidateAddress map[string]bool    `json:"validateaddress"`
	Restore         map[string]Restore `json:"restore"`
}

// File is the whole vectors document.
type File struct {
	Networks map[string]Network `json:"networks"`
	// Constants holds each network's Electrum constants (Electrum-LTC file
	// only).
	Constants map[string]Constants `json:"network_constants"`
}

// Path returns the vectors file's path: ../shared beside the module root.
func Path(t testing.TB) string {
	t.Helper()
	return pathOf(t, "electrum")
}

func pathOf(t testing.TB, dir string) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatalf("vectors: %v", err)
	}
	return filepath.Join(root, "..", "shared", "testdata", dir, "vectors.json")
}

// Load reads and decodes the (BTC) Electrum vectors, failing the test if
// they are missing.
func Load(t testing.TB) File {
	t.Helper()
	return load(t, Path(t))
}

// LoadLTC reads and decodes the Electrum-LTC vectors
// (../shared/testdata/electrum-ltc/vectors.json), failing the test if they
// are missing.
func LoadLTC(t testing.TB) File {
	t.Helper()
	return load(t, pathOf(t, "electrum-ltc"))
}

func load(t testing.TB, path string) File {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("vectors: %v (shared/ must sit beside the repository)", err)
	}
	var f File
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("vectors: %v", err)
	}
	if len(f.Networks) == 0 {
		t.Fatal("vectors: no networks")
	}
	return f
}
