package btcdws_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/integration/harness"
)

// TestTLSRootCAsFile: a node certificate named by file is read at each
// connection attempt. While the file is missing or holds no certificate the
// backend retries (saying why); once the node's certificate is there it
// connects, without a restart. This is how a container trusts the
// certificate its node writes on first start.
func TestTLSRootCAsFile(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithTLS())
	certFile := filepath.Join(t.TempDir(), "rpc.cert")
	var logs syncWriter
	b, err := btcdws.New(btcdws.Config{URL: n.WSURL(), Params: n.Params(),
		TLS:          btcdws.TLSOptions{RootCAsFile: certFile},
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 10*time.Second, "an attempt failing on the missing file", func() bool {
		return strings.Contains(logs.String(), "node certificate: open "+certFile)
	})
	if err := os.WriteFile(certFile, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 10*time.Second, "an attempt failing on a file without a certificate", func() bool {
		return strings.Contains(logs.String(), "no PEM certificate in "+certFile)
	})
	if b.Connected() {
		t.Fatal("connected without a trusted certificate")
	}
	if err := os.WriteFile(certFile, n.TLSCert(), 0o644); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
}
