package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// Config is one run of the tool.
type Config struct {
	// Wallets (N) is the number of loaded wallets the getbalance,
	// get_request and add_request scenarios spread over.
	Wallets int
	// Requests (M) is the number of payment requests get_request reads.
	Requests int
	// Conns (C) is the number of concurrent keep-alive connections.
	Conns int
	// Duration (T) is each scenario's measured window; Warmup precedes it.
	Duration, Warmup time.Duration
	// Track lists the tracked-wallet counts at which the daemon's idle
	// memory and CPU and the cold-load latency are measured (the idle
	// cost is also measured at 0).
	Track []int
	// ReqsPerWallet is the number of requests each tracked wallet gets.
	ReqsPerWallet int
	// ColdSamples is the number of cold loads timed at each Track point.
	ColdSamples int
	// Idle is the idle window; Settle the pause before it.
	Idle, Settle time.Duration
	// Payments is the number of mempool payments timed to their
	// websocket event.
	Payments int
	// Rounds repeats the throughput scenarios (interleaved, so that a
	// drift of the machine touches all of them); the report gives each
	// one's median round and the range.
	Rounds int
	// Build builds a non-race daemon binary when WALLETD_DAEMON_BIN is
	// unset (a benchmark must not measure a race build); otherwise the
	// integration/daemon default applies.
	Build bool
	// PprofAddr is passed to the daemon as BTC_PPROF_ADDR (default: a
	// free loopback port).
	PprofAddr string
	// ProfileDir, when set, receives CPU profiles of the daemon for each
	// throughput scenario (<scenario>.pprof) and the first seconds of a
	// large wallet creation (grow-<n>.pprof), and heap profiles at each
	// idle point (heap-<n>.pprof).
	ProfileDir string
	// DaemonEnv is extra environment for the daemon (experiments such
	// as GOGC=400 or BTC_IDLE_EVICT=1m).
	DaemonEnv []string
	// DetectionOnly runs only the payment detection (on the first Track
	// point's wallets): no idle, cold-load or throughput scenario.
	DetectionOnly bool
	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// DefaultConfig is the full measurement of BENCHMARKS.md.
func DefaultConfig() Config {
	return Config{Wallets: 1000, Requests: 5000, Conns: 32, Duration: 10 * time.Second, Warmup: 2 * time.Second,
		Track: []int{10, 1000, 10000}, ReqsPerWallet: 2, ColdSamples: 50, Idle: 20 * time.Second,
		Settle: 3 * time.Second, Payments: 200, Rounds: 3, Build: true}
}

// SmokeConfig is the CI smoke run: tiny sizes and windows. It asserts
// nothing about speed, only that every scenario works.
func SmokeConfig() Config {
	return Config{Wallets: 3, Requests: 6, Conns: 4, Duration: 700 * time.Millisecond, Warmup: 100 * time.Millisecond,
		Track: []int{3, 6}, ReqsPerWallet: 1, ColdSamples: 3, Idle: 500 * time.Millisecond,
		Settle: 50 * time.Millisecond, Payments: 5, Rounds: 1}
}

// Report is everything a run measured.
type Report struct {
	Machine Machine `json:"machine"`
	// Daemon is the measured binary's source revision (from its build
	// information).
	Daemon    string        `json:"daemon"`
	Config    Config        `json:"config"`
	Started   time.Time     `json:"started"`
	Took      time.Duration `json:"took_ns"`
	Growth    []GrowStep    `json:"growth"`
	Idle      []IdleSample  `json:"idle"`
	Cold      []ColdSample  `json:"cold"`
	Detection Detection     `json:"detection"`
	Loads     []LoadResult  `json:"loads"`
}

// GrowStep is the creation of tracked wallets up to a count, each wallet
// cold-loaded and given its requests over Conns connections.
type GrowStep struct {
	To       int           `json:"to"`
	Created  int           `json:"created"`
	Requests int           `json:"requests"`
	Took     time.Duration `json:"took_ns"`
}

// ColdSample is the latency of the first call (getbalance) with a
// never-seen xpub, one at a time, at a number of tracked wallets.
type ColdSample struct {
	Tracked int         `json:"tracked"`
	Lat     Percentiles `json:"latency"`
	// NodeLookups is the node's share of a cold load: the daemon's one
	// WatchHistory exchange for a wallet's 30 addresses (nodeLookups).
	NodeLookups time.Duration `json:"node_lookups_ns"`
}

// Detection is the delay from broadcasting a payment to its websocket
// event.
type Detection struct {
	// Mempool: from sendrawtransaction at the node to new_payment
	// (status 7, unconfirmed) on a websocket client.
	Mempool Percentiles `json:"mempool"`
	// Block: from the generate call mining a block with every payment to
	// the last new_payment "Paid" event.
	Block time.Duration `json:"block_ns"`
	// Node: from sendrawtransaction to the node's notification of the
	// payment decoded by a btcdws client of the tool's own, subscribed as
	// the daemon is (BTC_BTCD_FILTER): the node's part of Mempool (btcd
	// accepting the transaction and writing its notification, and the
	// decoding every client pays); the rest is the daemon's (apply,
	// commit, publish, the frame to the client).
	Node Percentiles `json:"mempool_node"`
	// DaemonCPU is the daemon's CPU time per payment over the mempool
	// payments (everything it did meanwhile, divided by their number).
	DaemonCPU time.Duration `json:"daemon_cpu_per_payment_ns"`
}

// reqRef is a payment request the run created.
type reqRef struct {
	wallet  int
	id      string
	address string
}

type runner struct {
	pprofAddr string

	tb    harness.TB
	cfg   Config
	node  *harness.Node
	d     *daemon.Proc
	tgt   *target
	pool  *rpcPool
	keys  []string // keys[i] is wallet i; the first tracked are tracked
	next  int      // wallets created so far
	reqs  map[int][]reqRef
	rep   *Report
	start time.Time
	// nodeBackend is the tool's own connection to btcd for timing the
	// node's part of cold loads (nodeLookups), made on first use.
	nodeBackend *btcdws.Backend
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "bench %6.1fs  %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// Run starts a btcd regtest node and the BTC daemon and measures them.
// Node and daemon failures fail tb (harness and integration/daemon report
// through it); measurement errors (a request that errors, a scenario with no
// requests) are returned.
func Run(tb harness.TB, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	r := &runner{tb: tb, cfg: cfg, reqs: map[int][]reqRef{}, start: time.Now(),
		rep: &Report{Machine: describeMachine(), Config: cfg, Started: time.Now()}}
	if err := r.startProcesses(); err != nil {
		return nil, err
	}
	defer r.pool.Close()

	if cfg.DetectionOnly {
		if err := r.grow(cfg.Track[0]); err != nil {
			return r.rep, err
		}
		err := r.detectionPhase()
		r.rep.Took = time.Since(r.start)
		return r.rep, err
	}
	if err := r.trackingPhase(); err != nil {
		return r.rep, err
	}
	if err := r.detectionPhase(); err != nil {
		return r.rep, err
	}
	if err := r.loadPhase(); err != nil {
		return r.rep, err
	}
	r.rep.Took = time.Since(r.start)
	return r.rep, r.rep.validate()
}

// startProcesses builds the daemon (when asked), starts btcd with 101
// blocks and the daemon, and waits until the daemon is synced.
func (r *runner) startProcesses() error {
	cfg, tb := r.cfg, r.tb
	var err error
	if cfg.Build && os.Getenv("WALLETD_DAEMON_BIN") == "" {
		bin, err := buildDaemon(tb.TempDir())
		if err != nil {
			return err
		}
		if err := os.Setenv("WALLETD_DAEMON_BIN", bin); err != nil {
			return err
		}
		r.logf("built non-race daemon %s", bin)
	}
	r.rep.Daemon = daemonRevision(daemon.Binary(tb))
	r.logf("daemon binary: %s", r.rep.Daemon)
	r.node = harness.StartBtcd(tb)
	r.node.Generate(101)
	// pprof is always served (on loopback): the memory table reads the
	// daemon's Go heap statistics from it.
	r.pprofAddr = cfg.PprofAddr
	if r.pprofAddr == "" {
		if r.pprofAddr, err = freeAddr(); err != nil {
			return err
		}
	}
	env := []string{"BTC_NETWORK=regtest", "BTC_SERVER=" + r.node.WSURL(), "BTC_DEBUG=0", "BTC_PPROF_ADDR=" + r.pprofAddr}
	env = append(env, cfg.DaemonEnv...)
	r.d = daemon.Start(tb, "btc", env...)
	r.tgt = newTarget(strings.TrimPrefix(r.d.URL, "http://"), "electrum", "electrumz")
	if r.pool, err = newRPCPool(r.tgt, cfg.Conns); err != nil {
		return err
	}
	if err := r.waitSynced(); err != nil {
		r.pool.Close()
		return err
	}
	r.logf("btcd at %s, walletd at %s (pid %d), synced", r.node.RPCAddr(), r.d.URL, r.d.PID())
	return nil
}

func (c Config) check() error {
	switch {
	case c.Wallets < 1, c.Requests < 1, c.Conns < 1, c.Duration <= 0, c.ColdSamples < 1, c.Payments < 1, c.Idle <= 0, c.Rounds < 1:
		return errors.New("bench: -n, -m, -c, -t, -cold, -payments, -idle and -rounds must be positive")
	case len(c.Track) == 0:
		return errors.New("bench: -track needs at least one count")
	case !slices.IsSorted(c.Track) || c.Track[0] < 1:
		return errors.New("bench: -track counts must be positive and ascending")
	case c.ReqsPerWallet < 1 || c.ReqsPerWallet > 5:
		return errors.New("bench: -reqs-per-wallet must be 1..5 (a few)")
	}
	return nil
}

// validate fails a run in which anything errored or measured nothing.
func (rep *Report) validate() error {
	var errs []error
	for _, l := range rep.Loads {
		if l.Errors > 0 {
			errs = append(errs, fmt.Errorf("%s: %d requests failed, first: %s", l.Name, l.Errors, l.FirstErr))
		}
		if l.Requests == 0 {
			errs = append(errs, fmt.Errorf("%s: no request completed", l.Name))
		}
	}
	for _, c := range rep.Cold {
		if c.Lat.N == 0 {
			errs = append(errs, fmt.Errorf("cold load at %d: no sample", c.Tracked))
		}
	}
	if rep.Detection.Mempool.N == 0 {
		errs = append(errs, errors.New("detection: no payment timed"))
	}
	if len(rep.Loads) < 5*rep.Config.Rounds {
		errs = append(errs, fmt.Errorf("only %d of %d throughput runs happened", len(rep.Loads), 5*rep.Config.Rounds))
	}
	return errors.Join(errs...)
}

// buildDaemon builds cmd/daemon without the race detector into dir.
func buildDaemon(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "walletd")
	cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, "./cmd/daemon")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/daemon: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot finds the repository root (the go.mod of walletd) above the
// working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if mod, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.HasPrefix(string(mod), "module github.com/walletd/walletd\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("bench: repository root not found above the working directory")
		}
		dir = parent
	}
}

