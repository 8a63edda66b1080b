package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walletd/walletd/daemons/utxo"
	"github.com/walletd/walletd/integration/daemon"
)

// TestDaemonSilentConnections is the security review's first finding:
// 2,000 connections that send headers announcing a body and then nothing.
// Those without credentials are answered and closed at once; those with
// credentials are answered with a JSON error and closed when the read
// timeout (2s here) passes. The bound checked is generous (the behaviour is
// "closed", not a latency); the time measured is logged.
func TestDaemonSilentConnections(t *testing.T) {
	const readTimeout = 2 * time.Second
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_READ_TIMEOUT="+readTimeout.String(), "BTC_MAX_CONNS=4096",
		"BTC_MAX_CONCURRENT=4096")
	addr := strings.TrimPrefix(p.URL, "http://")
	auth := "Authorization: Basic ZWxlY3RydW06ZWxlY3RydW16\r\n" // electrum:electrumz
	type result struct {
		authed bool
		reply  string
		took   time.Duration
		err    error
	}
	const n = 2000
	results := make(chan result, n)
	start := time.Now()
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		authed := i%2 == 0
		hdr := "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000\r\n"
		if authed {
			hdr += auth
		}
		if _, err := io.WriteString(c, hdr+"\r\n"); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(readTimeout + 60*time.Second))
			b, err := io.ReadAll(c)
			results <- result{authed: authed, reply: string(b), took: time.Since(start), err: err}
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var slowest time.Duration
	unauthorized, timedOut, bad := 0, 0, 0
	for i := 0; i < n; i++ {
		r := <-results
		if r.err != nil {
			t.Fatalf("a silent connection was not closed by the daemon: %v (after %v)", r.err, r.took)
		}
		slowest = max(slowest, r.took)
		switch {
		case !r.authed && strings.Contains(r.reply, `"message":"Unauthorized"`):
			unauthorized++
		case r.authed && strings.Contains(r.reply, `"code":-32700`):
			timedOut++
		default:
			if bad++; bad <= 3 {
				t.Errorf("authed=%v: reply %q", r.authed, r.reply)
			}
		}
	}
	t.Logf("%d silent connections closed, the last %v after the first was opened (read timeout %v)", n, slowest, readTimeout)
	if unauthorized != n/2 || timedOut != n/2 {
		t.Errorf("%d unauthorised replies, %d read-timeout replies", unauthorized, timedOut)
	}
	if _, err := p.Call("", "help"); err != nil {
		t.Fatalf("daemon stopped serving: %v", err)
	}
	// Their goroutines are gone too.
	waitMetric(t, p, "go_goroutines", func(v float64) bool { return v < 200 })
}

