package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// buildDaemon compiles this command once per test binary run.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "daemon")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type proc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
}

// startDaemon runs the binary with env and waits until /healthz answers.
func startDaemon(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin, "btc")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		fmt.Sprintf("BTC_PORT=%d", port), "BTC_DATA_PATH=" + t.TempDir()}, env...)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("daemon logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) post(t *testing.T, user, pass string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.url+"/", bytes.NewReader(body))
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDaemonAcceptance is issue 2's acceptance: with a backend that points
// nowhere, the wallet-less probes answer at once with the contract's shapes;
// bad credentials get 200/-32600/id null; oversized and junk bodies get JSON
// errors and the daemon keeps serving; SIGTERM closes websockets with 1001
// and exits 0.
func TestDaemonAcceptance(t *testing.T) {
	bin := buildDaemon(t)
	p := startDaemon(t, bin, "BTC_NETWORK=regtest", "BTC_SERVER=ws://u:secretpw@127.0.0.1:1")

	probe := func(body string) map[string]any {
		t.Helper()
		start := time.Now()
		status, reply := p.post(t, "electrum", "electrumz", []byte(body))
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
	names, _ := help["result"].([]any)
	if len(names) < 4 {
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

	req, _ := http.NewRequest("GET", p.url+"/spec", nil)
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var specDoc map[string]json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&specDoc)
	resp.Body.Close()
	if len(specDoc) != 4 || specDoc["exceptions"] == nil {
		t.Errorf("/spec: %v", specDoc)
	}

	// Wrong password on every probe: HTTP 200, -32600, id null.
	for _, body := range []string{`{"id":1,"method":"help"}`, `{"id":2,"method":"getinfo"}`} {
		status, reply := p.post(t, "electrum", "wrong", []byte(body))
		if status != 200 || reply != `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}` {
			t.Errorf("bad auth: %d %s", status, reply)
		}
	}
	req, _ = http.NewRequest("GET", p.url+"/spec", nil)
	req.SetBasicAuth("electrum", "wrong")
	resp, _ = http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "-32600") {
		t.Errorf("/spec bad auth: %d %s", resp.StatusCode, b)
	}

	// A 3 MiB body and a junk batch get JSON errors; the daemon keeps serving.
	status, reply := p.post(t, "electrum", "electrumz", bytes.Repeat([]byte("x"), 3<<20))
	if status != 200 || !strings.Contains(reply, `"code":-32700`) || !strings.Contains(reply, `"id":null`) {
		t.Errorf("3 MiB body: %d %.200s", status, reply)
	}
	status, reply = p.post(t, "electrum", "electrumz", []byte(`[1,"x",null,{},{"method":7},[],{"id":9,"method":"help","params":"z"}]`))
	var batch []map[string]any
	if status != 200 || json.Unmarshal([]byte(reply), &batch) != nil || len(batch) != 7 {
		t.Errorf("junk batch: %d %s", status, reply)
	}
	if m := probe(`{"id":5,"method":"version"}`); m["result"] == nil {
		t.Errorf("daemon stopped serving after junk: %v", m)
	}

	// SIGTERM: websockets get 1001, the process exits 0.
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.url, "http")+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("websocket on SIGTERM: %v", err)
	}
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}
	if strings.Contains(p.logs.String(), "secretpw") {
		t.Error("logs contain the backend password")
	}
}

func TestDaemonLightningRefused(t *testing.T) {
	bin := buildDaemon(t)
	cmd := exec.Command(bin, "btc")
	cmd.Env = []string{"HOME=" + t.TempDir(), "BTC_LIGHTNING=yes", "BTC_PORT=1"}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), "lightning is not available") {
		t.Errorf("BTC_LIGHTNING=yes: err %v, output %s", err, out)
	}
}

func TestDaemonUsage(t *testing.T) {
	bin := buildDaemon(t)
	out, err := exec.Command(bin, "doge").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "usage") {
		t.Errorf("unknown coin: %v %s", err, out)
	}
}
