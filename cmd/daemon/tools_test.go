package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walletd/walletd/daemons/utxo"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/repo"
)

// stampedBinary builds cmd/daemon as the Dockerfile does, with the version
// stamped by -ldflags -X (with -race, so it reuses daemon.Binary's compiled
// packages and only links again).
func stampedBinary(t *testing.T, stamp string) string {
	t.Helper()
	daemon.Binary(t) // warms the build cache
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "walletd")
	cmd := exec.Command("go", "build", "-race", "-trimpath", "-ldflags", "-X main.version="+stamp, "-o", bin, "./cmd/daemon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
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

// runExit runs cmd and returns its exit code and combined output.
func runExit(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	default:
		t.Fatalf("%v: %v", cmd.Args, err)
		return -1, ""
	}
}

// TestVersionStampAndHealthcheck: a version stamped at build time is what
// `walletd version`, getinfo's walletd_version, version_info and GET /spec
// report (version() stays Electrum's, as in Bitcart), and `walletd
// healthcheck` (the image's HEALTHCHECK) answers 0 for a serving daemon
// (found by its coin, WALLETD_COIN, or by trying every coin), 1 when
// /readyz is not ready or nothing listens, 2 on bad usage.
func TestVersionStampAndHealthcheck(t *testing.T) {
	const stamp = "9.8.7-test+abcdef"
	bin := stampedBinary(t, stamp)
	if code, out := runExit(t, exec.Command(bin, "version")); code != 0 || out != stamp+"\n" {
		t.Fatalf("walletd version: %d %q", code, out)
	}

	port := freePort(t)
	env := []string{"HOME=" + t.TempDir(), fmt.Sprintf("BTC_PORT=%d", port), "BTC_NETWORK=regtest",
		"BTC_DATA_PATH=" + t.TempDir()}
	d := exec.Command(bin, "btc")
	d.Env = env
	logs := &strings.Builder{}
	d.Stdout, d.Stderr = io.Discard, logs
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = d.Wait(); close(done) }()
	t.Cleanup(func() { _ = d.Process.Kill(); <-done })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	harness.WaitFor(t, 20*time.Second, "the daemon serving", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})

	call := func(method string) json.RawMessage {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(`{"id":1,"method":"`+method+`"}`))
		req.SetBasicAuth("electrum", "electrumz")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct{ Result json.RawMessage }
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r.Result
	}
	// version() and getinfo's version are Electrum's, as in Bitcart; the
	// stamp is walletd's own version.
	if v := string(call("version")); v != `"`+utxo.ElectrumVersion+`"` {
		t.Errorf("version() = %s", v)
	}
	var info struct {
		Version        string
		WalletdVersion string `json:"walletd_version"`
	}
	if err := json.Unmarshal(call("getinfo"), &info); err != nil || info.WalletdVersion != stamp ||
		info.Version != utxo.ElectrumVersion {
		t.Errorf("getinfo version %q, walletd_version %q (%v)", info.Version, info.WalletdVersion, err)
	}
	var vi map[string]string
	if err := json.Unmarshal(call("version_info"), &vi); err != nil || vi["walletd.version"] != stamp {
		t.Errorf("version_info %v (%v)", vi, err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/spec", nil)
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var specDoc struct{ Version string }
	err = json.NewDecoder(resp.Body).Decode(&specDoc)
	resp.Body.Close()
	if err != nil || specDoc.Version != stamp {
		t.Errorf("/spec version %q (%v)", specDoc.Version, err)
	}

	hc := func(extraEnv []string, args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"healthcheck"}, args...)...)
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		return runExit(t, cmd)
	}
	if code, out := hc(nil, "btc"); code != 0 || !strings.Contains(out, `{"status":"ok"}`) {
		t.Errorf("healthcheck btc: %d %q", code, out)
	}
	if code, out := hc([]string{"WALLETD_COIN=btc"}); code != 0 || !strings.Contains(out, "/healthz") {
		t.Errorf("healthcheck with WALLETD_COIN: %d %q", code, out)
	}
	if code, out := hc(nil); code != 0 {
		t.Errorf("healthcheck of every coin: %d %q", code, out)
	}
	// No backend configured: alive but not ready, and the reason is shown.
	if code, out := hc(nil, "-ready", "btc"); code != 1 || !strings.Contains(out, "503") ||
		!strings.Contains(out, "no chain backend configured") {
		t.Errorf("healthcheck -ready btc: %d %q", code, out)
	}
	if code, out := hc(nil, "doge"); code != 2 || !strings.Contains(out, "usage") {
		t.Errorf("healthcheck doge: %d %q", code, out)
	}
	if code, out := hc(nil, "btc", "btc"); code != 2 {
		t.Errorf("healthcheck btc btc: %d %q", code, out)
	}

	if err := d.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop")
	}
	if code, out := hc(nil, "btc"); code != 1 || !strings.Contains(out, "connection refused") {
		t.Errorf("healthcheck of a stopped daemon: %d %q", code, out)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("daemon logs: %s", logs.String())
	}
}