// TestDaemonConnectionLimit: with BTC_MAX_CONNS connections open, more are
// answered with a JSON "server busy" and closed at once; once connections
// close, requests are served again.
func TestDaemonConnectionLimit(t *testing.T) {
	const limit = 4
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_MAX_CONNS="+strconv.Itoa(limit))
	http.DefaultClient.CloseIdleConnections()
	addr := strings.TrimPrefix(p.URL, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	busy := 0
	for i := 0; i < 2*limit; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		b, err := io.ReadAll(c)
		if err == nil {
			if !strings.Contains(string(b), "Server busy") {
				t.Errorf("connection %d closed with %q", i, b)
			}
			busy++
		}
	}
	if busy < limit {
		t.Errorf("%d of %d connections refused with a limit of %d", busy, 2*limit, limit)
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.Call("", "version"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("not served after the connections closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDaemonMetrics scrapes /metrics: it needs the credentials unless
// BTC_METRICS_PUBLIC, it carries every series the README documents, the
// request counter moves with a request, and the never-incremented
// walletd_events_published_total is gone.
func TestDaemonMetrics(t *testing.T) {
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest")
	if status, body := getNoAuth(t, p.URL+"/metrics"); status != 200 || !strings.Contains(body, `"message":"Unauthorized"`) {
		t.Errorf("/metrics without credentials: %d %.200s", status, body)
	}
	const helpOK = `walletd_rpc_requests_total{code="0",method="help"}`
	p.Must(nil, "", "help")
	before := scrape(t, p)
	for _, s := range []string{"walletd_rpc_requests_total", "walletd_rpc_request_duration_seconds_bucket",
		"walletd_rpc_busy_total", "walletd_auth_failures_total", "walletd_ws_clients",
		"walletd_ws_slow_clients_dropped_total", "walletd_wallets_tracked", "walletd_wallets_loaded",
		"walletd_chain_height", "walletd_synchronized", "walletd_backend_connected", "go_goroutines",
		"process_open_fds"} {
		if !strings.Contains(before, "\n"+s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	if strings.Contains(before, "walletd_events_published_total") {
		t.Error("walletd_events_published_total is served but never counts anything")
	}
	n0 := metricValue(before, helpOK)
	p.Must(nil, "", "help")
	if n1 := metricValue(scrape(t, p), helpOK); n1 != n0+1 {
		t.Errorf("%s went from %v to %v after one help call", helpOK, n0, n1)
	}
	p.Post("electrum", "wrong", []byte(`{"id":1,"method":"help"}`))
	if v := metricValue(scrape(t, p), "walletd_auth_failures_total"); v != 1 {
		t.Errorf("walletd_auth_failures_total = %v after one wrong password", v)
	}

	pub := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_METRICS_PUBLIC=true")
	if status, body := getNoAuth(t, pub.URL+"/metrics"); status != 200 || !strings.Contains(body, "walletd_chain_height") {
		t.Errorf("/metrics with BTC_METRICS_PUBLIC, no credentials: %d %.200s", status, body)
	}
}

func getNoAuth(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func scrape(t *testing.T, p *daemon.Proc) string {
	t.Helper()
	status, body := p.Get("electrum", "electrumz", "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d %.200s", status, body)
	}
	return "\n" + body
}

// metricValue returns the value of the series written exactly as name
// (with its labels), or -1 when absent.
func metricValue(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func waitMetric(t *testing.T, p *daemon.Proc, name string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var v float64
	for {
		if v = metricValue(scrape(t, p), name); ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stays at %v", name, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runRefused runs the binary in dir with env and expects it to stop at
// start-up with exit code 2 and a message containing want.
func runRefused(t *testing.T, dir string, env []string, want ...string) {
	t.Helper()
	runCoinRefused(t, "btc", dir, env, want...)
}

// runCoinRefused is runRefused for coin's daemon.
func runCoinRefused(t *testing.T, coin, dir string, env []string, want ...string) {
	t.Helper()
	p := strings.ToUpper(coin)
	cmd := exec.Command(daemon.Binary(t), coin)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + t.TempDir(), p + "_PORT=1", p + "_DATA_PATH=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("%v: exit %v, want 2; output %s", env, err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("%v: output lacks %q: %s", env, w, out)
		}
	}
}

// TestBCHServerRefusals: a BCH daemon that could reach no chain is refused
// at start-up with a message naming the backends it has, rather than
// serving no wallet (an empty BCH_SERVER, Bitcart's default, means Electron
// Cash's public servers there) or failing on header rules.
func TestBCHServerRefusals(t *testing.T) {
	dir := t.TempDir()
	runCoinRefused(t, "bch", dir, []string{"BCH_NETWORK=mainnet", "BCH_SERVER="},
		"BCH_SERVER is empty", "ws://", "http://")
	runCoinRefused(t, "bch", dir, []string{"BCH_NETWORK=chipnet"}, "BCH_SERVER is empty")
	runCoinRefused(t, "bch", dir, []string{"BCH_NETWORK=mainnet", "BCH_SERVER=electrum.example:50002:s"},
		"Electrum-protocol servers are not supported for BCH", "ws://")
}

// TestDaemonStartupRefusals: settings that would expose or mislead stop
// start-up with a message naming them.
func TestDaemonStartupRefusals(t *testing.T) {
	dir := t.TempDir()
	runRefused(t, dir, []string{"BTC_PASSWORD="}, "BTC_PASSWORD must not be empty")
	runRefused(t, dir, []string{"BTC_LOGIN="}, "BTC_LOGIN and BTC_PASSWORD must not be empty")
	runRefused(t, dir, []string{"BTC_PPROF_ADDR=:6060"}, "BTC_PPROF_ADDR", "loopback")
	runRefused(t, dir, []string{"BTC_PROXY_URL=socks5://127.0.0.1:9050"}, "BTC_PROXY_URL")
	runRefused(t, dir, []string{"BITCART_OTEL_ENABLED=true"}, "BITCART_OTEL_ENABLED")
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", "settings.ini"), []byte("[settings]\nBTC_PORT=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runRefused(t, dir, nil, "settings.ini")
	if err := os.Remove(filepath.Join(dir, "conf", "settings.ini")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", ".env"), []byte("BTC_PROXY_URL='socks5://tor:9050'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runRefused(t, dir, nil, "BTC_PROXY_URL")
}

// TestDaemonSettingsFile: the binary reads conf/.env as Bitcart does (the
// environment wins), and never logs a value from it.
func TestDaemonSettingsFile(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	env := fmt.Sprintf("# Bitcart's conf/.env\nBTC_PORT=%d\nBTC_LOGIN = filelogin\nBTC_PASSWORD=\"s3cret-from-file\"\n"+
		"BTC_NETWORK='regtest'\nBTC_DATA_PATH=%s\nIN_DOCKER=1\nBTC_FIAT_CURRENCY=EUR\n", port, t.TempDir())
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf", ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon.Binary(t), "btc")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + t.TempDir(), "BTC_LOGIN=envlogin", "BTC_DEBUG=1"}
	var logs syncBuf
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	postBody := func(url, user, pass, body string) string {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(user, pass string) string { return postBody(url, user, pass, `{"id":1,"method":"getinfo"}`) }
	deadline := time.Now().Add(30 * time.Second)
	var reply string
	for {
		if reply = post("envlogin", "s3cret-from-file"); reply != "" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("daemon exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not serve on the port of conf/.env:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(reply, `"network":"regtest"`) {
		t.Errorf("with the environment's login and the file's password: %s", reply)
	}
	if r := post("filelogin", "s3cret-from-file"); !strings.Contains(r, "Unauthorized") {
		t.Errorf("the file's login won over the environment's: %s", r)
	}
	// BTC_FIAT_CURRENCY is the currency config key's default, as in Bitcart.
	if r := postBody(url, "envlogin", "s3cret-from-file", `{"id":1,"method":"getconfig","params":["currency"]}`); !strings.Contains(r, `"result":"EUR"`) {
		t.Errorf("getconfig currency with BTC_FIAT_CURRENCY=EUR: %s", r)
	}
	l2, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	out := logs.String()
	if !strings.Contains(out, "settings file read") || !strings.Contains(out, "IN_DOCKER") {
		t.Errorf("logs do not say which settings file was read and what it ignored:\n%s", out)
	}
	if strings.Contains(out, "s3cret-from-file") {
		t.Errorf("a value from the settings file reached the logs:\n%s", out)
	}
	// IN_DOCKER from the file is ignored, as in Bitcart: bound to loopback.
	if !strings.Contains(out, fmt.Sprintf("addr=127.0.0.1:%d", port)) {
		t.Errorf("not bound to loopback:\n%s", out)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDefaultPasswordWarning: the default password on an address other
// machines can reach is warned about (naming the variable and the risk);
// on loopback, or with a password of one's own, nothing is said.
func TestDefaultPasswordWarning(t *testing.T) {
	for _, tc := range []struct {
		host, password string
		warn           bool
	}{
		{"0.0.0.0", defaultPassword, true},
		{"192.168.1.5", defaultPassword, true},
		{"bitcart-btc", defaultPassword, true},
		{"127.0.0.1", defaultPassword, false},
		{"localhost", defaultPassword, false},
		{"::1", defaultPassword, false},
		{"0.0.0.0", "my-own-password", false},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		warnExposure(log, "BTC", utxo.Config{Host: tc.host, Port: 5000, Password: tc.password})
		got := buf.String()
		if tc.warn != strings.Contains(got, "level=WARN") {
			t.Errorf("%s with %s: %q", tc.host, tc.password, got)
		}
		if tc.warn && (!strings.Contains(got, "BTC_PASSWORD") || !strings.Contains(got, "anyone")) {
			t.Errorf("the warning names neither the variable nor the risk: %q", got)
		}
	}
}

// TestDaemonHugeStrings: a 1 MB address or key string is refused by
// length (the review's reproduction cost 20 s of CPU per request in base58
// decoding). The daemon's own allocation counter shows no decoding took
// place: each request allocates a few times its body, where decoding
// allocated gigabytes.
func TestDaemonHugeStrings(t *testing.T) {
	huge := strings.Repeat("z", 999_900)
	for _, coin := range []struct {
		name    string
		methods []string
	}{
		{"btc", []string{"validateaddress", "validatekey"}},
		// Cashaddr and legacy base58 (quadratic to decode): 7 s of CPU
		// for one megabyte before the length check.
		{"bch", []string{"validateaddress", "validatekey", "addressconvert"}},
	} {
		p := daemon.Start(t, coin.name, strings.ToUpper(coin.name)+"_NETWORK=regtest")
		for _, method := range coin.methods {
			m := scrape(t, p)
			before, cpu := metricValue(m, "go_memstats_alloc_bytes_total"), metricValue(m, "process_cpu_seconds_total")
			_, reply := p.Post("electrum", "electrumz", []byte(`{"id":1,"method":"`+method+`","params":["`+huge+`"]}`))
			m = scrape(t, p)
			after, cpuAfter := metricValue(m, "go_memstats_alloc_bytes_total"), metricValue(m, "process_cpu_seconds_total")
			if !strings.Contains(reply, `"result":false`) && !strings.Contains(reply, `"code":-32`) {
				t.Errorf("%s %s(1 MB): %.300s", coin.name, method, reply)
			}
			if before < 0 || after-before > 64<<20 {
				t.Errorf("%s %s(1 MB) allocated %.0f MB", coin.name, method, (after-before)/(1<<20))
			}
			// CPU, not wall time: a loaded machine does not change it.
			if cpu < 0 || cpuAfter-cpu > 1.5 {
				t.Errorf("%s %s(1 MB) used %.2f s of CPU", coin.name, method, cpuAfter-cpu)
			}
			t.Logf("%s %s(1 MB): %.1f MB allocated, %.2f s of CPU", coin.name, method, (after-before)/(1<<20), cpuAfter-cpu)
		}
	}
}

// TestDaemonHeaderLimit: headers past BTC_MAX_HEADER_BYTES (8 KiB, as
// Bitcoin Core; Go's server allows 4 KiB of slack on top) are refused with
// 431; the SDK's own few hundred bytes pass.
func TestDaemonHeaderLimit(t *testing.T) {
	p := daemon.Start(t, "btc", "BTC_NETWORK=regtest")
	send := func(pad int) int {
		req, _ := http.NewRequest("POST", p.URL+"/", strings.NewReader(`{"id":1,"method":"version"}`))
		req.SetBasicAuth("electrum", "electrumz")
		req.Header.Set("X-Pad", strings.Repeat("a", pad))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(6 << 10); s != 200 {
		t.Errorf("6 KiB of headers: %d", s)
	}
	if s := send(16 << 10); s != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers: %d", s)
	}
}
