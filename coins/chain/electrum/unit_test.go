package electrum

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/coins/params"
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

// TestDecodeTxMWEB: on Litecoin a transaction served with MWEB data (a
// HogEx as litecoind serves it from a block; a peg-in from the mempool)
// decodes to its canonical part, whose hash is the txid; a pure MWEB
// transaction cannot be in a script's history (a lie). On Bitcoin the
// MWEB serialization is refused.
func TestDecodeTxMWEB(t *testing.T) {
	// Block 432's HogEx from litecoind 0.21.2.1 regtest (flag 0x08, an
	// empty MWEB part).
	const hogEx = "02000000000801d9b49e4b0592d940f007c8896f504b4a5608ea47999c21bd21e81d2b9fd1d7fd0000000000ffffffff01e666814a00000000225820d6f475577188d752821c86d99eba2ad1a8c53e928470fc5ebc1122a49d996b6a0000000000"
	hogExID := mustID(t, "47f081fb66e707294ce5ba557098bce378b54f6358316bd632eae28c243efe42")
	pegIn := fixture(t, "../ltcwire/testdata/tx_pegin.hex")
	pegInID := mustID(t, "ac93f4d5207fa2f8e3962ff758ca2317457366b2f65137bdee5bd2cda436e13c")
	mwebOnly := fixture(t, "../ltcwire/testdata/tx_mwebonly.hex")

	ltc := backendFor(t, params.LTC)
	for _, c := range []struct {
		raw string
		id  chainhash.Hash
	}{{hogEx, hogExID}, {pegIn, pegInID}} {
		tx, err := ltc.decodeTx(c.id, c.raw)
		if err != nil || tx.TxHash() != c.id || len(tx.TxOut) == 0 {
			t.Fatalf("LTC decodeTx(%v) = %v", c.id, err)
		}
		if _, err := ltc.decodeTx(chainhash.Hash{1}, c.raw); !errors.Is(err, errLie) {
			t.Fatalf("LTC decodeTx under another id: %v, want a lie", err)
		}
	}
	if _, err := ltc.decodeTx(chainhash.Hash{2}, mwebOnly); !errors.Is(err, errLie) {
		t.Fatalf("LTC decodeTx(MWEB-only) = %v, want a lie", err)
	}
	btc := backendFor(t, params.BTC)
	if _, err := btc.decodeTx(hogExID, hogEx); !errors.Is(err, errLie) {
		t.Fatalf("BTC decodeTx(HogEx) = %v, want a lie", err)
	}
}

func backendFor(t *testing.T, coin func(string) (*params.Network, error)) *Backend {
	t.Helper()
	net, err := coin("regtest")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := headers.ForNetwork(net)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := servers.Parse("127.0.0.1:1:t")
	b, err := New(Config{Servers: list, Rules: rules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func mustID(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatal(err)
	}
	return *h
}

// TestBusyError: ElectrumX's refusals for cost (aiorpcX's codes, or their
// messages under another code) are throttling; other server errors, and
// errors that are not the server's, are not.
func TestBusyError(t *testing.T) {
	for _, e := range []error{
		&rpc.Error{Code: -101, Message: "excessive resource usage"},
		&rpc.Error{Code: -102, Message: "server busy - request timed out"},
		&rpc.Error{Code: 1, Message: "Excessive resource usage"},
		fmt.Errorf("scripthash.subscribe: %w", &rpc.Error{Code: -101, Message: "x"}),
	} {
		if !busyError(e) {
			t.Errorf("%v: not seen as throttling", e)
		}
	}
	for _, e := range []error{
		&rpc.Error{Code: 1, Message: "history too large"},
		&rpc.Error{Code: 2, Message: "daemon error: No such mempool or blockchain transaction"},
		errors.New("excessive resource usage"), // not from the server
		nil,
	} {
		if busyError(e) {
			t.Errorf("%v: seen as throttling", e)
		}
	}
}

// TestSqueeze: each throttled link halves the next link's sessions and
// window for that server only, down to the floors (or Config's own values
// when lower).
func TestSqueeze(t *testing.T) {
	a, _ := servers.Parse("a.example:50001:t")
	c, _ := servers.Parse("c.example:50001:t")
	b := &Backend{cfg: Config{SessionScripts: 2_000, Window: 100}, squeezed: map[servers.Server]int{}}
	type lim struct{ per, win int }
	var got []lim
	for range 5 {
		p, w := b.squeeze(a[0])
		got = append(got, lim{p, w})
	}
	want := []lim{{1_000, 50}, {500, 25}, {250, 12}, {250, 10}, {250, 10}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("squeezes: %v, want %v", got, want)
		}
	}
	if p, w := b.limitsLocked(c[0]); p != 2_000 || w != 100 {
		t.Fatalf("another server: %d, %d", p, w)
	}
	small := &Backend{cfg: Config{SessionScripts: 100, Window: 4}, squeezed: map[servers.Server]int{}}
	if p, w := small.squeeze(a[0]); p != 100 || w != 4 {
		t.Fatalf("configured below the floors: %d, %d", p, w)
	}
}
