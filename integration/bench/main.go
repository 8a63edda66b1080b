// Command bench is walletd's load tool: it starts a real btcd regtest node
// and the real BTC daemon (a non-race build), tracks wallets, and measures
// what issue 5 asks for, printing the tables of BENCHMARKS.md:
//
//   - throughput and latency of JSON-RPC over HTTP with C keep-alive
//     connections for T seconds per scenario: help (no wallet), getbalance
//     and get_request on N loaded wallets and M requests, add_request
//     (durable write), and a reference ceiling (a minimal net/http JSON-RPC
//     handler in its own process, driven identically);
//   - the first call with a never-seen xpub (cold load), and the daemon's
//     RSS and idle CPU, at growing numbers of tracked wallets;
//   - the delay from sendrawtransaction at the node to new_payment on a
//     websocket client.
//
// Usage (from the repository root; integration/nodes/build.sh builds btcd):
//
//	go run ./integration/bench -n 1000 -m 5000 -c 32 -t 10s
//	go run ./integration/bench -smoke          (seconds; what CI runs as TestSmoke)
//	go run ./integration/bench ws              (the websocket fan-out benchmark, ws.go)
//	go run ./integration/bench scale -wallets 100000   (issue 13 at scale: see scale.go)
//	go run ./integration/bench cold -track 10,1000 (cold loads only, cold.go; about a minute)
//	go run ./integration/bench genstore -o FILE -wallets N
//
// Everything runs on 127.0.0.1 and stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/integration/harness"
)

func main() {
	if addr := os.Getenv(refEnv); addr != "" {
		if err := serveRef(addr); err != nil {
			fmt.Fprintln(os.Stderr, "reference server:", err)
			os.Exit(1)
		}
		return
	}
	if path := os.Getenv(rpcLoadEnv); path != "" {
		if err := serveRPCLoad(path); err != nil {
			fmt.Fprintln(os.Stderr, "rpc load:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "ws" {
		os.Exit(wsMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "scale" {
		if err := scaleCmd(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench scale:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "cold" {
		if err := coldCmd(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench cold:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "genstore" {
		if err := genStoreCmd(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "genstore:", err)
			os.Exit(1)
		}
		return
	}
	cfg, jsonPath, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Log = os.Stderr
	p := &harness.Program{}
	rep, err := Run(p, cfg)
	if err != nil {
		// Marks the run failed: the daemon's and the node's log tails
		// are printed as they stop.
		p.Errorf("%v", err)
	}
	p.Close()
	if rep != nil {
		rep.printMarkdown(os.Stdout)
		if jsonPath != "" {
			if werr := rep.writeJSON(jsonPath); werr != nil {
				fmt.Fprintln(os.Stderr, werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a Config (and the JSON report
// path).
func parseFlags(args []string) (Config, string, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	smoke := fs.Bool("smoke", false, "tiny sizes and windows: checks every scenario works (what CI runs)")
	d := DefaultConfig()
	n := fs.Int("n", d.Wallets, "loaded wallets the wallet scenarios spread over")
	m := fs.Int("m", d.Requests, "payment requests get_request reads")
	c := fs.Int("c", d.Conns, "concurrent keep-alive connections")
	t := fs.Duration("t", d.Duration, "measured window per throughput scenario")
	warm := fs.Duration("warmup", d.Warmup, "warm-up before each window")
	track := fs.String("track", joinInts(d.Track), "tracked-wallet counts for the memory, idle-CPU and cold-load measurements")
	rpw := fs.Int("reqs-per-wallet", d.ReqsPerWallet, "requests each tracked wallet gets")
	cold := fs.Int("cold", d.ColdSamples, "cold loads timed at each tracked count")
	idle := fs.Duration("idle", d.Idle, "idle window for the daemon's CPU")
	pay := fs.Int("payments", d.Payments, "mempool payments timed to their websocket event")
	rounds := fs.Int("rounds", d.Rounds, "rounds of the throughput scenarios (the report gives the median round)")
	pprofAddr := fs.String("pprof", "", "the daemon's pprof address (BTC_PPROF_ADDR; default a free loopback port)")
	profDir := fs.String("profile-dir", "", "save daemon CPU profiles (per scenario) and heap profiles (per tracked count) here")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	var daemonEnv envList
	fs.Var(&daemonEnv, "env", "extra KEY=VALUE for the daemon's environment (repeatable), e.g. -env GOGC=400")
	detOnly := fs.Bool("detection-only", false, "measure only payment detection (payments → new_payment), on the first -track point's wallets")
	waitQuiet := fs.Duration("wait-quiet", 0, "first wait (polling every 30s, up to this long) for the 1-minute load average to drop to 1.0 or less")
	if err := fs.Parse(args); err != nil {
		return Config{}, "", err
	}
	if fs.NArg() > 0 {
		return Config{}, "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *smoke {
		s := SmokeConfig()
		s.Build = true
		s.PprofAddr, s.ProfileDir, s.DaemonEnv = *pprofAddr, *profDir, daemonEnv
		return s, *jsonPath, nil
	}
	if *waitQuiet > 0 {
		waitForQuiet(*waitQuiet, os.Stderr)
	}
	tr, err := parseInts(*track)
	if err != nil {
		return Config{}, "", fmt.Errorf("-track: %w", err)
	}
	cfg := Config{Wallets: *n, Requests: *m, Conns: *c, Duration: *t, Warmup: *warm, Track: tr,
		ReqsPerWallet: *rpw, ColdSamples: *cold, Idle: *idle, Settle: d.Settle, Payments: *pay, Rounds: *rounds, Build: true,
		PprofAddr: *pprofAddr, ProfileDir: *profDir, DaemonEnv: daemonEnv, DetectionOnly: *detOnly}
	return cfg, *jsonPath, cfg.check()
}

// genStoreCmd is `bench genstore -o PATH -wallets N`: a store written
// offline (see GenStore), e.g. to look at its layout or reuse it.
func genStoreCmd(args []string) error {
	fs := flag.NewFlagSet("genstore", flag.ContinueOnError)
	out := fs.String("o", "btc-regtest.db", "store file to write")
	n := fs.Int("wallets", 1000, "wallets to track")
	rpw := fs.Int("reqs-per-wallet", 2, "requests per wallet")
	salt := fs.String("salt", "v1", "key salt (the load tool's wallets use v1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tip := chain.BlockRef{Height: 101, Hash: chainhash.Hash{1}, Prev: chainhash.Hash{2}, Time: time.Unix(1.7e9, 0)}
	t0 := time.Now()
	if err := GenStore(context.Background(), *out, *salt, 0, *n, *rpw, tip, os.Stderr); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genstore: %d wallets in %v\n", *n, time.Since(t0).Round(time.Millisecond))
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// waitForQuiet polls the 1-minute load average every 30 s until it is at
// most 1.0 or limit has passed; either way it says what it saw.
func waitForQuiet(limit time.Duration, w io.Writer) {
	deadline := time.Now().Add(limit)
	for {
		l := loadAvg1()
		if l <= 1.0 {
			fmt.Fprintf(w, "bench: load average %.2f, starting\n", l)
			return
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(w, "bench: load average still %.2f after %v; measuring anyway (see the other-CPU columns)\n", l, limit)
			return
		}
		fmt.Fprintf(w, "bench: load average %.2f > 1.0, waiting\n", l)
		time.Sleep(30 * time.Second)
	}
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}
