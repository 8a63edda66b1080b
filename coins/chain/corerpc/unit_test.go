package corerpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

func TestNewRejectsBadConfig(t *testing.T) {
	for _, u := range []string{"", "ws://u:p@127.0.0.1:1", "http://127.0.0.1", "http://u:p@:1", "http//x", "https://u:s3cret@h:%zz"} {
		_, err := New(Config{URL: u}, nil)
		if err == nil {
			t.Errorf("New(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q) leaks the password: %v", u, err)
		}
	}
	for _, c := range []Config{
		{URL: "http://u:p@127.0.0.1:1", Filters: "maybe"},
		{URL: "http://u:p@127.0.0.1:1", ZMQ: []string{"ipc:///tmp/x"}},
	} {
		if _, err := New(c, nil); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Config{URL: "http://u:p@127.0.0.1:1", Birthday: -7}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.PollInterval != DefaultPollInterval || c.Filters != "auto" || c.Birthday != BirthdayTip || c.ScanParallel != DefaultScanParallel {
		t.Fatalf("defaults %+v", c)
	}
	c, _ = Config{URL: "http://h:1", ZMQ: []string{"tcp://127.0.0.1:2"}, Filters: "BIP158"}.withDefaults()
	if c.PollInterval != DefaultPollIntervalZMQ || c.Filters != MethodBIP158 {
		t.Fatalf("with ZMQ %+v", c)
	}
}

func TestCheckScript(t *testing.T) {
	for _, s := range [][]byte{nil, {0x6a, 1, 2}, make([]byte, 10_001)} {
		if err := checkScript(s); !errors.Is(err, chain.ErrUnsupported) {
			t.Errorf("checkScript(%d bytes) = %v", len(s), err)
		}
	}
	if err := checkScript([]byte{0x51}); err != nil {
		t.Errorf("OP_TRUE refused: %v", err)
	}
}

// TestMatchParentsFirst: a mempool listing the child before the parent
// still matches the child's spend of the parent's watched output.
func TestMatchParentsFirst(t *testing.T) {
	script := []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	parent := wire.NewMsgTx(2)
	parent.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{7}}, nil, nil))
	parent.AddTxOut(wire.NewTxOut(1000, script))
	child := wire.NewMsgTx(2)
	child.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: parent.TxHash(), Index: 0}, nil, nil))
	child.AddTxOut(wire.NewTxOut(900, []byte{0x51}))
	other := wire.NewMsgTx(2)
	other.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{8}}, nil, nil))
	other.AddTxOut(wire.NewTxOut(5, []byte{0x52}))

	m := newMatcher()
	m.scripts[string(script)] = struct{}{}
	got := m.matchAll(chain.ParentsFirst([]*wire.MsgTx{child, other, parent}))
	if len(got) != 2 || got[0].TxHash() != parent.TxHash() || got[1].TxHash() != child.TxHash() {
		t.Fatalf("matched %d txs in the wrong order", len(got))
	}
	// Without the sort the child, listed first, is missed.
	m = newMatcher()
	m.scripts[string(script)] = struct{}{}
	if got := m.matchAll([]*wire.MsgTx{child, other, parent}); len(got) != 1 {
		t.Fatalf("unsorted: %d matches (the sort would be useless)", len(got))
	}
}

// TestCookieReread: the cookie is read when connecting and again when the
// node answers 401 (a restarted node has a new cookie).
func TestCookieReread(t *testing.T) {
	dir := t.TempDir()
	cookie := filepath.Join(dir, ".cookie")
	if err := os.WriteFile(cookie, []byte("__cookie__:one"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "one"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "__cookie__" || p != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"result":7,"error":null,"id":1}`))
	}))
	defer srv.Close()
	ep, err := parseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := newRPCClient(ep, cookie, nil, 5*time.Second, 1)
	defer c.close()
	if err := c.loadCredentials(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.call(context.Background(), &n, "getblockcount"); err != nil || n != 7 {
		t.Fatalf("call = %d, %v", n, err)
	}
	want = "two"
	if err := os.WriteFile(cookie, []byte("__cookie__:two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.call(context.Background(), &n, "getblockcount"); err != nil {
		t.Fatalf("after the cookie changed: %v", err)
	}
	want = "three" // not in the file: authentication fails clearly
	err = c.call(context.Background(), &n, "getblockcount")
	if !errors.Is(err, errAuth) || !errors.Is(err, chain.ErrNotConnected) || strings.Contains(err.Error(), "two") {
		t.Fatalf("wrong cookie: %v", err)
	}
}
