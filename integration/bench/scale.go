package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// ScaleConfig is `bench scale`: issue 13's measurements at a number of
// tracked wallets too large to create over HTTP one cold load at a time.
type ScaleConfig struct {
	// Wallets are tracked before the daemon starts: written into its store
	// offline by GenStore (the engine's own code, see there).
	Wallets       int `json:"wallets"`
	ReqsPerWallet int `json:"reqs_per_wallet"`
	// BlockTxs is the size of the two full blocks: one whose transactions
	// all pay requests of tracked wallets, one whose transactions pay none.
	BlockTxs int `json:"block_txs"`
	// AddRequests durable add_request calls are timed at each of
	// AddConns connection counts, spread over the tracked wallets.
	AddRequests int   `json:"add_requests"`
	AddConns    []int `json:"add_conns"`
	// AddWallets, when set, spreads the add_request calls over the first
	// AddWallets wallets only, so that each takes many requests: past its
	// ~20 revealed addresses every forced request reveals the next one,
	// and every ~10 a chunk is derived ahead (a merchant's steady state).
	AddWallets int `json:"add_wallets,omitempty"`
	// ColdSamples cold loads (new xpubs) are timed one at a time.
	ColdSamples int           `json:"cold_samples"`
	Idle        time.Duration `json:"idle_ns"`
	Settle      time.Duration `json:"settle_ns"`
	Build       bool          `json:"-"`
	DaemonEnv   []string      `json:"daemon_env,omitempty"`
	// ProfileDir, when set, receives CPU profiles of the daemon's first
	// 30 s after its first reply (startup.pprof) and of the idle window
	// (idle.pprof: the part of the window after the start-up profile), and
	// a heap profile (heap-<wallets>.pprof); around each add_request run
	// N, the allocations so far (allocs-before-add-N.pprof and
	// allocs-after-add-N.pprof: `go tool pprof -base before after` is the
	// run's own).
	ProfileDir string    `json:"-"`
	Log        io.Writer `json:"-"`
	// StartupOnly ends the run after the start-up and idle measures (no
	// cold loads, blocks or add_request runs).
	StartupOnly bool `json:"startup_only,omitempty"`
}

// ScaleReport is what a scale run measured.
type ScaleReport struct {
	Machine Machine     `json:"machine"`
	Daemon  string      `json:"daemon"`
	Config  ScaleConfig `json:"config"`
	Started time.Time   `json:"started"`
	// GenStore is how long writing the store took (Wallets wallets with
	// their requests, through the engine, fsync once at the end).
	GenStore  time.Duration `json:"genstore_ns"`
	StoreFile int64         `json:"store_file_bytes"`
	// Listening: from exec to /healthz answering; FirstReply: to the
	// first getinfo reply; Synchronized: to getinfo's synchronized.
	Listening    time.Duration `json:"listening_ns"`
	FirstReply   time.Duration `json:"first_reply_ns"`
	Synchronized time.Duration `json:"synchronized_ns"`
	Idle         IdleSample    `json:"idle"`
	// Idle0 is the same daemon with no wallet (its first start, on an
	// empty store): per wallet = (Idle − Idle0) / Wallets, as the main
	// tool reports it.
	Idle0 IdleSample `json:"idle0"`
	Cold  ColdSample `json:"cold"`
	// BlockNone and BlockOurs are the two full blocks.
	BlockNone BlockSample `json:"block_none"`
	BlockOurs BlockSample `json:"block_ours"`
	// Adds are the durable add_request runs, one per connection count.
	Adds []AddRun `json:"adds"`
}

