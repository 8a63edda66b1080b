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
// nowhere, the wallet-less probes answer at once with the contract's shapes;
// bad credentials get 200/-32600/id null; oversized and junk bodies get JSON
// errors and the daemon keeps serving; SIGTERM closes websockets with 1001
// and exits 0.
func TestDaemonAcceptance(t *testing.T) {
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER=ws://u:secretpw@127.0.0.1:1", "BTC_SYNC_TIMEOUT=1s")

	probe := func(body string) map[string]any {
		t.Helper()
		start := time.Now()
		status, reply := p.Post("electrum", "electrumz", []byte(body))
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s took %v", body, took)
		}
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
	if names, _ := help["result"].([]any); len(names) < 4 {
		t.Errorf("help: %v", help)
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
	// A wallet call without a reachable node fails clearly after the sync
	// bound (BTC_SYNC_TIMEOUT), never hangs.
	start := time.Now()
	status, reply := p.Post("electrum", "electrumz", []byte(`{"id":5,"method":"getbalance","params":{"xpub":"vpub5VdhwUaxSFZyZ3NYMCoLHudFMJiFHiL9pywcAuUf129Ee2Nqm3eWp1ptAKVMGjug97TnF1H8NM1sjqxkaDhJdFGEZNxWire1QdQ7AvR8wXH"}}`))
	if took := time.Since(start); status != 200 || took > 5*time.Second ||
		!strings.Contains(reply, `"code":-32603`) || !strings.Contains(reply, "not synchronized") {
		t.Errorf("getbalance without a node: %d after %v: %s", status, took, reply)
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
	status, reply = p.Post("electrum", "electrumz", bytes.Repeat([]byte("x"), 3<<20))
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
