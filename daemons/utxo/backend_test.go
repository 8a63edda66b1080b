package utxo

import (
	"errors"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/params"
)

func TestOpenBackend(t *testing.T) {
	mainnet, _ := params.BTC("mainnet")
	regtest, _ := params.BTC("regtest")
	for _, c := range []struct {
		server string
		net    *params.Network
		want   string // "electrum", "btcdws", "none"
	}{
		{"", mainnet, "electrum"}, // Bitcart: the public servers
		{"", regtest, "none"},     // regtest needs an explicit server
		{"127.0.0.1:50001:t", regtest, "electrum"},
		{"electrum.example.org:50002:s, 10.0.0.2:50001:t", mainnet, "electrum"},
		{"tcp://127.0.0.1:50001", regtest, "electrum"},
		{"ssl://127.0.0.1:50002", regtest, "electrum"},
		{"ws://u:p@127.0.0.1:18334", regtest, "btcdws"},
	} {
		b, err := OpenBackend(Config{Server: c.server, DataPath: t.TempDir()}, c.net, nil)
		if err != nil {
			t.Fatalf("OpenBackend(%q): %v", c.server, err)
		}
		got := "none"
		switch b.(type) {
		case *electrum.Backend:
			got = "electrum"
		case *btcdws.Backend:
			got = "btcdws"
		}
		if got != c.want {
			t.Errorf("OpenBackend(%q, %s) = %s, want %s", c.server, c.net.Name, got, c.want)
		}
	}
	for _, bad := range []string{"http//x", "ftp://h:1", "host", "h:0:t", "ws://u:s3cret@h:%zz", "tcp://u:s3cret@h:1/x"} {
		_, err := OpenBackend(Config{Server: bad}, regtest, nil)
		if !errors.Is(err, ErrBadServer) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenBackend(%q) = %v, want ErrBadServer without the password", bad, err)
		}
	}
}