// BlockSample is one block applied by the daemon.
type BlockSample struct {
	Txs int `json:"txs"`
	// Relevant is the number of transactions the daemon applied (the
	// node's filter passes only those touching tracked scripts).
	Relevant int `json:"relevant"`
	// Applied is the daemon's own measure of applying and committing the
	// block (its "block applied" log line: the engine's batch, commit and
	// publication of the block's events).
	Applied time.Duration `json:"applied_ns"`
	// Phases is the rest of the daemon's log line: where the applied
	// time went (the block's transaction body and commit, publication,
	// the gap extensions' derivation and their transaction).
	Phases string `json:"phases,omitempty"`
	// EndToEnd: from the generate call to the last event the block
	// causes (new_block, or the last request's new_payment "Paid") on a
	// websocket client; it includes the node mining the block.
	EndToEnd time.Duration `json:"end_to_end_ns"`
	Generate time.Duration `json:"generate_ns"`
}

// AddRun is one run of durable add_request calls.
type AddRun struct {
	Conns int     `json:"conns"`
	Calls int     `json:"calls"`
	Rate  float64 `json:"per_second"`
	// PerThousand is the rate of each successive thousand calls (by
	// completion): flat means the 10th thousand is no slower than the
	// first.
	PerThousand []float64   `json:"per_thousand"`
	Lat         Percentiles `json:"latency"`
	// DaemonCPUPerThousand is the daemon's CPU time (ms) in each
	// thousand's window and OtherCPU the CPU of processes outside the tool
	// and its children (cores) in it: a thousand slower with the same
	// daemon CPU waited (disk, other work), with more it did more work.
	DaemonCPUPerThousand []float64 `json:"daemon_cpu_ms_per_thousand,omitempty"`
	OtherCPU             []float64 `json:"other_cpu_cores_per_thousand,omitempty"`
	// GCs is the number of the daemon's garbage collections in the run;
	// HeapBefore and HeapAfter its Go heap (HeapAlloc) at its start and
	// end.
	GCs        int64 `json:"gcs"`
	HeapBefore int64 `json:"heap_before_bytes"`
	HeapAfter  int64 `json:"heap_after_bytes"`
	// AllocPerCall and MallocsPerCall are the daemon's heap allocation
	// during the run (bytes and objects, the runtime's TotalAlloc and
	// Mallocs) divided by the calls: what paces its collections.
	AllocPerCall   float64 `json:"alloc_bytes_per_call,omitempty"`
	MallocsPerCall float64 `json:"mallocs_per_call,omitempty"`
	// FirstTen and LastTen are the rates of the first and the last ten
	// thousand calls (of runs of at least 20,000): a thousand lasts ~0.1 s,
	// and one with a collection of a large heap in it is up to 40% slower
	// (BENCHMARKS.md round four), so single thousands compare GC timing,
	// ten of them the calls' cost.
	FirstTen float64 `json:"first_ten_thousand_per_second,omitempty"`
	LastTen  float64 `json:"last_ten_thousand_per_second,omitempty"`
}

// cpuMark is the CPU counters at one point of an add_request run.
type cpuMark struct {
	at             time.Time
	daemon, family time.Duration
	busy           time.Duration
}

func markCPU(pid int) cpuMark {
	m := cpuMark{at: time.Now(), family: familyCPU()}
	m.daemon, _ = cpuTime(pid)
	m.busy, _ = machineCPU()
	return m
}

