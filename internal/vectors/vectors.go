// Package vectors loads ../shared/testdata/electrum/vectors.json, the keys
// and addresses Electrum 4.3.4 produced for fixed seeds and master keys, for
// tests anywhere in the module. A missing file fails the test: it is never a
// reason to skip.
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
}

// Network holds one network's vectors.
type Network struct {
	Wallets []Wallet `json:"wallets"`
	// ValidKey maps a string to Electrum's is_master_key or is_seed verdict.
	ValidKey map[string]bool `json:"is_master_key_or_electrum_seed"`
}

// File is the whole vectors document.
type File struct {
	Networks map[string]Network `json:"networks"`
}

// Path returns the vectors file's path: ../shared beside the module root.
func Path(t testing.TB) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatalf("vectors: %v", err)
	}
	return filepath.Join(root, "..", "shared", "testdata", "electrum", "vectors.json")
}

// Load reads and decodes the vectors, failing the test if they are missing.
func Load(t testing.TB) File {
	t.Helper()
	raw, err := os.ReadFile(Path(t))
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
