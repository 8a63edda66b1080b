package spec

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestCatalogHasContractCodes(t *testing.T) {
	want := map[Code]string{
		Unauthorized: "UnauthorizedError", ProcedureNotFound: "ProcedureNotFoundError",
		InvalidParams: "InvalidParamsError", WalletNotLoaded: "WalletNotLoadedError",
		InvalidTxHash: "InvalidTxHashError", TxNotFound: "TxNotFoundError",
		RequestNotFound: "RequestNotFoundError", InvalidAddress: "InvalidAddressError",
		LoadingWallet: "LoadingWalletError", NotEnoughFunds: "NotEnoughFundsError",
		InvalidNodeID: "InvalidNodeIDError", WalletExists: "WalletExistsError",
		InvalidLightningInv: "InvalidLightningInvoiceError", NoPathFound: "NoPathFoundError",
		LightningUnsupp: "LightningUnsupportedError", InvoiceNotFound: "InvoiceNotFoundError",
		WalletVersionMism: "WalletVersionMismatchError", NoConfigKey: "NoConfigKeyError",
		NoFeeEstimates: "NoFeeEstimatesError", BackendUnsupported: "BackendUnsupportedError",
	}
	for _, coin := range []string{"btc", "bch", "ltc"} {
		c, err := Load(coin, false)
		if err != nil {
			t.Fatal(err)
		}
		for code, name := range want {
			e, ok := c.Exceptions[strconv.Itoa(int(code))]
			if !ok || e.ExcName != name || e.Docstring == "" {
				t.Errorf("%s: code %d: got %+v, want exc_name %s", coin, code, e, name)
			}
		}
		for frag, code := range c.ElectrumMap {
			if !c.Has(Code(code)) {
				t.Errorf("%s: electrum_map %q maps to %d, not in exceptions", coin, frag, code)
			}
		}
		if c.Has(Internal) || c.Has(ParseError) {
			t.Errorf("%s: -32603/-32700 must stay out of the catalog", coin)
		}
	}
}

func TestCatalogShape(t *testing.T) {
	c, err := Load("BTC", true)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(c)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	if len(top) != 4 {
		t.Fatalf("want exactly 4 top-level keys, got %d: %s", len(top), raw)
	}
	for _, k := range []string{"version", "electrum_map", "exceptions", "capabilities"} {
		if _, ok := top[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	if string(top["capabilities"]) != `{"lightning":true}` {
		t.Errorf("capabilities = %s", top["capabilities"])
	}
}

func TestBCHOverlay(t *testing.T) {
	c, err := Load("bch", false)
	if err != nil {
		t.Fatal(err)
	}
	if c.ElectrumMap["invalid checksum in address"] != int(InvalidAddress) {
		t.Errorf("bch overlay not applied: %v", c.ElectrumMap)
	}
	b, _ := Load("btc", false)
	if _, ok := b.ElectrumMap["invalid checksum in address"]; ok {
		t.Error("bch overlay leaked into btc")
	}
}