type info struct {
	Synchronized bool `json:"synchronized"`
	TotalWallets int  `json:"total_wallets"`
}

func (r *runner) waitSynced() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var in info
		err := r.pool.Call(&in, "", "getinfo")
		if err == nil && in.Synchronized {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("walletd did not synchronize: %v %+v", err, in)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// key returns wallet i's key material, making more keys as needed.
func (r *runner) key(i int) (string, error) {
	if i >= len(r.keys) {
		more, err := benchKeys("v1", len(r.keys), max(i+1, len(r.keys)+1024))
		if err != nil {
			return "", err
		}
		r.keys = append(r.keys, more...)
	}
	return r.keys[i], nil
}

// parallel runs fn(i) for i in [from, to) on Conns workers and returns the
// first error.
func (r *runner) parallel(from, to int, fn func(i int) error) error {
	var mu sync.Mutex
	var first error
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < r.cfg.Conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}

type requestReply struct {
	RequestID string `json:"request_id"`
	Address   string `json:"address"`
}

// addRequest creates a request on wallet i; remember keeps it for the
// get_request scenario.
func (r *runner) addRequest(i int, force, remember bool, mu *sync.Mutex) (reqRef, error) {
	var rr requestReply
	if err := r.pool.Call(&rr, r.keys[i], "add_request", "0.0005", "bench", 3600, false, force); err != nil {
		return reqRef{}, fmt.Errorf("wallet %d: %w", i, err)
	}
	ref := reqRef{wallet: i, id: rr.RequestID, address: rr.Address}
	if remember {
		mu.Lock()
		r.reqs[i] = append(r.reqs[i], ref)
		mu.Unlock()
	}
	return ref, nil
}

// grow tracks wallets up to count: each is loaded by its first call
// (getbalance) and given ReqsPerWallet requests.
func (r *runner) grow(count int) error {
	if count <= r.next {
		return nil
	}
	if _, err := r.key(count - 1); err != nil {
		return err
	}
	from := r.next
	t0 := time.Now()
	var prof sync.WaitGroup
	defer prof.Wait()
	if r.cfg.ProfileDir != "" && count-from >= 1000 {
		// A CPU profile of the first seconds of mass cold loading.
		prof.Add(1)
		go func() {
			defer prof.Done()
			path := filepath.Join(r.cfg.ProfileDir, fmt.Sprintf("grow-%d.pprof", count))
			if err := fetchProfile(r.pprofAddr, 5, path); err != nil {
				r.logf("profile: %v", err)
			}
		}()
	}
	var mu sync.Mutex
	var done int
	err := r.parallel(from, count, func(i int) error {
		if err := r.pool.Call(nil, r.keys[i], "getbalance"); err != nil {
			return fmt.Errorf("wallet %d: %w", i, err)
		}
		for j := 0; j < r.cfg.ReqsPerWallet; j++ {
			if _, err := r.addRequest(i, false, true, &mu); err != nil {
				return err
			}
		}
		mu.Lock()
		done++
		if done%2000 == 0 {
			r.logf("  %d/%d wallets (%.0f/s)", from+done, count, float64(done)/time.Since(t0).Seconds())
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	r.next = count
	step := GrowStep{To: count, Created: count - from, Requests: (count - from) * r.cfg.ReqsPerWallet, Took: time.Since(t0)}
	r.rep.Growth = append(r.rep.Growth, step)
	r.logf("tracked %d wallets (+%d with %d requests in %v)", count, step.Created, step.Requests, step.Took.Round(time.Millisecond))
	return nil
}

// idle measures the daemon's RSS and idle CPU at the current count.
func (r *runner) idle() error {
	s, err := measureIdle(r.d.PID(), r.next, r.cfg.Settle, r.cfg.Idle)
	if err != nil {
		return err
	}
	s.Scripts = r.next * 30
	if st, err := os.Stat(filepath.Join(r.d.DataDir, "btc-regtest.db")); err == nil {
		s.StoreFile = st.Size()
	}
	if ms, err := goMemStats(r.pprofAddr); err == nil {
		s.GoHeapInuse, s.GoNextGC = ms["HeapInuse"], ms["NextGC"]
	} else {
		r.logf("daemon memstats: %v", err)
	}
	r.rep.Idle = append(r.rep.Idle, s)
	if r.cfg.ProfileDir != "" {
		path := filepath.Join(r.cfg.ProfileDir, fmt.Sprintf("heap-%d.pprof", r.next))
		if err := fetchPprof(r.pprofAddr, "heap", path); err != nil {
			r.logf("heap profile: %v", err)
		}
	}
	r.logf("idle at %d wallets: RSS %.1f MB (anon %.1f, file %.1f; Go heap in use %.1f MB), CPU %.2f%% of a core over %v",
		s.Wallets, float64(s.RSS)/1e6, float64(s.RSSAnon)/1e6, float64(s.RSSFile)/1e6, float64(s.GoHeapInuse)/1e6,
		s.CorePercent, s.Window.Round(time.Millisecond))
	return nil
}

// cold times ColdSamples first calls with never-seen xpubs, one at a time.
func (r *runner) cold() error {
	tracked := r.next
	n := r.cfg.ColdSamples
	if _, err := r.key(tracked + n - 1); err != nil {
		return err
	}
	reqs := make([][]byte, n)
	for i := range reqs {
		reqs[i] = r.tgt.request(rpcBody(uint64(i+1), "getbalance", r.keys[tracked+i]))
	}
	lat, err := sequential(r.tgt.addr, reqs)
	r.next = tracked + len(lat)
	if err != nil {
		return fmt.Errorf("cold load: %w", err)
	}
	c := ColdSample{Tracked: tracked, Lat: percentiles(lat)}
	if c.NodeLookups, err = r.nodeLookups(r.keys[r.next-1]); err != nil {
		return err
	}
	r.rep.Cold = append(r.rep.Cold, c)
	r.logf("cold load with %d tracked: median %v, p90 %v (the node's part: %v)", tracked, c.Lat.P50, c.Lat.P90, c.NodeLookups)
	return nil
}

// nodeLookups times the node's part of a cold load as the daemon asks it
// now: one WatchHistory of the wallet's 30 addresses (btcd's filter
// additions, then 30 searchrawtransactions with count 16, in one websocket
// batch), on a btcdws connection of the tool's own (watchHistoryPart, the
// same measure as `bench cold`'s column). It returns the median of 20.
func (r *runner) nodeLookups(key string) (time.Duration, error) {
	if r.nodeBackend == nil {
		be, err := btcdws.New(btcdws.Config{URL: r.node.WSURL(), Params: r.node.Params(), CallTimeout: 30 * time.Second,
			ReconnectMin: 50 * time.Millisecond, ReconnectMax: time.Second}, slog.New(slog.DiscardHandler))
		if err != nil {
			return 0, err
		}
		r.tb.Cleanup(func() { _ = be.Close() })
		events, err := be.Start(context.Background())
		if err != nil {
			return 0, err
		}
		for ev := range events {
			if ev.Kind == chain.EventConnected {
				break
			}
		}
		go func() {
			for range events {
			}
		}()
		r.nodeBackend = be
	}
	return r.watchHistoryPart(r.nodeBackend, key)
}

// trackingPhase grows the tracked set through the Track points, measuring
// the idle cost and cold loads at each.
func (r *runner) trackingPhase() error {
	if err := r.idle(); err != nil {
		return err
	}
	for _, n := range r.cfg.Track {
		if err := r.grow(n); err != nil {
			return err
		}
		if err := r.idle(); err != nil {
			return err
		}
		if err := r.cold(); err != nil {
			return err
		}
	}
	return nil
}

// detectionPhase times Payments mempool payments, each from its
// sendrawtransaction at the node to its new_payment on a websocket client,
// one at a time; then mines them in one block.
func (r *runner) detectionPhase() error {
	p := r.cfg.Payments
	// Requests on fresh addresses, about 10 per wallet on the first
	// wallets (each already has ReqsPerWallet; force only past the gap
	// limit of 20). They are paid, so get_request does not reuse them.
	wallets := min(r.next, (p+9)/10)
	per := (p + wallets - 1) / wallets
	force := per+r.cfg.ReqsPerWallet > 20
	var mu sync.Mutex
	reqs := make([]reqRef, p)
	err := r.parallel(0, p, func(i int) error {
		ref, err := r.addRequest(i%wallets, force, false, &mu)
		reqs[i] = ref
		return err
	})
	if err != nil {
		return err
	}
	coins, err := r.payables(reqs)
	if err != nil {
		return err
	}
	ws := r.d.Dial("")
	defer ws.Close()
	seen, stop, err := r.observePayments(coins)
	if err != nil {
		return err
	}
	defer stop()
	time.Sleep(r.cfg.Settle)
	r.logf("sending %d payments, one at a time", p)
	q := startQuiet()
	cpu0, _ := cpuTime(r.d.PID())
	lat := make([]time.Duration, 0, p)
	nodeLat := make([]time.Duration, 0, p)
	for i, c := range coins {
		tx := c.tx(r.node)
		t0 := time.Now()
		if _, err := r.node.SendRaw(tx); err != nil {
			return fmt.Errorf("payment %d: %w", i, err)
		}
		f := ws.Next(10*time.Second, "new_payment "+reqs[i].id, daemon.IsEvent("new_payment", map[string]any{"address": reqs[i].id}))
		lat = append(lat, f.At.Sub(t0))
		if at, ok := seen(tx.TxHash(), 2*time.Second); ok {
			nodeLat = append(nodeLat, at.Sub(t0))
		}
	}
	r.rep.Detection.Mempool = percentiles(lat)
	r.rep.Detection.Node = percentiles(nodeLat)
	quiet := q.stop()
	cpu1, _ := cpuTime(r.d.PID())
	r.rep.Detection.DaemonCPU = (cpu1 - cpu0) / time.Duration(len(lat))
	r.logf("mempool payment → new_payment: p50 %v, p99 %v over %d (other load %.2f cores); the node's notification decoded: p50 %v, p99 %v; daemon CPU %v per payment",
		r.rep.Detection.Mempool.P50, r.rep.Detection.Mempool.P99, len(lat), quiet.OtherCPU, r.rep.Detection.Node.P50, r.rep.Detection.Node.P99,
		r.rep.Detection.DaemonCPU)

	pending := map[string]bool{}
	for _, q := range reqs {
		pending[q.id] = true
	}
	t0 := time.Now()
	r.node.Generate(1)
	var last time.Time
	for len(pending) > 0 {
		f := ws.Next(30*time.Second, "paid events", func(f daemon.Frame) bool {
			ev := f.Event()
			id, _ := ev["address"].(string)
			st, _ := ev["status"].(float64)
			return ev["event"] == "new_payment" && st == 3 && pending[id]
		})
		id, _ := f.Event()["address"].(string)
		delete(pending, id)
		last = f.At
	}
	r.rep.Detection.Block = last.Sub(t0)
	r.logf("block with %d payments → last Paid event: %v", p, r.rep.Detection.Block.Round(time.Millisecond))
	return nil
}

// observePayments connects a btcdws client of the tool's own to the node,
// subscribed to the mempool transactions paying coins' scripts as the
// daemon is (local matching, or the node's filter with
// BTC_BTCD_FILTER=node), and notes when each one's notification arrives
// decoded. seen waits up to wait for a transaction's arrival time.
func (r *runner) observePayments(coins []payable) (seen func(chainhash.Hash, time.Duration) (time.Time, bool), stop func(), err error) {
	local := !slices.Contains(r.cfg.DaemonEnv, "BTC_BTCD_FILTER=node")
	be, err := btcdws.New(btcdws.Config{URL: r.node.WSURL(), Params: r.node.Params(), CallTimeout: 30 * time.Second,
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: time.Second, MatchLocally: local}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	watched := map[string]bool{}
	scripts := make([][]byte, len(coins))
	for i, c := range coins {
		watched[string(c.to)] = true
		scripts[i] = c.to
	}
	if local {
		be.MatchLocally(scriptSet(watched))
	}
	events, err := be.Start(context.Background())
	if err != nil {
		_ = be.Close()
		return nil, nil, err
	}
	for ev := range events {
		if ev.Kind == chain.EventConnected {
			break
		}
	}
	if !local {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := be.Watch(ctx, scripts, nil)
		cancel()
		if err != nil {
			_ = be.Close()
			return nil, nil, err
		}
	}
	var mu sync.Mutex
	arrived := map[chainhash.Hash]time.Time{}
	changed := make(chan struct{}, 1)
	go func() {
		for ev := range events {
			if ev.Kind == chain.EventTxAccepted {
				at := time.Now()
				mu.Lock()
				arrived[ev.Tx.TxHash()] = at
				mu.Unlock()
				select {
				case changed <- struct{}{}:
				default:
				}
			}
		}
	}()
	seen = func(h chainhash.Hash, wait time.Duration) (time.Time, bool) {
		deadline := time.After(wait)
		for {
			mu.Lock()
			at, ok := arrived[h]
			mu.Unlock()
			if ok {
				return at, true
			}
			select {
			case <-changed:
			case <-deadline:
				return time.Time{}, false
			}
		}
	}
	return seen, func() { _ = be.Close() }, nil
}

// scriptSet is a chain.Matcher of a set of output scripts.
type scriptSet map[string]bool

func (s scriptSet) WatchesScript(pkScript []byte) bool { return s[string(pkScript)] }
func (s scriptSet) WatchesOutpoint(wire.OutPoint) bool { return false }

// payable is a confirmed harness-owned output that pays one request: a
// prebuilt one-input transaction.
type payable struct {
	op     wire.OutPoint
	script []byte
	to     []byte
}

func (c payable) tx(n *harness.Node) *wire.MsgTx { return n.SpendTx(c.op, c.script, 100_000, c.to) }

// payables funds one output per request and confirms them.
func (r *runner) payables(reqs []reqRef) ([]payable, error) {
	coins := make([]payable, len(reqs))
	for i := range coins {
		s, _ := r.node.NewScript(harness.P2WPKH)
		coins[i] = payable{op: r.node.FundScript(s, 100_000), script: s}
		a, err := address.DecodeAddress(reqs[i].address, r.node.Params())
		if err != nil {
			return nil, err
		}
		if coins[i].to, err = txscript.PayToAddrScript(a); err != nil {
			return nil, err
		}
		if i%20 == 19 {
			r.node.Generate(1)
		}
	}
	r.node.Generate(1)
	return coins, nil
}

// loadPhase runs the throughput scenarios: the reference ceiling, help,
// getbalance and get_request on loaded wallets, add_request.
func (r *runner) loadPhase() error {
	n := r.cfg.Wallets
	if err := r.grow(n); err != nil {
		return err
	}
	// Loaded: a first call (again) puts each wallet's keys in memory,
	// whatever idle eviction did during the earlier phases.
	if err := r.parallel(0, n, func(i int) error { return r.pool.Call(nil, r.keys[i], "getbalance") }); err != nil {
		return err
	}
	var refs []reqRef
	for i := 0; i < n && len(refs) < r.cfg.Requests; i++ {
		refs = append(refs, r.reqs[i]...)
	}
	if len(refs) > r.cfg.Requests {
		refs = refs[:r.cfg.Requests]
	}
	if missing := r.cfg.Requests - len(refs); missing > 0 {
		var mu sync.Mutex
		extra := make([]reqRef, missing)
		if err := r.parallel(0, missing, func(i int) error {
			ref, err := r.addRequest(i%n, true, true, &mu)
			extra[i] = ref
			return err
		}); err != nil {
			return err
		}
		refs = append(refs, extra...)
	}
	r.logf("%d loaded wallets, %d requests", n, len(refs))

	var help, bal, getReq, addReq [][]byte
	for i := 0; i < 64; i++ {
		help = append(help, r.tgt.request(rpcBody(uint64(i+1), "help", "")))
	}
	for i := 0; i < n; i++ {
		bal = append(bal, r.tgt.request(rpcBody(uint64(i+1), "getbalance", r.keys[i])))
		addReq = append(addReq, r.tgt.request(rpcBody(uint64(i+1), "add_request", r.keys[i], "0.001", "bench", 3600, false, true)))
	}
	for i, q := range refs {
		getReq = append(getReq, r.tgt.request(rpcBody(uint64(i+1), "get_request", r.keys[q.wallet], q.id)))
	}

	ref, err := startRef()
	if err != nil {
		return err
	}
	defer ref.Stop()
	refTgt := newTarget(ref.Addr, "electrum", "electrumz")
	var refReqs [][]byte
	for i := 0; i < n; i++ {
		refReqs = append(refReqs, refTgt.request(rpcBody(uint64(i+1), "getbalance", r.keys[i])))
	}

	scenarios := []struct {
		name string
		addr string
		pid  int
		reqs [][]byte
	}{
		{"reference", ref.Addr, ref.PID(), refReqs},
		{"help", r.tgt.addr, r.d.PID(), help},
		{"getbalance", r.tgt.addr, r.d.PID(), bal},
		{"get_request", r.tgt.addr, r.d.PID(), getReq},
		{"add_request", r.tgt.addr, r.d.PID(), addReq},
	}
	for round := 1; round <= r.cfg.Rounds; round++ {
		for _, s := range scenarios {
			time.Sleep(r.cfg.Settle)
			res := r.scenario(s.name, s.addr, s.pid, s.reqs, round == 1)
			res.Round = round
			r.rep.Loads = append(r.rep.Loads, res)
			r.logf("round %d %-12s %8.0f req/s  p50 %v  p90 %v  p99 %v  (%d requests, %d errors; server CPU %v/req; other load %.2f cores)",
				round, res.Name, res.RPS, res.Lat.P50, res.Lat.P90, res.Lat.P99, res.Requests, res.Errors,
				res.ServerCPUPerReq, res.Quiet.OtherCPU)
		}
	}
	return nil
}

// scenario drives one throughput scenario, sampling the server's CPU time
// (and, when asked, a CPU profile of the daemon over the measured window).
func (r *runner) scenario(name, addr string, pid int, reqs [][]byte, profile bool) LoadResult {
	var wg sync.WaitGroup
	if profile && r.cfg.ProfileDir != "" && name != "reference" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(r.cfg.Warmup)
			secs := int(math.Max(1, math.Floor(r.cfg.Duration.Seconds())))
			if err := fetchProfile(r.pprofAddr, secs, filepath.Join(r.cfg.ProfileDir, name+".pprof")); err != nil {
				r.logf("profile %s: %v", name, err)
			}
		}()
	}
	q := startQuiet()
	c0, _ := cpuTime(pid)
	res := drive(name, addr, reqs, r.cfg.Conns, r.cfg.Warmup, r.cfg.Duration)
	c1, _ := cpuTime(pid)
	res.Quiet = q.stop()
	if res.total > 0 {
		res.ServerCPUPerReq = (c1 - c0) / time.Duration(res.total)
	}
	wg.Wait()
	return res
}

// fetchProfile saves a CPU profile of secs seconds from a pprof server.
func fetchProfile(addr string, secs int, path string) error {
	return fetchPprof(addr, fmt.Sprintf("profile?seconds=%d", secs), path)
}

// fetchPprof saves /debug/pprof/<what> from a pprof server.
func fetchPprof(addr, what, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s", addr, what), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeJSON saves the report.
func (rep *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// goMemStats reads the runtime.MemStats lines ("# HeapInuse = 123") that
// /debug/pprof/heap?debug=1 ends with.
func goMemStats(pprofAddr string) (map[string]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+pprofAddr+"/debug/pprof/heap?debug=1", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "# ")
		if !ok {
			continue
		}
		name, val, ok := strings.Cut(rest, " = ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil {
			out[name] = v
		}
	}
	if _, ok := out["HeapInuse"]; !ok {
		return nil, errors.New("no HeapInuse in the heap profile's text form")
	}
	return out, nil
}

// daemonRevision describes a binary's source from its build information:
// the VCS revision and time, and whether the tree had changes.
func daemonRevision(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	rev := set["vcs.revision"]
	if rev == "" {
		return "no VCS information, " + bi.GoVersion
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	out := "revision " + rev + " (" + set["vcs.time"] + ")"
	if set["vcs.modified"] == "true" {
		out += " plus changes in the working tree"
	}
	if set["-race"] == "true" {
		out += ", race detector on"
	}
	return out + ", " + bi.GoVersion
}
