package utxo

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/internal/vectors"
	"github.com/walletd/walletd/spec"
)

// heldStore holds the engine's first scan of the address records (its
// start-up reading of the tracked wallets) until release is closed.
type heldStore struct {
	wallet.Store
	entered, release chan struct{}
	once             sync.Once
}

func (h *heldStore) View(ctx context.Context, fn func(wallet.KV) error) error {
	return h.Store.View(ctx, func(kv wallet.KV) error { return fn(heldKV{kv, h}) })
}

type heldKV struct {
	wallet.KV
	h *heldStore
}

func (k heldKV) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	if bucket == "a" { // the address records
		k.h.once.Do(func() {
			close(k.h.entered)
			<-k.h.release
		})
	}
	return k.KV.Scan(bucket, prefix, start, fn)
}

// TestServesWhileReadingWallets: while the engine still reads the tracked
// wallets, the daemon answers its wallet-less methods, /readyz says not
// ready, and a wallet method fails after SyncTimeout with the documented
// error (code -32603, "not synchronized … reading the tracked wallets").
func TestServesWhileReadingWallets(t *testing.T) {
	held := &heldStore{entered: make(chan struct{}), release: make(chan struct{})}
	c := newDaemonWith(t, "regtest", &estimatesOnly{}, func(cfg *Config) {
		cfg.SyncTimeout = 300 * time.Millisecond
		cfg.wrapStore = func(s wallet.Store) wallet.Store { held.Store = s; return held }
	})
	t.Cleanup(func() { close(held.release) }) // before the daemon's Close: it waits for the reading
	<-held.entered
	if r := c.call("help"); r.Error != nil {
		t.Fatalf("help while reading the wallets: %+v", *r.Error)
	}
	w := vectors.Load(t).Networks["regtest"].Wallets[0]
	if !c.boolResult("validatekey", w.KeyMaterial) {
		t.Fatal("validatekey while reading the wallets: false")
	}
	resp, err := http.Get(c.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("/readyz ready while the wallets are being read")
	}
	t0 := time.Now()
	r := c.call("getbalance", map[string]any{"xpub": w.KeyMaterial})
	if r.Error == nil || r.Error.Code != int(spec.Internal) || !strings.Contains(r.Error.Message, "reading the tracked wallets") {
		t.Fatalf("getbalance while reading the wallets: %+v", r.Error)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("getbalance failed after %v, before SyncTimeout", d)
	}
}
