package vectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/walletd/walletd/internal/repo"
)

// ECWallet is one wallet of ../shared/testdata/electroncash/vectors.json, as
// Electron Cash 4.4.2 (Bitcart's pin) restored it.
type ECWallet struct {
	Label       string `json:"label"`
	Kind        string `json:"kind"`
	KeyMaterial string `json:"key_material"`
	// MPK is the wallet's master public key (xpub/tpub, or the 128-hex old
	// master public key); empty for an imported wallet.
	MPK        string `json:"mpk"`
	ScriptType string `json:"script_type"`
	// Receiving and Change are cashaddrs with the network's prefix.
	Receiving []string `json:"receiving"`
	Change    []string `json:"change"`
	// ReceivingLegacy and ChangeLegacy are the base58 forms.
	ReceivingLegacy []string `json:"receiving_legacy"`
	ChangeLegacy    []string `json:"change_legacy"`
	// ReceivingBare is the prefix-less cashaddr Electron Cash prints.
	ReceivingBare []string `json:"receiving_cashaddr_bare"`
	// ReceivingToken is the token-aware cashaddr (z…/r…) with prefix.
	ReceivingToken []string `json:"receiving_token"`
	// ReceivingScriptTypes is "p2pkh" or "p2sh" per receiving address of an
	// imported address list.
	ReceivingScriptTypes []string `json:"receiving_script_types"`

	WalletType   string `json:"wallet_type"`
	KeystoreType string `json:"keystore_type"`
	SeedType     string `json:"seed_type"`
	Derivation   string `json:"derivation"`
	BIP32SeedHex string `json:"bip32_seed_hex"`
	// OldSeedHex is the hex seed of an old (Electrum 1.x) seed.
	OldSeedHex string `json:"old_seed_hex"`
	// BIP39EntropyHex is the entropy of a BIP39 seed.
	BIP39EntropyHex string `json:"bip39_entropy_hex"`
	// RootSeedHex and DerivationFromRoot say where an account-level
	// extended key comes from (standard-account wallets).
	RootSeedHex        string `json:"root_seed_hex"`
	DerivationFromRoot string `json:"derivation_from_root"`
	// Imports lists the keys of an imported WIF list.
	Imports []ECImport `json:"imports"`
}

// ECImport is one imported private key of an imported-WIF wallet.
type ECImport struct {
	WIF           string `json:"wif"`
	Compressed    bool   `json:"compressed"`
	SecretHex     string `json:"secret_hex"`
	Address       string `json:"address"`
	AddressLegacy string `json:"address_legacy"`
}

// ECRestore is what Electron Cash's restore makes of one input.
type ECRestore struct {
	Accepted     bool   `json:"accepted"`
	Error        string `json:"error"`
	WalletType   string `json:"wallet_type"`
	KeystoreType string `json:"keystore_type"`
	SeedType     string `json:"seed_type"`
	Derivation   string `json:"derivation"`
	FirstAddress string `json:"first_address"`
}

// ECAddRequest is the addrequest example: the call, the clock, and the
// replies of Electron Cash and of Bitcart (which adds sent_amount).
type ECAddRequest struct {
	Wallet       string         `json:"wallet"`
	Clock        int64          `json:"clock"`
	Call         string         `json:"call"`
	ElectronCash map[string]any `json:"electroncash_reply"`
	GetRequest   map[string]any `json:"electroncash_getrequest_reply"`
	Bitcart      map[string]any `json:"bitcart_reply"`
}

// ECNetwork holds one network's Electron Cash vectors.
type ECNetwork struct {
	Wallets []ECWallet `json:"wallets"`
	// ValidateKey maps an input to Bitcart's validatekey verdict.
	ValidateKey map[string]bool `json:"validatekey"`
	// ValidateAddress maps an input to Address.is_valid.
	ValidateAddress map[string]bool `json:"validateaddress"`
	// Restore maps an input to what restore makes of it.
	Restore    map[string]ECRestore `json:"restore"`
	AddRequest ECAddRequest         `json:"addrequest_example"`
}

// ECFile is the whole Electron Cash vectors document.
type ECFile struct {
	Generator string               `json:"generator"`
	Notes     string               `json:"notes"`
	Networks  map[string]ECNetwork `json:"networks"`
}

// ElectronCashPath returns the path of the Electron Cash vectors:
// ../shared/testdata/electroncash/vectors.json beside the module root.
func ElectronCashPath(t testing.TB) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatalf("vectors: %v", err)
	}
	return filepath.Join(root, "..", "shared", "testdata", "electroncash", "vectors.json")
}

// LoadElectronCash reads and decodes the Electron Cash vectors, failing the
// test (never skipping it) when they are missing or hold no wallets.
func LoadElectronCash(t testing.TB) ECFile {
	t.Helper()
	raw, err := os.ReadFile(ElectronCashPath(t))
	if err != nil {
		t.Fatalf("vectors: %v (shared/ must sit beside the repository)", err)
	}
	var f ECFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("vectors: %v", err)
	}
	for _, name := range []string{"mainnet", "testnet", "regtest"} {
		if len(f.Networks[name].Wallets) == 0 {
			t.Fatalf("vectors: electroncash %s has no wallets", name)
		}
	}
	return f
}
