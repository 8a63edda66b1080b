package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve the reference ceiling when the tool
// re-executes it for that (see startRef).
func TestMain(m *testing.M) {
	if addr := os.Getenv(refEnv); addr != "" {
		if err := serveRef(addr); err != nil {
			os.Stderr.WriteString("reference server: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	if path := os.Getenv(rpcLoadEnv); path != "" {
		if err := serveRPCLoad(path); err != nil {
			os.Stderr.WriteString("rpc load: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole tool with tiny sizes against a real btcd and the
// real daemon: every scenario must complete requests without a single
// error. It asserts nothing about speed (it may run a race build).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd and the daemon")
	}
	start := time.Now()
	cfg := SmokeConfig()
	cfg.Log = testWriter{t}
	rep, err := Run(t, cfg)
	if rep != nil {
		var b strings.Builder
		rep.printMarkdown(&b)
		t.Logf("report:\n%s", b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	// Every payment's node notification was seen by the tool's own
	// client, and the cold loads' node part timed the daemon's exchange.
	if rep.Detection.Node.N != cfg.Payments || rep.Detection.Node.P50 <= 0 || rep.Detection.Node.P50 > rep.Detection.Mempool.Max {
		t.Fatalf("node's part of detection: %+v (detection %+v)", rep.Detection.Node, rep.Detection.Mempool)
	}
	for _, c := range rep.Cold {
		if c.NodeLookups <= 0 {
			t.Fatalf("cold load at %d: no node part", c.Tracked)
		}
	}
	t.Logf("smoke run took %v", time.Since(start))
}

// TestScaleSmoke runs `bench scale` with tiny sizes: a store written by
// GenStore, the daemon started on it against a real btcd, both full blocks
// applied (the daemon's own measure found in its log), add_request runs
// without an error.
func TestScaleSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts btcd and the daemon")
	}
	cfg := ScaleSmokeConfig()
	cfg.Log = testWriter{t}
	rep, err := RunScale(t, cfg)
	if rep != nil {
		var b strings.Builder
		rep.printMarkdown(&b)
		t.Logf("report:\n%s", b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlockOurs.Relevant != cfg.BlockTxs || rep.BlockNone.Relevant != 0 || rep.BlockOurs.Applied <= 0 {
		t.Fatalf("blocks: ours %+v, none %+v", rep.BlockOurs, rep.BlockNone)
	}
	if len(rep.Adds) != 2 || rep.Synchronized <= 0 || rep.Cold.Lat.N != cfg.ColdSamples {
		t.Fatalf("report %+v", rep)
	}
	for _, a := range rep.Adds {
		if a.AllocPerCall <= 0 || a.MallocsPerCall <= 0 {
			t.Fatalf("add_request run without its allocation per call: %+v", a)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-n", "5", "-m", "7", "-c", "2", "-t", "3s", "-track", "1,2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Wallets != 5 || cfg.Requests != 7 || cfg.Conns != 2 || cfg.Duration != 3*time.Second || len(cfg.Track) != 2 {
		t.Fatalf("parsed %+v", cfg)
	}
	if _, _, err := parseFlags([]string{"-track", "10,5"}); err == nil {
		t.Fatal("descending -track accepted")
	}
	if cfg, _, err := parseFlags([]string{"-smoke"}); err != nil || cfg.Wallets != SmokeConfig().Wallets {
		t.Fatalf("-smoke: %+v %v", cfg, err)
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	p := percentiles(d)
	if p.P50 != 50 || p.P90 != 90 || p.P99 != 99 || p.Max != 100 || p.N != 100 {
		t.Fatalf("%+v", p)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