// scaleCmd is `bench scale [-wallets N] …`.
func scaleCmd(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	cfg := ScaleConfig{Build: true, Log: os.Stderr}
	fs.IntVar(&cfg.Wallets, "wallets", 100_000, "wallets tracked before the daemon starts (written by genstore)")
	fs.IntVar(&cfg.ReqsPerWallet, "reqs-per-wallet", 2, "requests each of them has")
	fs.IntVar(&cfg.BlockTxs, "block-txs", 2000, "transactions in each of the two full blocks")
	fs.IntVar(&cfg.AddRequests, "add-requests", 10_000, "durable add_request calls per connection count")
	conns := fs.String("add-conns", "8,32", "connection counts of the add_request runs")
	fs.IntVar(&cfg.AddWallets, "add-wallets", 0, "spread the add_request calls over this many wallets only (0: all of them)")
	fs.IntVar(&cfg.ColdSamples, "cold", 30, "cold loads timed")
	fs.DurationVar(&cfg.Idle, "idle", 20*time.Second, "idle window for the daemon's CPU")
	fs.DurationVar(&cfg.Settle, "settle", 3*time.Second, "wait before the idle window")
	var env envList
	fs.Var(&env, "env", "extra KEY=VALUE for the daemon's environment (repeatable)")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	fs.StringVar(&cfg.ProfileDir, "profile-dir", "", "save daemon CPU profiles (start-up, idle) and a heap profile here")
	fs.BoolVar(&cfg.StartupOnly, "startup-only", false, "stop after the start-up and idle measures")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.AddConns, err = parseInts(*conns); err != nil {
		return fmt.Errorf("-add-conns: %w", err)
	}
	cfg.DaemonEnv = env
	p := &harness.Program{}
	rep, err := RunScale(p, cfg)
	if err != nil {
		p.Errorf("%v", err)
	}
	p.Close()
	if rep != nil {
		rep.printMarkdown(os.Stdout)
		if *jsonPath != "" {
			if werr := writeJSONFile(*jsonPath, rep); werr != nil {
				fmt.Fprintln(os.Stderr, werr)
			}
		}
	}
	return err
}

