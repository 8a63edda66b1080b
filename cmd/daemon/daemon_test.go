package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/daemon"
)

// TestDaemonAcceptance is issue 2's acceptance: with a backend that points
// nowhere, the wallet-less probes answer while a wallet call is still
// waiting for sync, with the contract's shapes; the wallet call then fails
// clearly after the sync bound; bad credentials get 200/-32600/id null;
// oversized and junk bodies get JSON errors and the daemon keeps serving;
// SIGTERM closes websockets with 1001 and exits 0.
func TestDaemonAcceptance(t *testing.T) {
	const syncTimeout = 5 * time.Second
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER=ws://u:secretpw@127.0.0.1:1",
		"BTC_SYNC_TIMEOUT="+syncTimeout.String())

	// A wallet call waits for sync (which never comes) for syncTimeout.
	type walletReply struct {
		status int
		body   string
		took   time.Duration
	}
	walletCall := make(chan walletReply, 1)
	go func() {
		start := time.Now()
		status, body := p.Post("electrum", "electrumz", []byte(`{"id":5,"method":"getbalance","params":{"xpub":"vpub5VdhwUaxSFZyZ3NYMCoLHudFMJiFHiL9pywcAuUf129Ee2Nqm3eWp1ptAKVMGjug97TnF1H8NM1sjqxkaDhJdFGEZNxWire1QdQ7AvR8wXH"}}`))
		walletCall <- walletReply{status, body, time.Since(start)}
	}()

	probe := func(body string) map[string]any {
		t.Helper()
		status, reply := p.Post("electrum", "electrumz", []byte(body))
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(reply), &m); err != nil {
			t.Fatalf("reply %q: %v", reply, err)
		}
		if _, ok := m["id"]; !ok {
			t.Fatalf("reply without id: %s", reply)
		}
		return m
	}
	help := probe(`{"jsonrpc":"2.0","id":1,"method":"help"}`)
	names := map[string]bool{}
	list, _ := help["result"].([]any)
	for _, n := range list {
		s, _ := n.(string)
		if names[s] {
			t.Errorf("help lists %q twice", s)
		}
		names[s] = true
	}
	// The methods the merchant API and the SDK call (contract.md §6).
	for _, m := range []string{"help", "validatekey", "validateaddress", "make_seed", "getinfo", "version", "getmpk",
		"getbalance", "add_request", "get_request", "list_requests", "close_wallet", "get_updates", "payto",
		"paytomany", "broadcast", "get_tx_status", "getaddresshistory", "signtransaction", "get_default_fee",
		"get_tx_size", "getconfig", "setconfig", "listunspent", "createnewaddress", "onchain_history"} {
		if !names[m] {
			t.Errorf("help does not list %s", m)
		}
	}
	vk := probe(`{"id":2,"method":"validatekey","params":["vpub5VdhwUaxSFZyZ3NYMCoLHudFMJiFHiL9pywcAuUf129Ee2Nqm3eWp1ptAKVMGjug97TnF1H8NM1sjqxkaDhJdFGEZNxWire1QdQ7AvR8wXH"]}`)
	if vk["result"] != true {
		t.Errorf("validatekey(vpub) on regtest: %v", vk)
	}
	vk = probe(`{"id":3,"method":"validatekey","params":{"key":"xpub6CksRyeg4kNqqECJQh7AnUzVaHqpc2adePFZXKcGjt6q2nwNQc59AJ6UNnspuXtktVeTTKqF7JNP7B8bnqytPB5etb72Wm8GGjopEvWYzf8"}}`)
	if vk["result"] != false {
		t.Errorf("validatekey(mainnet xpub) on regtest: %v", vk)
	}
	info := probe(`{"id":4,"method":"getinfo"}`)
	res, _ := info["result"].(map[string]any)
	for _, k := range []string{"network", "path", "server", "blockchain_height", "server_height", "connected",
		"version", "synchronized", "total_wallets"} {
		if _, ok := res[k]; !ok {
			t.Errorf("getinfo lacks %q: %v", k, res)
		}
	}
	if res["connected"] != false || res["network"] != "regtest" {
		t.Errorf("getinfo: %v", res)
	}
	if s, _ := res["server"].(string); strings.Contains(s, "secretpw") {
		t.Errorf("getinfo leaks the backend password: %q", s)
	}
	select {
	case r := <-walletCall:
		t.Errorf("the wallet call ended (after %v: %s) before the wallet-less probes were answered: they waited for sync", r.took, r.body)
	default:
	}
	// The wallet call fails clearly once the sync bound has passed, never
	// hangs.
	select {
	case r := <-walletCall:
		if r.status != 200 || !strings.Contains(r.body, `"code":-32603`) || !strings.Contains(r.body, "not synchronized") {
			t.Errorf("getbalance without a node: %d %s", r.status, r.body)
		}
		if r.took < syncTimeout {
			t.Errorf("getbalance failed after %v, before the sync bound %v", r.took, syncTimeout)
		}
	case <-time.After(syncTimeout + 60*time.Second):
		t.Fatal("getbalance without a node hangs")
	}

	status, body := p.Get("electrum", "electrumz", "/spec")
	var specDoc map[string]json.RawMessage
	if status != 200 || json.Unmarshal([]byte(body), &specDoc) != nil || len(specDoc) != 4 || specDoc["exceptions"] == nil {
		t.Errorf("/spec: %d %s", status, body)
	}

	// Wrong password on every probe: HTTP 200, -32600, id null.
	for _, body := range []string{`{"id":1,"method":"help"}`, `{"id":2,"method":"getinfo"}`} {
		status, reply := p.Post("electrum", "wrong", []byte(body))
		if status != 200 || reply != `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}` {
			t.Errorf("bad auth: %d %s", status, reply)
		}
	}
	if status, body := p.Get("electrum", "wrong", "/spec"); status != 200 || !strings.Contains(body, "-32600") {
		t.Errorf("/spec bad auth: %d %s", status, body)
	}

	// A 3 MiB body and a junk batch get JSON errors; the daemon keeps serving.
	status, reply := p.Post("electrum", "electrumz", bytes.Repeat([]byte("x"), 3<<20))
	if status != 200 || !strings.Contains(reply, `"code":-32700`) || !strings.Contains(reply, `"id":null`) {
		t.Errorf("3 MiB body: %d %.200s", status, reply)
	}
	status, reply = p.Post("electrum", "electrumz", []byte(`[1,"x",null,{},{"method":7},[],{"id":9,"method":"help","params":"z"}]`))
	var batch []map[string]any
	if status != 200 || json.Unmarshal([]byte(reply), &batch) != nil || len(batch) != 7 {
		t.Errorf("junk batch: %d %s", status, reply)
	}
	if m := probe(`{"id":6,"method":"version"}`); m["result"] == nil {
		t.Errorf("daemon stopped serving after junk: %v", m)
	}

	// SIGTERM: websockets get 1001, the process exits 0.
	ws := p.Dial("")
	p.Signal(syscall.SIGTERM)
	if err := ws.Closed(10 * time.Second); err == nil || err.Code != websocket.CloseGoingAway {
		t.Errorf("websocket on SIGTERM: %v", err)
	}
	err, exited := p.Wait(20 * time.Second)
	if !exited {
		t.Fatal("daemon did not exit after SIGTERM")
	}
	if err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if strings.Contains(p.Logs(), "secretpw") {
		t.Error("logs contain the backend password")
	}
}

func TestDaemonLightningRefused(t *testing.T) {
	cmd := exec.Command(daemon.Binary(t), "btc")
	cmd.Env = []string{"HOME=" + t.TempDir(), "BTC_LIGHTNING=yes", "BTC_PORT=1"}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), "lightning is not available") {
		t.Errorf("BTC_LIGHTNING=yes: err %v, output %s", err, out)
	}
}

func TestDaemonUsage(t *testing.T) {
	out, err := exec.Command(daemon.Binary(t), "doge").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "usage") {
		t.Errorf("unknown coin: %v %s", err, out)
	}
}
