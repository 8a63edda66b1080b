package electrum

import (
	"encoding/json"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

func TestCoinPerKBToSat(t *testing.T) {
	for in, want := range map[string]int64{
		"0.00001":     1_000,
		"1e-05":       1_000, // Python's json writes small floats so
		"1E-5":        1_000,
		"0.00012345":  12_345,
		"0.000123451": 12_346, // rounded up
		"0.1":         10_000_000,
		"1":           100_000_000,
	} {
		got, ok, err := coinPerKBToSat(json.Number(in))
		if err != nil || !ok || got != want {
			t.Errorf("%s → %d %v %v, want %d", in, got, ok, err, want)
		}
	}
	for _, none := range []string{"-1", "0", "-0.5"} {
		if _, ok, err := coinPerKBToSat(json.Number(none)); ok || err != nil {
			t.Errorf("%s: ok %v err %v, want no estimate", none, ok, err)
		}
	}
	for _, bad := range []string{"abc", "1.5", "1e300", ""} {
		if _, ok, err := coinPerKBToSat(json.Number(bad)); err == nil || ok {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestScripthashAndStatus(t *testing.T) {
	// The protocol's example: the scripthash of the P2PKH script of the
	// genesis block's address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa (Electrum
	// protocol docs, "Script Hashes").
	script := []byte{0x76, 0xa9, 0x14, 0x62, 0xe9, 0x07, 0xb1, 0x5c, 0xbf, 0x27, 0xd5, 0x42, 0x53, 0x99, 0xeb, 0xf6,
		0xf0, 0xfb, 0x50, 0xeb, 0xb8, 0x8f, 0x18, 0x88, 0xac}
	if got := hashScript(script).String(); got != "8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161" {
		t.Fatalf("scripthash %s", got)
	}
	h, ok := parseScripthash("8b01df4e368ea28f8dc0423bcf7a4923e3a12d307c875e47a0cfbf90b5c39161")
	if !ok || h != hashScript(script) {
		t.Fatal("parseScripthash does not invert String")
	}
	if status(nil) != "" {
		t.Fatal("an empty history has a status")
	}
	id, _ := chainhash.NewHashFromStr("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b")
	// sha256("4a5e…a33b:0:"), computed independently (Python hashlib).
	if got := status([]histItem{{txid: *id, height: 0}}); got != "29beb5f7aa420d38725efea2ca01053de004f20816024af33a7a80a6b5a95a5b" {
		t.Fatalf("status %s", got)
	}
}