// RunScale writes a store of cfg.Wallets wallets, starts the daemon on it
// against a real btcd, and measures start-up, idle cost, a cold load, two
// full blocks and durable add_request throughput.
func RunScale(tb harness.TB, cfg ScaleConfig) (*ScaleReport, error) {
	if cfg.Wallets < 1 || cfg.BlockTxs < 1 || cfg.AddRequests < 1 || cfg.ColdSamples < 1 || len(cfg.AddConns) == 0 {
		return nil, errors.New("bench scale: -wallets, -block-txs, -add-requests, -cold and -add-conns must be positive")
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "scale %6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	rep := &ScaleReport{Machine: describeMachine(), Config: cfg, Started: start}
	if cfg.Build && os.Getenv("WALLETD_DAEMON_BIN") == "" {
		bin, err := buildDaemon(tb.TempDir())
		if err != nil {
			return nil, err
		}
		if err := os.Setenv("WALLETD_DAEMON_BIN", bin); err != nil {
			return nil, err
		}
	}
	rep.Daemon = daemonRevision(daemon.Binary(tb))
	node := harness.StartBtcd(tb)
	node.Generate(101)

	// The coins the two blocks spend, made before the store is written
	// (the daemon then starts at the tip): one fan-out transaction per
	// block, BlockTxs outputs of 20,000 sat to harness keys.
	const each = 20_000
	fanOut := func() ([]wire.OutPoint, []byte) {
		s, _ := node.NewScript(harness.P2WPKH)
		value := int64(cfg.BlockTxs)*each + int64(cfg.BlockTxs)*500 + 100_000
		op := node.FundScript(s, value)
		node.Generate(1)
		scripts := make([][]byte, cfg.BlockTxs)
		for i := range scripts {
			scripts[i] = s
		}
		tx := node.SpendToMany(op, s, value, scripts, each)
		if _, err := node.SendRaw(tx); err != nil {
			tb.Fatalf("fan-out: %v", err)
		}
		ops := make([]wire.OutPoint, cfg.BlockTxs)
		for i := range ops {
			ops[i] = wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}
		}
		return ops, s
	}
	noneOps, noneScript := fanOut()
	oursOps, oursScript := fanOut()
	node.Generate(1)
	logf("btcd at height %d with 2×%d coins for the full blocks", node.Height(), cfg.BlockTxs)

	// The store: cfg.Wallets wallets tracked at the node's tip.
	best := node.BestHash()
	hdr := node.Block(best).Header
	tip := chain.BlockRef{Height: node.Height(), Hash: best, Prev: hdr.PrevBlock, Time: hdr.Timestamp}
	storeDir := tb.TempDir()
	storePath := filepath.Join(storeDir, "btc-regtest.db")
	t0 := time.Now()
	if err := GenStore(context.Background(), storePath, "v1", 0, cfg.Wallets, cfg.ReqsPerWallet, tip, cfg.Log); err != nil {
		return nil, fmt.Errorf("genstore: %w", err)
	}
	rep.GenStore = time.Since(t0)
	if st, err := os.Stat(storePath); err == nil {
		rep.StoreFile = st.Size()
	}
	logf("genstore: %d wallets in %v (%.1f MB)", cfg.Wallets, rep.GenStore.Round(time.Millisecond), float64(rep.StoreFile)/1e6)

	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// A full block of payments is a burst of 3 events per transaction for
	// the one websocket client: room for them (the default queue, 1024,
	// drops a client that falls that far behind).
	env := append([]string{"BTC_NETWORK=regtest", "BTC_SERVER=" + node.WSURL(), "BTC_DEBUG=0", "BTC_PPROF_ADDR=" + pprofAddr,
		"BTC_WS_QUEUE=" + strconv.Itoa(4*cfg.BlockTxs+1024)}, cfg.DaemonEnv...)
	d := daemon.Start(tb, "btc", env...)
	if rep.Idle0, err = measureIdle(d.PID(), 0, cfg.Settle, min(cfg.Idle, 5*time.Second)); err != nil {
		return nil, err
	}
	d.Kill()
	if err := os.Rename(storePath, filepath.Join(d.DataDir, "btc-regtest.db")); err != nil {
		return nil, err
	}
	tgt := newTarget(strings.TrimPrefix(d.URL, "http://"), "electrum", "electrumz")
	pool, err := newRPCPool(tgt, max(32, slicesMax(cfg.AddConns)))
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	// The start-up profile runs 30 s from the first reply; the idle one
	// waits for it (the runtime profiles one at a time).
	startupProf := make(chan struct{})
	if cfg.ProfileDir == "" {
		close(startupProf)
	}
	t0 = time.Now()
	d.Restart() // returns once /healthz answers
	rep.Listening = time.Since(t0)
	for {
		var in info
		err := pool.Call(&in, "", "getinfo")
		if err == nil && rep.FirstReply == 0 {
			rep.FirstReply = time.Since(t0)
			if cfg.ProfileDir != "" {
				go func() {
					defer close(startupProf)
					if err := fetchProfile(pprofAddr, 30, filepath.Join(cfg.ProfileDir, "startup.pprof")); err != nil {
						logf("start-up profile: %v", err)
					}
				}()
			}
		}
		if err == nil && in.Synchronized {
			rep.Synchronized = time.Since(t0)
			if in.TotalWallets != cfg.Wallets {
				return rep, fmt.Errorf("the daemon tracks %d wallets, want %d", in.TotalWallets, cfg.Wallets)
			}
			break
		}
		if time.Since(t0) > 10*time.Minute {
			return rep, fmt.Errorf("not synchronized after %v: %v %+v", time.Since(t0), err, in)
		}
		time.Sleep(5 * time.Millisecond)
	}
	logf("start-up with %d wallets: listening %v, first reply %v, synchronized %v", cfg.Wallets,
		rep.Listening.Round(time.Millisecond), rep.FirstReply.Round(time.Millisecond), rep.Synchronized.Round(time.Millisecond))

	r := &runner{tb: tb, cfg: Config{Conns: max(32, slicesMax(cfg.AddConns)), ColdSamples: cfg.ColdSamples, Settle: cfg.Settle, Idle: cfg.Idle,
		ProfileDir: cfg.ProfileDir},
		node: node, d: d, tgt: tgt, pool: pool, reqs: map[int][]reqRef{}, rep: &Report{}, start: start, pprofAddr: pprofAddr}
	logf("making the run's keys")
	if _, err := r.key(cfg.Wallets + cfg.ColdSamples); err != nil {
		return rep, err
	}
	r.next = cfg.Wallets
	var prof sync.WaitGroup
	if cfg.ProfileDir != "" {
		prof.Add(1)
		go func() {
			defer prof.Done()
			end := time.Now().Add(cfg.Settle + cfg.Idle)
			time.Sleep(cfg.Settle)
			<-startupProf
			secs := int(time.Until(end) / time.Second)
			if secs < 1 {
				logf("idle profile: the idle window ended before the start-up profile")
				return
			}
			if err := fetchProfile(pprofAddr, secs, filepath.Join(cfg.ProfileDir, "idle.pprof")); err != nil {
				logf("idle profile: %v", err)
			}
		}()
	}
	err = r.idle()
	prof.Wait()
	if err != nil {
		return rep, err
	}
	rep.Idle = r.rep.Idle[0]
	logf("idle: RSS %.1f MB (%.1f MB with no wallet) = %.1f KB per wallet, CPU %.2f%% of a core", float64(rep.Idle.RSS)/1e6,
		float64(rep.Idle0.RSS)/1e6, rep.perWallet(rep.Idle.RSS, rep.Idle0.RSS), rep.Idle.CorePercent)
	if cfg.StartupOnly {
		return rep, nil
	}
	if err := r.cold(); err != nil {
		return rep, err
	}
	rep.Cold = r.rep.Cold[0]

	ws := d.Dial("")
	defer ws.Close()

	// A full block that pays none of the tracked wallets.
	other, _ := node.NewScript(harness.P2WPKH)
	for i, op := range noneOps {
		if _, err := node.SendRaw(node.SpendTx(op, noneScript, each, other)); err != nil {
			return rep, fmt.Errorf("block none: tx %d: %w", i, err)
		}
	}
	time.Sleep(cfg.Settle)
	rep.BlockNone, err = timeBlock(node, d, ws, cfg.BlockTxs, nil)
	if err != nil {
		return rep, err
	}
	logf("block of %d txs paying none of %d wallets: applied in %v (%d relevant), end to end %v (generate %v)", cfg.BlockTxs,
		cfg.Wallets, rep.BlockNone.Applied, rep.BlockNone.Relevant, rep.BlockNone.EndToEnd.Round(time.Millisecond),
		rep.BlockNone.Generate.Round(time.Millisecond))

	// A full block whose every transaction pays a request of a tracked
	// wallet (seen in the mempool first, as payments usually are).
	nw := min(cfg.Wallets, cfg.BlockTxs)
	reqs := make([]reqRef, cfg.BlockTxs)
	var mu sync.Mutex
	if err := r.parallel(0, cfg.BlockTxs, func(i int) error {
		var rr requestReply
		if err := pool.Call(&rr, r.keys[i%nw], "add_request", "0.00019", "block", 3600, false, true); err != nil {
			return fmt.Errorf("wallet %d: %w", i%nw, err)
		}
		mu.Lock()
		reqs[i] = reqRef{wallet: i % nw, id: rr.RequestID, address: rr.Address}
		mu.Unlock()
		return nil
	}); err != nil {
		return rep, err
	}
	pending := map[string]bool{}
	for i, op := range oursOps {
		a, err := address.DecodeAddress(reqs[i].address, node.Params())
		if err != nil {
			return rep, err
		}
		to, err := txscript.PayToAddrScript(a)
		if err != nil {
			return rep, err
		}
		if _, err := node.SendRaw(node.SpendTx(op, oursScript, each, to)); err != nil {
			return rep, fmt.Errorf("block ours: tx %d: %w", i, err)
		}
		pending[reqs[i].id] = true
	}
	// Every payment's mempool event first, so the block is measured alone.
	seen := map[string]bool{}
	for len(seen) < len(pending) {
		f := ws.Next(2*time.Minute, "mempool payments", func(f daemon.Frame) bool {
			ev := f.Event()
			id, _ := ev["address"].(string)
			return ev["event"] == "new_payment" && pending[id]
		})
		id, _ := f.Event()["address"].(string)
		seen[id] = true
	}
	time.Sleep(cfg.Settle)
	var profiled chan error
	if cfg.ProfileDir != "" {
		// A CPU profile of the daemon across the block (block-ours.pprof).
		profiled = make(chan error, 1)
		go func() { profiled <- fetchProfile(pprofAddr, 2, filepath.Join(cfg.ProfileDir, "block-ours.pprof")) }()
		time.Sleep(100 * time.Millisecond)
	}
	rep.BlockOurs, err = timeBlock(node, d, ws, cfg.BlockTxs, pending)
	if err != nil {
		return rep, err
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			logf("block profile: %v", err)
		}
	}
	logf("block of %d txs all paying tracked wallets: applied in %v (%d relevant), end to end %v (generate %v); %s", cfg.BlockTxs,
		rep.BlockOurs.Applied, rep.BlockOurs.Relevant, rep.BlockOurs.EndToEnd.Round(time.Millisecond),
		rep.BlockOurs.Generate.Round(time.Millisecond), rep.BlockOurs.Phases)

	// Durable add_request: AddRequests calls per connection count, each
	// wallet taking a few (no force: within the gap limit).
	base := cfg.BlockTxs
	for _, c := range cfg.AddConns {
		if cfg.ProfileDir != "" { // allocations so far: the base of the run's own (pprof -base)
			path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("allocs-before-add-%d.pprof", len(rep.Adds)+1))
			if err := fetchPprof(pprofAddr, "allocs", path); err != nil {
				logf("allocs profile: %v", err)
			}
		}
		spread := cfg.Wallets
		if cfg.AddWallets > 0 {
			spread = min(cfg.AddWallets, cfg.Wallets)
		}
		run, err := addRun(r, c, cfg.AddRequests, base, spread)
		if err != nil {
			return rep, err
		}
		base += cfg.AddRequests
		rep.Adds = append(rep.Adds, run)
		if cfg.ProfileDir != "" { // what stays live after the run (gc=1 collects first)
			path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("heap-after-add-%d.pprof", len(rep.Adds)))
			if err := fetchPprof(pprofAddr, "heap?gc=1", path); err != nil {
				logf("heap profile: %v", err)
			}
			path = filepath.Join(cfg.ProfileDir, fmt.Sprintf("allocs-after-add-%d.pprof", len(rep.Adds)))
			if err := fetchPprof(pprofAddr, "allocs", path); err != nil {
				logf("allocs profile: %v", err)
			}
		}
		logf("add_request at %d connections: %.0f/s over %d (1st thousand %.0f/s, last %.0f/s), p99 %v; first ten thousand %.0f/s, last ten %.0f/s; daemon CPU per thousand %.0f → %.0f ms, %d GCs, heap %.0f → %.0f MB, %.1f KB and %.0f objects allocated per call", c, run.Rate, run.Calls,
			run.PerThousand[0], run.PerThousand[len(run.PerThousand)-1], run.Lat.P99, run.FirstTen, run.LastTen,
			firstOr(run.DaemonCPUPerThousand), lastOr(run.DaemonCPUPerThousand), run.GCs, float64(run.HeapBefore)/1e6, float64(run.HeapAfter)/1e6, run.AllocPerCall/1e3, run.MallocsPerCall)
	}
	return rep, nil
}

