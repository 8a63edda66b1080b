package utxo

import (
	"errors"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/chain/corerpc"
	"github.com/walletd/walletd/coins/params"
)

// TestOpenBackendSchemes: http(s):// opens the Core backend with the
// <COIN>_* Core settings, ws(s):// the websocket one; a bad Core setting or
// scheme is refused without echoing the password.
func TestOpenBackendSchemes(t *testing.T) {
	net, err := params.LTC("regtest")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{CoreBackend: CoreBackend{Birthday: -1, BlockFilters: "auto"}}
	for server, want := range map[string]string{
		"http://u:p@127.0.0.1:19443": "core", "https://u:p@node.example:443": "core",
		"ws://u:p@127.0.0.1:19334": "ws", "": "none",
	} {
		cfg.Server = server
		b, err := OpenBackend(cfg, net, nil)
		if err != nil {
			t.Fatalf("%s: %v", server, err)
		}
		switch b.(type) {
		case *corerpc.Backend:
			if want != "core" {
				t.Errorf("%s opened the Core backend", server)
			}
		case *btcdws.Backend:
			if want != "ws" {
				t.Errorf("%s opened the websocket backend", server)
			}
		case nil:
			if want != "none" {
				t.Errorf("%s opened nothing", server)
			}
		}
	}
	cfg.Server = "http://u:s3cret@127.0.0.1:19443"
	cfg.BlockFilters = "sometimes"
	if _, err := OpenBackend(cfg, net, nil); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad LTC_BLOCK_FILTERS: %v", err)
	}
	cfg.BlockFilters, cfg.ZMQ = "auto", []string{"udp://x:1"}
	if _, err := OpenBackend(cfg, net, nil); err == nil {
		t.Fatal("a non-tcp ZMQ endpoint accepted")
	}
	cfg.ZMQ, cfg.Server = nil, "ftp://u:s3cret@127.0.0.1:1"
	if _, err := OpenBackend(cfg, net, nil); !errors.Is(err, ErrBadServer) || !strings.Contains(err.Error(), "http://") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unknown scheme: %v", err)
	}
}