// appliedRe matches the daemon's "block applied" log line.
var appliedRe = regexp.MustCompile(`msg="block applied" height=(\d+) txs=(\d+) took=(\S+)([^\n]*)`)

// timeBlock mines one block and waits for its events on ws: new_block,
// and the new_payment "Paid" of every request in pending. It reads the
// daemon's own measure from its log.
func timeBlock(node *harness.Node, d *daemon.Proc, ws *daemon.WS, txs int, pending map[string]bool) (BlockSample, error) {
	s := BlockSample{Txs: txs}
	want := node.Height() + 1
	t0 := time.Now()
	node.Generate(1)
	s.Generate = time.Since(t0)
	var last time.Time
	gotBlock := false
	left := len(pending)
	for !gotBlock || left > 0 {
		f := ws.Next(2*time.Minute, "the block's events", func(f daemon.Frame) bool {
			ev := f.Event()
			switch ev["event"] {
			case "new_block":
				h, _ := ev["height"].(float64)
				return int32(h) == want
			case "new_payment":
				id, _ := ev["address"].(string)
				st, _ := ev["status"].(float64)
				return st == 3 && pending[id]
			}
			return false
		})
		if f.Event()["event"] == "new_block" {
			gotBlock = true
		} else {
			id, _ := f.Event()["address"].(string)
			delete(pending, id)
			left--
		}
		last = f.At
	}
	s.EndToEnd = last.Sub(t0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range appliedRe.FindAllStringSubmatch(d.Logs(), -1) {
			if h, _ := strconv.Atoi(m[1]); int32(h) == want {
				s.Relevant, _ = strconv.Atoi(m[2])
				s.Phases = strings.TrimSpace(m[4])
				var err error
				s.Applied, err = time.ParseDuration(m[3])
				return s, err
			}
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("no \"block applied\" log line for height %d", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addRun times n durable add_request calls on c connections, on wallets
// from, from+1, … (modulo wallets).
func addRun(r *runner, c, n, from, wallets int) (AddRun, error) {
	done := make([]time.Duration, 0, n)
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	var first error
	// CPU counters at each thousand's completion, read off the callers'
	// path (a read of /proc takes a few ms).
	pid := r.d.PID()
	marks := []cpuMark{markCPU(pid)}
	thousands := make(chan int, n/1000+1)
	marked := make(chan struct{})
	go func() {
		defer close(marked)
		for range thousands {
			marks = append(marks, markCPU(pid))
		}
	}()
	gc0, _ := goMemStats(r.pprofAddr)
	t0 := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				k := r.keys[(from+i)%wallets]
				s := time.Now()
				err := r.pool.Call(nil, k, "add_request", "0.0005", "bench", 3600, false, true)
				e := time.Now()
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				done = append(done, e.Sub(t0))
				lat = append(lat, e.Sub(s))
				if len(done)%1000 == 0 {
					thousands <- len(done)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(thousands)
	<-marked
	if first != nil {
		return AddRun{}, fmt.Errorf("add_request at %d connections: %w", c, first)
	}
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	run := AddRun{Conns: c, Calls: n, Rate: float64(n) / done[n-1].Seconds(), Lat: percentiles(lat)}
	if gc1, err := goMemStats(r.pprofAddr); err == nil && gc0 != nil {
		run.GCs = gc1["NumGC"] - gc0["NumGC"]
		run.HeapBefore, run.HeapAfter = gc0["HeapAlloc"], gc1["HeapAlloc"]
		run.AllocPerCall = float64(gc1["TotalAlloc"]-gc0["TotalAlloc"]) / float64(n)
		run.MallocsPerCall = float64(gc1["Mallocs"]-gc0["Mallocs"]) / float64(n)
	}
	for i := 1; i < len(marks); i++ {
		a, b := marks[i-1], marks[i]
		run.DaemonCPUPerThousand = append(run.DaemonCPUPerThousand, float64(b.daemon-a.daemon)/1e6)
		other := (b.busy - a.busy) - (b.family - a.family)
		run.OtherCPU = append(run.OtherCPU, max(0, other.Seconds()/b.at.Sub(a.at).Seconds()))
	}
	for k := 0; k+1000 <= n; k += 1000 {
		var begin time.Duration
		if k > 0 {
			begin = done[k-1]
		}
		run.PerThousand = append(run.PerThousand, 1000/(done[k+999]-begin).Seconds())
	}
	if len(run.PerThousand) == 0 {
		run.PerThousand = []float64{run.Rate}
	}
	if k := len(run.PerThousand); k >= 20 {
		run.FirstTen = 10_000 / (done[9_999]).Seconds()
		run.LastTen = 10_000 / (done[k*1000-1] - done[(k-10)*1000-1]).Seconds()
	}
	return run, nil
}

// perWallet is (v − v0) / Wallets in KB.
func (rep *ScaleReport) perWallet(v, v0 int64) float64 {
	return float64(v-v0) / float64(rep.Config.Wallets) / 1e3
}

// writeJSONFile writes v as indented JSON to path.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ScaleSmokeConfig is the CI smoke run of `bench scale`: tiny sizes; it
// asserts nothing about speed, only that every measurement happens.
func ScaleSmokeConfig() ScaleConfig {
	return ScaleConfig{Wallets: 20, ReqsPerWallet: 1, BlockTxs: 20, AddRequests: 100, AddConns: []int{2, 4}, ColdSamples: 2,
		Idle: 300 * time.Millisecond, Settle: 50 * time.Millisecond}
}

func slicesMax(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// printMarkdown prints the scale run as the rows BENCHMARKS.md quotes.
func (rep *ScaleReport) printMarkdown(w io.Writer) {
	c := rep.Config
	fmt.Fprintf(w, "## Scale run: %d tracked wallets (%d × %s, load %.2f; daemon %s)\n\n", c.Wallets, rep.Machine.NumCPU, rep.Machine.CPUModel, loadAvg1(), rep.Daemon)
	fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| genstore (wallets written through the engine, offline) | %v, store %s |\n", rep.GenStore.Round(time.Millisecond), mb(rep.StoreFile))
	fmt.Fprintf(w, "| start-up: listening / first reply / synchronized | %s / %s / %s |\n", ms(rep.Listening), ms(rep.FirstReply), ms(rep.Synchronized))
	fmt.Fprintf(w, "| RSS (anon, file); with no wallet | %s (%s, %s); %s (%s, %s) |\n", mb(rep.Idle.RSS), mb(rep.Idle.RSSAnon), mb(rep.Idle.RSSFile),
		mb(rep.Idle0.RSS), mb(rep.Idle0.RSSAnon), mb(rep.Idle0.RSSFile))
	fmt.Fprintf(w, "| RSS per wallet ((RSS − RSS with no wallet) / wallets): all / anon / file | %.1f KB / %.1f KB / %.1f KB |\n",
		rep.perWallet(rep.Idle.RSS, rep.Idle0.RSS), rep.perWallet(rep.Idle.RSSAnon, rep.Idle0.RSSAnon), rep.perWallet(rep.Idle.RSSFile, rep.Idle0.RSSFile))
	fmt.Fprintf(w, "| Go heap in use | %s |\n", mb(rep.Idle.GoHeapInuse))
	fmt.Fprintf(w, "| idle CPU over %v | %.2f%% of a core |\n", rep.Idle.Window.Round(time.Millisecond), rep.Idle.CorePercent)
	fmt.Fprintf(w, "| cold load (getbalance, new xpub) median / p90 (the node's part: one WatchHistory of 30 addresses) | %s / %s (%s) |\n", ms(rep.Cold.Lat.P50),
		ms(rep.Cold.Lat.P90), ms(rep.Cold.NodeLookups))
	for _, b := range []struct {
		name string
		s    BlockSample
	}{{"paying none", rep.BlockNone}, {"all paying tracked wallets", rep.BlockOurs}} {
		fmt.Fprintf(w, "| block of %d txs %s: applied+committed (daemon log) / end to end (generate %s) | %s (%d relevant) / %s |\n",
			b.s.Txs, b.name, ms(b.s.Generate), ms(b.s.Applied), b.s.Relevant, ms(b.s.EndToEnd))
	}
	for _, a := range rep.Adds {
		ten := ""
		if a.FirstTen > 0 {
			ten = fmt.Sprintf("; first ten thousand %.0f/s, last ten %.0f/s", a.FirstTen, a.LastTen)
		}
		fmt.Fprintf(w, "| add_request durable, %d conns: %d calls | %.0f/s (1st thousand %.0f/s, last %.0f/s%s; %d GCs, %.1f KB / %.0f objects allocated per call), p50 %s p99 %s |\n",
			a.Conns, a.Calls, a.Rate, a.PerThousand[0], a.PerThousand[len(a.PerThousand)-1], ten, a.GCs, a.AllocPerCall/1e3, a.MallocsPerCall, ms(a.Lat.P50), ms(a.Lat.P99))
	}
}

func firstOr(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

func lastOr(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}
