package main

// The websocket benchmark (`bench ws`): many /ws clients, half of them
// filtered on a wallet, while blocks pay many requests and RPC load runs.
// It measures what issue 15 asks for: delivery latency of every frame to
// every client (and that each client gets exactly its frames, in order),
// the memory of an idle client, RPC latency during a block's fan-out
// against its latency without one, and what a client that stops reading
// sees (the close frame's resume seq, and a replay from it).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/harness"
)

// WSConfig is one run of the websocket benchmark.
type WSConfig struct {
	// Clients is the number of websocket clients; every other one filters
	// on one of the Wallets (round-robin), the rest take everything.
	Clients int
	// Wallets are loaded; the first PaidWallets get the payments.
	Wallets, PaidWallets int
	// Payments is the number of requests one block pays; Rounds is the
	// number of such blocks in each phase (without and with clients).
	Payments, Rounds int
	// RPCConns keep-alive connections run getbalance during both phases:
	// closed-loop, or RPCRate requests per second in all when it is set.
	RPCConns, RPCRate int
	// RPCNice is the RPC load process's scheduling priority (nice value;
	// 0: as the tool's), so that the process whose clock times the
	// requests is not the one kept waiting by the tool's own websocket
	// clients.
	RPCNice int
	// Idle is the RPC window before each block; Settle the pause after a
	// round's mempool payments (and before memory samples).
	Idle, Settle time.Duration
	// Stall adds a client that never reads and waits for the daemon to
	// drop it (it needs more frames than the kernel buffers hold, so the
	// smoke run leaves it out).
	Stall bool
	// TraceDir, when set, receives an execution trace of the daemon
	// (runtime/trace, via its pprof server) over each block's burst:
	// <phase>-<round>.trace, from TraceLead before the generate call for
	// TraceFor. Tracing costs the daemon some CPU: runs with it are for
	// diagnosis, not for the numbers.
	TraceDir            string        `json:",omitempty"`
	TraceLead, TraceFor time.Duration `json:",omitempty"`
	// DaemonLog, when set, receives the daemon's standard output and
	// error at the end (e.g. with -env GODEBUG=gctrace=1).
	DaemonLog string `json:",omitempty"`
	// ProfileDir, when set, receives a CPU profile of the daemon over one
	// second from each block's generate call: <phase>-<round>.pprof.
	ProfileDir string `json:",omitempty"`
	// ClientNice, when not 0, is the scheduling priority (nice value) of
	// the thread that reads the websocket clients.
	ClientNice int `json:",omitempty"`
	// ToolProfile, when set, receives a CPU profile of this tool (its
	// websocket clients) over the phase with clients.
	ToolProfile string `json:",omitempty"`
	// Build, PprofAddr, DaemonEnv and Log as in Config.
	Build     bool
	PprofAddr string
	DaemonEnv []string
	Log       io.Writer `json:"-"`
}

// DefaultWSConfig is the measurement recorded in BENCHMARKS.md. The
// clients' reading thread runs at nice 19: a merchant's websocket clients
// are on other machines, and here they would otherwise take CPU from the
// daemon and the RPC load on the same cores (their CPU is reported apart;
// -client-nice 0 measures them at the tool's priority).
func DefaultWSConfig() WSConfig {
	return WSConfig{Clients: 1000, Wallets: 100, PaidWallets: 20, Payments: 200, Rounds: 3, RPCConns: 16,
		Idle: 3 * time.Second, Settle: 2 * time.Second, Stall: true, Build: true, ClientNice: 19}
}

// SmokeWSConfig is the CI run of the websocket benchmark: every check,
// tiny sizes, no stalled client.
func SmokeWSConfig() WSConfig {
	return WSConfig{Clients: 12, Wallets: 4, PaidWallets: 2, Payments: 4, Rounds: 1, RPCConns: 2,
		Idle: 300 * time.Millisecond, Settle: 200 * time.Millisecond}
}

func (c WSConfig) check() error {
	if c.Clients < 2 || c.Wallets < 1 || c.PaidWallets < 1 || c.PaidWallets > c.Wallets || c.Payments < 1 ||
		c.Rounds < 1 || c.RPCConns < 1 || c.Idle <= 0 {
		return errors.New("bench ws: -clients ≥ 2, 1 ≤ -paid-wallets ≤ -wallets, and positive -payments, -rounds, -rpc-conns, -idle")
	}
	return nil
}

// WSReport is what a websocket run measured.
type WSReport struct {
	Machine Machine       `json:"machine"`
	Daemon  string        `json:"daemon"`
	Config  WSConfig      `json:"config"`
	Started time.Time     `json:"started"`
	Took    time.Duration `json:"took_ns"`
	Memory  WSMemory      `json:"memory"`
	Phases  []WSPhase     `json:"phases"`
	Stall   *WSStall      `json:"stall,omitempty"`
}

// WSMemory is the daemon before and after Clients idle clients connected
// (each sample after a forced GC and Settle).
type WSMemory struct {
	Clients                           int
	RSSBefore, RSSAfter               int64
	AnonBefore, AnonAfter             int64
	HeapBefore, HeapAfter             int64
	StackBefore, StackAfter           int64
	GoroutinesBefore, GoroutinesAfter int
}

// WSPhase is Rounds block bursts with a number of clients connected.
type WSPhase struct {
	Name    string `json:"name"`
	Clients int    `json:"clients"`
	// Frames is the number of (client, frame) deliveries checked.
	Frames int `json:"frames"`
	// Delivery is the time from the generate call to each frame's
	// arrival, over every client and frame of the bursts.
	Delivery Percentiles `json:"delivery"`
	// Done is, per round, the time until the last client had its last
	// frame.
	Done []time.Duration `json:"done_ns"`
	// IdleRPC: requests started in the Idle window before each block and
	// finished before it; BurstRPC: requests started during a burst.
	IdleRPC, BurstRPC Percentiles
	// The burst split in two: ApplyRPC, requests started before the
	// reference client's first frame of the block (the node mining it and
	// the daemon applying and committing it); FanoutRPC, the rest (the
	// frames going out to the clients).
	ApplyRPC, FanoutRPC Percentiles
	RPCErrors           int `json:"rpc_errors"`
	// DaemonCPU is the daemon's CPU time during the bursts (serving the
	// RPC load included), from each generate call until the last client
	// had its last frame; ClientCPU is the CPU the websocket clients took
	// meanwhile (the thread that reads them, its own CPU clock), ToolCPU
	// the whole tool's (the clients, the reference client, the waits for
	// the last frame; not the RPC load, which is another process).
	// BurstTime is the bursts' length in all.
	DaemonCPU time.Duration `json:"daemon_cpu_ns"`
	ClientCPU time.Duration `json:"client_cpu_ns"`
	ToolCPU   time.Duration `json:"tool_cpu_ns"`
	BurstTime time.Duration `json:"burst_ns"`
	// Quiet is the machine's other load during the phase.
	Quiet Quietness `json:"quiet"`
}

// WSStall is what a client that never read saw once it read again.
type WSStall struct {
	Frames      int           `json:"frames"` // whole frames before the close frame
	CloseCode   int           `json:"close_code"`
	Reason      string        `json:"reason"`
	Since       uint64        `json:"since"`        // its last frame's seq, named in the reason
	Missed      int           `json:"missed"`       // events after it
	Replayed    int           `json:"replayed"`     // frames a reconnect with ?since= got
	Exact       bool          `json:"exact"`        // frames, reason and replay all exactly right
	DroppedWith time.Duration `json:"dropped_with"` // from the start of its phase to the drop (±20 ms)
	Due         int           `json:"due"`          // frames published for it by then
}

// wsRec is one frame a bench client received.
type wsRec struct {
	seq  uint64
	at   time.Duration // since the run started
	w    int32         // the wallet it names: a key index, -1 null, -2 another string
	paid bool          // new_payment with status 3
	raw  []byte        // the frame's payload
}

// benchWS is one websocket client of the run.
type benchWS struct {
	c     *websocket.Conn
	key   int32 // the wallet it filters on, -1 none
	mu    sync.Mutex
	recs  []wsRec
	last  atomic.Uint64
	bad   atomic.Pointer[string]
	pongs chan string
	done  chan struct{}
	close *websocket.CloseError
}

// wsRun is one run. The reference client (a gorilla client that parses
// every frame as it comes) tells when a block's frames are all published
// and what each frame must be; the many clients are rawWS, read by one
// thread (ws_raw.go) and checked against the reference after each burst.
type wsRun struct {
	*runner
	wcfg    WSConfig
	wrep    *WSReport
	base    time.Time
	keyIdx  map[string]int32
	raw     *rawHub
	clients []*rawWS
	ref     *benchWS
	url     string
	auth    http.Header
}

// RunWS starts btcd and the daemon and runs the websocket benchmark.
func RunWS(tb harness.TB, wcfg WSConfig) (*WSReport, error) {
	if err := wcfg.check(); err != nil {
		return nil, err
	}
	cfg := Config{Conns: wcfg.RPCConns, Build: wcfg.Build, PprofAddr: wcfg.PprofAddr, Log: wcfg.Log,
		DaemonEnv: append([]string{fmt.Sprintf("BTC_WS_MAX_CLIENTS=%d", wcfg.Clients+8),
			// Websockets count against the connection limit too.
			fmt.Sprintf("BTC_MAX_CONNS=%d", wcfg.Clients+wcfg.RPCConns+64)}, wcfg.DaemonEnv...)}
	r := &runner{tb: tb, cfg: cfg, reqs: map[int][]reqRef{}, start: time.Now(), rep: &Report{}}
	w := &wsRun{runner: r, wcfg: wcfg, base: r.start, keyIdx: map[string]int32{},
		wrep: &WSReport{Machine: describeMachine(), Config: wcfg, Started: time.Now()}}
	err := r.startProcesses()
	if err != nil {
		return nil, err
	}
	defer r.pool.Close()
	w.wrep.Daemon = r.rep.Daemon
	w.url = "ws" + strings.TrimPrefix(r.d.URL, "http") + "/ws"
	w.auth = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	if w.raw, err = newRawHub(w.base, wcfg.ClientNice); err != nil {
		return nil, err
	}
	defer w.raw.Close()
	defer func() {
		if w.ref != nil {
			_ = w.ref.c.Close()
		}
	}()
	err = w.run()
	w.wrep.Took = time.Since(r.start)
	if wcfg.DaemonLog != "" {
		if werr := os.WriteFile(wcfg.DaemonLog, []byte(r.d.Logs()), 0o644); err == nil {
			err = werr
		}
	}
	return w.wrep, err
}

func (w *wsRun) run() error {
	cfg := w.wcfg
	if _, err := w.key(cfg.Wallets - 1); err != nil {
		return err
	}
	for i := 0; i < cfg.Wallets; i++ {
		w.keyIdx[w.keys[i]] = int32(i)
	}
	if err := w.parallel(0, cfg.Wallets, func(i int) error { return w.pool.Call(nil, w.keys[i], "getbalance") }); err != nil {
		return err
	}
	// The requests of every round of both phases, and an output to pay
	// each, made before any measurement.
	total := 2 * cfg.Rounds * cfg.Payments
	reqs := make([]reqRef, total)
	var mu sync.Mutex
	if err := w.parallel(0, total, func(i int) error {
		ref, err := w.addRequest(i%cfg.PaidWallets, true, false, &mu)
		reqs[i] = ref
		return err
	}); err != nil {
		return err
	}
	w.logf("%d wallets loaded, %d requests on %d of them; funding their payments", cfg.Wallets, total, cfg.PaidWallets)
	coins, err := w.payables(reqs)
	if err != nil {
		return err
	}
	var rpcReqs [][]byte
	for i := 0; i < cfg.Wallets; i++ {
		rpcReqs = append(rpcReqs, w.tgt.request(rpcBody(uint64(i+1), "getbalance", w.keys[i])))
	}

	// Memory first, while the daemon has made little garbage: before and
	// after the clients connect. They leave again for the first phase.
	if err := w.measureIdle(); err != nil {
		return err
	}
	if w.ref, err = w.dial(-1, ""); err != nil {
		return err
	}
	per := cfg.Rounds * cfg.Payments
	if err := w.phase("without clients", coins[:per], rpcReqs); err != nil {
		return err
	}

	if err := w.connectClients(); err != nil {
		return err
	}
	var stalled *benchWS
	var watch *dropWatch
	if cfg.Stall {
		if stalled, err = w.dialStalled(); err != nil {
			return err
		}
		watch = w.watchDrops()
	}
	if cfg.ToolProfile != "" {
		f, err := os.Create(cfg.ToolProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	err = w.phase(fmt.Sprintf("%d clients", cfg.Clients), coins[per:], rpcReqs)
	if cfg.ToolProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if stalled != nil {
		return w.checkStalled(stalled, watch)
	}
	return nil
}

// dropWatch notes when the daemon first reports a slow client dropped,
// and the reference client's last seq then.
type dropWatch struct {
	from   uint64 // the reference's last seq when it started
	start  time.Time
	done   chan struct{}
	at     time.Duration
	refSeq uint64
	err    error
}

// dropPoll is how often watchDrops reads /metrics. It runs through the
// second phase only, on the daemon it measures: at 20 ms (50 renderings of
// the whole registry a second) it loaded the phase with clients and not the
// one without.
const dropPoll = 250 * time.Millisecond

// watchDrops polls /metrics every dropPoll until a slow client is dropped (or
// a minute has passed).
func (w *wsRun) watchDrops() *dropWatch {
	d := &dropWatch{from: w.ref.last.Load(), start: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for time.Since(d.start) < 3*time.Minute {
			n, err := w.slowDrops()
			if err != nil {
				d.err = err
				return
			}
			if n > 0 {
				d.at, d.refSeq = time.Since(d.start), w.ref.last.Load()
				return
			}
			time.Sleep(dropPoll)
		}
		d.err = errors.New("the client that never read was not dropped")
	}()
	return d
}

// dial connects a client; key ≥ 0 registers a filter on that wallet and
// waits until the daemon has applied it.
func (w *wsRun) dial(key int32, query string) (*benchWS, error) {
	conn, _, err := websocket.DefaultDialer.Dial(w.url+query, w.auth)
	if err != nil {
		return nil, err
	}
	c := &benchWS{c: conn, key: key, pongs: make(chan string, 1), done: make(chan struct{})}
	conn.SetPongHandler(func(p string) error { c.pongs <- p; return nil })
	go c.read(w)
	if key >= 0 {
		b, _ := json.Marshal(map[string]string{"xpub": w.keys[key]})
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			return nil, err
		}
		if err := conn.WriteControl(websocket.PingMessage, []byte("sync"), time.Now().Add(10*time.Second)); err != nil {
			return nil, err
		}
		select {
		case <-c.pongs:
		case <-time.After(30 * time.Second):
			return nil, errors.New("a client's register frame was not answered")
		}
	}
	return c, nil
}

// read records frames until the connection ends.
func (c *benchWS) read(w *wsRun) {
	defer close(c.done)
	// One buffer per client, reused: the tool shares the CPUs with the
	// daemon it measures, so its thousand readers spend as little as they
	// can (no allocation per frame).
	buf := make([]byte, 0, 1024)
	for {
		_, r, err := c.c.NextReader()
		if err == nil {
			buf, err = readAll(r, buf[:0])
		}
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.close = ce
			}
			return
		}
		msg := buf
		rec, perr := w.parse(msg)
		rec.raw = slices.Clone(msg)
		switch {
		case perr != nil:
			c.flag(perr.Error())
		case c.key >= 0 && rec.w != -1 && rec.w != c.key:
			c.flag(fmt.Sprintf("client filtered on wallet %d got seq %d naming wallet %d", c.key, rec.seq, rec.w))
		}
		c.mu.Lock()
		if n := len(c.recs); n > 0 && c.recs[n-1].seq >= rec.seq {
			c.flag(fmt.Sprintf("seq %d after %d", rec.seq, c.recs[n-1].seq))
		}
		c.recs = append(c.recs, rec)
		c.mu.Unlock()
		c.last.Store(rec.seq)
	}
}

func (c *benchWS) flag(s string) { c.bad.CompareAndSwap(nil, &s) }

// readAll appends r's bytes to b, growing it only when it is too small.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

var (
	seqKey    = []byte(`"seq":`)
	walletKey = []byte(`"wallet":`)
	paidMark  = []byte(`"status":3,`)
	paidEvent = []byte(`"event":"new_payment"`)
)

// parse extracts what the run checks from a frame without decoding it all.
func (w *wsRun) parse(msg []byte) (wsRec, error) {
	rec := wsRec{at: time.Since(w.base), w: -2}
	i := bytes.Index(msg, seqKey)
	if i < 0 {
		return rec, fmt.Errorf("frame without seq: %.200s", msg)
	}
	j := i + len(seqKey)
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		rec.seq = rec.seq*10 + uint64(msg[j]-'0')
		j++
	}
	k := bytes.LastIndex(msg, walletKey)
	if k < 0 {
		return rec, fmt.Errorf("frame without wallet: %.200s", msg)
	}
	v := msg[k+len(walletKey):]
	if bytes.HasPrefix(v, []byte("null")) {
		rec.w = -1
	} else if len(v) > 1 && v[0] == '"' {
		if e := bytes.IndexByte(v[1:], '"'); e >= 0 {
			if idx, ok := w.keyIdx[string(v[1:1+e])]; ok {
				rec.w = idx
			}
		}
	}
	rec.paid = bytes.Contains(msg, paidEvent) && bytes.Contains(msg, paidMark)
	return rec, nil
}

// measureIdle samples the daemon's memory, connects Clients clients,
// samples again, and disconnects them.
func (w *wsRun) measureIdle() error {
	m := &w.wrep.Memory
	m.Clients = w.wcfg.Clients
	var err error
	if m.RSSBefore, m.AnonBefore, m.HeapBefore, m.StackBefore, m.GoroutinesBefore, err = w.sampleMemory(); err != nil {
		return err
	}
	if err := w.connectClients(); err != nil {
		return err
	}
	if m.RSSAfter, m.AnonAfter, m.HeapAfter, m.StackAfter, m.GoroutinesAfter, err = w.sampleMemory(); err != nil {
		return err
	}
	w.logf("idle clients: RSS %s → %s (%.1f KB per client), Go heap %s → %s, stacks %s → %s, goroutines %d → %d",
		mb(m.RSSBefore), mb(m.RSSAfter), float64(m.RSSAfter-m.RSSBefore)/float64(m.Clients)/1024,
		mb(m.HeapBefore), mb(m.HeapAfter), mb(m.StackBefore), mb(m.StackAfter), m.GoroutinesBefore, m.GoroutinesAfter)
	for _, c := range w.clients {
		c.close()
	}
	w.clients = nil
	return nil
}

// connectClients connects Clients clients (every other one filtered).
func (w *wsRun) connectClients() error {
	cfg := w.wcfg
	t0 := time.Now()
	var mu sync.Mutex
	out := make([]*rawWS, cfg.Clients)
	addr, auth := strings.TrimPrefix(w.d.URL, "http://"), w.auth.Get("Authorization")
	err := w.parallel(0, cfg.Clients, func(i int) error {
		key, name := int32(-1), ""
		if i%2 == 1 {
			key = int32((i / 2) % cfg.Wallets)
			name = w.keys[key]
		}
		c, err := w.raw.dial(addr, auth, key, name)
		mu.Lock()
		out[i] = c
		mu.Unlock()
		return err
	})
	for _, c := range out {
		if c != nil {
			w.clients = append(w.clients, c)
		}
	}
	if err != nil {
		return err
	}
	w.logf("%d clients connected (%d filtered) in %v", cfg.Clients, cfg.Clients/2, time.Since(t0).Round(time.Millisecond))
	return nil
}

// Memory samples: the lowest RSS of memSamples, memSampleGap apart.
const (
	memSamples   = 3
	memSampleGap = 500 * time.Millisecond
)

// sampleMemory forces a GC in the daemon, waits Settle, and reads its RSS
// (the lowest of memSamples, each after a forced GC), Go heap and stacks in
// use and goroutine count.
func (w *wsRun) sampleMemory() (rss, anon, heap, stack int64, goroutines int, err error) {
	if _, err = pprofText(w.pprofAddr, "heap?gc=1"); err != nil {
		return
	}
	time.Sleep(w.wcfg.Settle)
	mem, err := readMem(w.d.PID())
	if err != nil {
		return
	}
	// RSS keeps heap pages the last collections freed until the runtime's
	// scavenger returns them (one run saw 8 MB more anon memory for the
	// same Go heap): the lowest of a few samples, each after a forced GC,
	// is the daemon's steady state.
	for range memSamples - 1 {
		if _, err = pprofText(w.pprofAddr, "heap?gc=1"); err != nil {
			return
		}
		time.Sleep(memSampleGap)
		m, merr := readMem(w.d.PID())
		if merr != nil {
			return 0, 0, 0, 0, 0, merr
		}
		if m.RSS < mem.RSS {
			mem = m
		}
	}
	h, err := pprofText(w.pprofAddr, "heap?debug=1")
	if err != nil {
		return
	}
	for _, line := range strings.Split(h, "\n") {
		name, val, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		val, _, _ = strings.Cut(val, " ") // "Stack = inuse / sys"
		switch {
		case !ok:
		case name == "HeapInuse":
			heap, _ = strconv.ParseInt(val, 10, 64)
		case name == "Stack":
			stack, _ = strconv.ParseInt(val, 10, 64)
		}
	}
	g, err := pprofText(w.pprofAddr, "goroutine?debug=1")
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(g, "\n")
	goroutines, err = strconv.Atoi(strings.TrimPrefix(first, "goroutine profile: total "))
	return mem.RSS, mem.Anon, heap, stack, goroutines, err
}

// pprofText fetches /debug/pprof/<what> from the daemon's pprof server.
func pprofText(addr, what string) (string, error) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + what)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("pprof %s: HTTP %d", what, resp.StatusCode)
	}
	return string(b), err
}

// rpcSample is one RPC request of the load that runs during a phase.
type rpcSample struct{ start, lat time.Duration }

// phase runs Rounds blocks, each paying Payments requests (first in the
// mempool, then mined), under RPC load, and checks every client's frames.
func (w *wsRun) phase(name string, coins []payable, rpcReqs [][]byte) error {
	cfg := w.wcfg
	ph := WSPhase{Name: name, Clients: 1 + len(w.clients)}
	load, err := startRPCLoad(w.tb.TempDir(), w.tgt.addr, rpcReqs, cfg.RPCConns, cfg.RPCRate, cfg.RPCNice, w.base)
	if err != nil {
		return err
	}
	if cfg.RPCNice != 0 {
		// nice(1) execs the load at once; it warns and runs it anyway
		// when the priority may not be raised.
		time.Sleep(100 * time.Millisecond)
		if n, err := load.Nice(); err != nil || n != cfg.RPCNice {
			return fmt.Errorf("the RPC load runs at nice %d, not %d (%v): raising a priority needs root or CAP_SYS_NICE", n, cfg.RPCNice, err)
		}
	}
	stopped := false
	stop := func() ([]rpcSample, int, error) {
		stopped = true
		return load.Stop()
	}
	defer func() {
		if !stopped {
			_, _, _ = stop()
		}
	}()
	q := startQuiet()
	type window struct{ from, to time.Duration }
	var idle, burst, apply, fanout []window
	var deliveries []time.Duration
	var cpu time.Duration
	for round := 0; round < cfg.Rounds; round++ {
		pay := coins[round*cfg.Payments : (round+1)*cfg.Payments]
		from := w.ref.last.Load()
		for i, c := range pay {
			if _, err := w.node.SendRaw(c.tx(w.node)); err != nil {
				return fmt.Errorf("payment %d: %w", i, err)
			}
		}
		if err := w.waitRef(from, cfg.Payments, false); err != nil {
			return err
		}
		// Every client has its mempool frames (checked like a block's)
		// before the idle window starts.
		if _, _, _, err := w.checkRound(from, w.ref.last.Load(), 0, nil); err != nil {
			return err
		}
		time.Sleep(cfg.Settle)
		idleFrom := time.Since(w.base)
		var traced chan error
		if cfg.TraceDir != "" {
			lead := min(cfg.TraceLead, cfg.Idle)
			time.Sleep(cfg.Idle - lead)
			traced = make(chan error, 1)
			path := filepath.Join(cfg.TraceDir, fmt.Sprintf("phase%d-round%d.trace", len(w.wrep.Phases)+1, round+1))
			secs := max(1, int((cfg.TraceFor+time.Second-1)/time.Second))
			go func() { traced <- fetchPprof(w.pprofAddr, fmt.Sprintf("trace?seconds=%d", secs), path) }()
			time.Sleep(lead)
		} else {
			time.Sleep(cfg.Idle)
		}
		var profiled chan error
		if cfg.ProfileDir != "" {
			profiled = make(chan error, 1)
			path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("phase%d-round%d.pprof", len(w.wrep.Phases)+1, round+1))
			go func() { profiled <- fetchPprof(w.pprofAddr, "profile?seconds=1", path) }()
			time.Sleep(5 * time.Millisecond) // the profile has started
		}
		s0 := w.ref.last.Load()
		c0, _ := cpuTime(w.d.PID())
		b0, _ := cpuTime(os.Getpid())
		r0 := w.raw.CPU()
		t0 := time.Since(w.base)
		idle = append(idle, window{idleFrom, t0})
		w.node.Generate(1)
		if err := w.waitRef(s0, cfg.Payments, true); err != nil {
			return err
		}
		s1 := w.ref.last.Load()
		// CPU is read when the last client has its last frame, before
		// the frames are checked.
		n, done, lat, err := w.checkRound(s0, s1, t0, func() {
			c1, _ := cpuTime(w.d.PID())
			b1, _ := cpuTime(os.Getpid())
			cpu += c1 - c0
			ph.ToolCPU += b1 - b0
			ph.ClientCPU += w.raw.CPU() - r0
			ph.BurstTime += time.Since(w.base) - t0
		})
		first := w.firstRef(s0, s1) - t0
		if err != nil {
			return err
		}
		if err := w.checkReplay(s0, s1); err != nil {
			return err
		}
		burst = append(burst, window{t0, t0 + done})
		apply = append(apply, window{t0, t0 + first})
		fanout = append(fanout, window{t0 + first, t0 + done})
		if profiled != nil {
			if err := <-profiled; err != nil {
				return fmt.Errorf("profile: %w", err)
			}
		}
		if traced != nil {
			if err := <-traced; err != nil {
				return fmt.Errorf("trace: %w", err)
			}
		}
		ph.Frames += n
		ph.Done = append(ph.Done, done)
		deliveries = append(deliveries, lat...)
		w.logf("%s, round %d: block paying %d requests → %d frames to %d clients; last client done after %v",
			name, round+1, cfg.Payments, n, 1+len(w.clients), done.Round(time.Millisecond))
	}
	for _, c := range w.clients {
		if k := c.count(); k > 0 {
			return fmt.Errorf("a client (wallet %d) got %d frames after the last block's", c.key, k)
		}
	}
	samples, rpcErrs, err := stop()
	if err != nil {
		return err
	}
	ph.Quiet = q.stop()
	var idleLat, burstLat, applyLat, fanoutLat []time.Duration
	for _, s := range samples {
		for _, bw := range apply {
			if s.start >= bw.from && s.start < bw.to {
				applyLat = append(applyLat, s.lat)
			}
		}
		for _, bw := range fanout {
			if s.start >= bw.from && s.start <= bw.to {
				fanoutLat = append(fanoutLat, s.lat)
			}
		}
		for _, iw := range idle {
			if s.start >= iw.from && s.start+s.lat <= iw.to {
				idleLat = append(idleLat, s.lat)
			}
		}
		for _, bw := range burst {
			if s.start >= bw.from && s.start <= bw.to {
				burstLat = append(burstLat, s.lat)
			}
		}
	}
	ph.IdleRPC, ph.BurstRPC, ph.RPCErrors = percentiles(idleLat), percentiles(burstLat), rpcErrs
	ph.ApplyRPC, ph.FanoutRPC = percentiles(applyLat), percentiles(fanoutLat)
	ph.Delivery = percentiles(deliveries)
	ph.DaemonCPU = cpu
	w.wrep.Phases = append(w.wrep.Phases, ph)
	w.logf("%s: delivery p50 %v p99 %v; RPC p99 idle %v (n=%d), during bursts %v (n=%d: until the first frame %v n=%d, then %v n=%d); in %v of bursts CPU daemon %v, clients %v, whole tool %v",
		name, ms(ph.Delivery.P50), ms(ph.Delivery.P99), ms(ph.IdleRPC.P99), ph.IdleRPC.N, ms(ph.BurstRPC.P99), ph.BurstRPC.N,
		ms(ph.ApplyRPC.P99), ph.ApplyRPC.N, ms(ph.FanoutRPC.P99), ph.FanoutRPC.N, ph.BurstTime.Round(time.Millisecond), cpu, ph.ClientCPU, ph.ToolCPU)
	if rpcErrs > 0 {
		return fmt.Errorf("%s: %d RPC errors", name, rpcErrs)
	}
	return nil
}

// waitRef waits until the reference client has n new_payment frames
// after seq from (status 3 when paid, else any).
func (w *wsRun) waitRef(from uint64, n int, paid bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		w.ref.mu.Lock()
		got := 0
		for i := len(w.ref.recs) - 1; i >= 0 && w.ref.recs[i].seq > from; i-- {
			if r := w.ref.recs[i]; (paid && r.paid) || (!paid && r.w >= 0) {
				got++
			}
		}
		w.ref.mu.Unlock()
		// Unpaid: each payment makes new_transaction and new_payment.
		if (paid && got >= n) || (!paid && got >= 2*n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the reference client got %d of %d events after seq %d", got, n, from)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstRef returns when the reference client got its first frame of
// (s0, s1] (since the run's base).
func (w *wsRun) firstRef(s0, s1 uint64) time.Duration {
	w.ref.mu.Lock()
	defer w.ref.mu.Unlock()
	for _, r := range w.ref.recs {
		if r.seq > s0 && r.seq <= s1 {
			return r.at
		}
	}
	return 0
}

// checkRound waits until every client has its frames of (s0, s1] — the
// reference's, filtered by the client's wallet — then (atDone called
// first, so that the checks are not counted in the burst's CPU) checks it
// got exactly those, in order, each byte for byte the reference's frame of
// that seq. It returns the number of deliveries, when the last client was
// done and every frame's latency from t0.
func (w *wsRun) checkRound(s0, s1 uint64, t0 time.Duration, atDone func()) (int, time.Duration, []time.Duration, error) {
	if p := w.ref.bad.Load(); p != nil {
		return 0, 0, nil, errors.New(*p)
	}
	w.ref.mu.Lock()
	var ref []wsRec
	for _, r := range w.ref.recs {
		if r.seq > s0 && r.seq <= s1 {
			ref = append(ref, r)
		}
	}
	w.ref.mu.Unlock()
	bySeq := make(map[uint64]int, len(ref))
	for i, r := range ref {
		bySeq[r.seq] = i
	}
	wantN := map[int32]int{}
	want := func(key int32) int {
		n, ok := wantN[key]
		if !ok {
			for _, r := range ref {
				if key < 0 || r.w == -1 || r.w == key {
					n++
				}
			}
			wantN[key] = n
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, c := range w.clients {
		for k := want(c.key); c.count() < k; {
			if st := c.state(); st != "" {
				return 0, 0, nil, fmt.Errorf("a client (wallet %d) has %d of its %d frames of (%d, %d]: %s", c.key, c.count(), k, s0, s1, st)
			}
			if time.Now().After(deadline) {
				return 0, 0, nil, fmt.Errorf("a client (wallet %d) is stuck at %d of its %d frames of (%d, %d]", c.key, c.count(), k, s0, s1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if atDone != nil {
		atDone()
	}
	n := len(ref)
	lat := make([]time.Duration, 0, len(ref)*(1+len(w.clients)))
	var done time.Duration
	for _, r := range ref {
		lat = append(lat, r.at-t0)
		done = max(done, r.at-t0)
	}
	for _, c := range w.clients {
		prev := s0
		err := c.take(want(c.key), func(p []byte, at time.Duration) error {
			seq, ok := frameSeq(p)
			if !ok {
				return fmt.Errorf("frame without seq: %.200s", p)
			}
			j, ok := bySeq[seq]
			switch {
			case !ok:
				return fmt.Errorf("got seq %d, not one of (%d, %d]", seq, s0, s1)
			case seq <= prev:
				return fmt.Errorf("seq %d after %d", seq, prev)
			case c.key >= 0 && ref[j].w != -1 && ref[j].w != c.key:
				return fmt.Errorf("got seq %d, naming wallet %d", seq, ref[j].w)
			case !bytes.Equal(p, ref[j].raw):
				return fmt.Errorf("seq %d is not the reference's frame: %.300s\nwant %.300s", seq, p, ref[j].raw)
			}
			prev = seq
			lat = append(lat, at-t0)
			done = max(done, at-t0)
			return nil
		})
		if err != nil {
			return 0, 0, nil, fmt.Errorf("a client (wallet %d): %w", c.key, err)
		}
		n += want(c.key)
	}
	return n, done, lat, nil
}

// frameSeq reads the "seq" of a frame's event.
func frameSeq(msg []byte) (uint64, bool) {
	i := bytes.Index(msg, seqKey)
	if i < 0 {
		return 0, false
	}
	var seq uint64
	j := i + len(seqKey)
	for ; j < len(msg) && msg[j] >= '0' && msg[j] <= '9'; j++ {
		seq = seq*10 + uint64(msg[j]-'0')
	}
	return seq, j > i+len(seqKey)
}

// checkReplay connects with ?since=s0 and checks that the daemon replays
// the frames of (s0, s1] byte for byte as the reference received them
// live (so the clients' frames, equal to the reference's, are too).
func (w *wsRun) checkReplay(s0, s1 uint64) error {
	rc, err := w.dial(-1, fmt.Sprintf("?since=%d", s0))
	if err != nil {
		return err
	}
	defer rc.c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for rc.last.Load() < s1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the replay from since=%d stopped at seq %d of %d", s0, rc.last.Load(), s1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.ref.mu.Lock()
	var live []wsRec
	for _, r := range w.ref.recs {
		if r.seq > s0 && r.seq <= s1 {
			live = append(live, r)
		}
	}
	w.ref.mu.Unlock()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if p := rc.bad.Load(); p != nil {
		return fmt.Errorf("replay: %s", *p)
	}
	if len(rc.recs) != len(live) {
		return fmt.Errorf("the replay from since=%d gave %d frames, the live burst %d", s0, len(rc.recs), len(live))
	}
	for i, r := range rc.recs {
		if !bytes.Equal(r.raw, live[i].raw) {
			return fmt.Errorf("replayed frame %d differs from the live one: %.300s\nlive %.300s", i, r.raw, live[i].raw)
		}
	}
	return nil
}

// dialStalled connects a client that does not read (its socket is read
// only after checkStalled decides to).
func (w *wsRun) dialStalled() (*benchWS, error) {
	conn, _, err := websocket.DefaultDialer.Dial(w.url, w.auth)
	if err != nil {
		return nil, err
	}
	return &benchWS{c: conn, key: -1}, nil
}

// checkStalled waits for the daemon to drop the client that never read,
// then reads it: whole frames in order, then a close frame naming the last
// one; a reconnect with ?since= must replay exactly the rest.
func (w *wsRun) checkStalled(c *benchWS, d *dropWatch) error {
	defer c.c.Close()
	st := &WSStall{}
	w.wrep.Stall = st
	<-d.done
	if d.err != nil {
		return d.err
	}
	st.DroppedWith = d.at
	w.ref.mu.Lock()
	var ref []uint64
	for _, r := range w.ref.recs {
		if r.seq > d.from {
			ref = append(ref, r.seq)
			if r.seq <= d.refSeq {
				st.Due++
			}
		}
	}
	w.ref.mu.Unlock()
	var got []uint64
	for {
		_ = c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, msg, err := c.c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				return fmt.Errorf("the stalled client's read ended with %v after %d frames, without a close frame", err, len(got))
			}
			st.CloseCode, st.Reason = ce.Code, ce.Text
			break
		}
		rec, err := w.parse(msg)
		if err != nil {
			return err
		}
		got = append(got, rec.seq)
	}
	st.Frames = len(got)
	if len(got) > 0 {
		st.Since = got[len(got)-1]
	}
	st.Missed = len(ref) - len(got)
	okFrames := len(got) <= len(ref) && slices.Equal(got, ref[:len(got)])
	okReason := st.CloseCode == websocket.ClosePolicyViolation && strings.Contains(st.Reason, fmt.Sprintf("?since=%d", st.Since))
	// Resume.
	rc, err := w.dial(-1, fmt.Sprintf("?since=%d", st.Since))
	if err != nil {
		return err
	}
	defer rc.c.Close()
	end := ref[len(ref)-1]
	deadline := time.Now().Add(60 * time.Second)
	for rc.last.Load() < end && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rc.mu.Lock()
	var replay []uint64
	for _, r := range rc.recs {
		replay = append(replay, r.seq)
	}
	rc.mu.Unlock()
	st.Replayed = len(replay)
	okReplay := slices.Equal(replay, ref[len(got):])
	st.Exact = okFrames && okReason && okReplay
	w.logf("stalled client: dropped %v after its phase began, %d frames due by then; %d whole frames, then close %d %q; replay from since=%d gave %d frames (missed %d); exact: %v",
		st.DroppedWith.Round(time.Millisecond), st.Due, st.Frames, st.CloseCode, st.Reason, st.Since, st.Replayed, st.Missed, st.Exact)
	if !st.Exact {
		return fmt.Errorf("stalled client: frames in order %v, reason right %v, replay exact %v", okFrames, okReason, okReplay)
	}
	return nil
}

// slowDrops reads walletd_ws_slow_clients_dropped_total from /metrics.
func (w *wsRun) slowDrops() (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.d.URL+"/metrics", nil)
	req.Header = w.auth.Clone() // /metrics asks for credentials
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "walletd_ws_slow_clients_dropped_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("no walletd_ws_slow_clients_dropped_total in /metrics")
}

// Targets of issue 15.
const (
	targetWSBytesPerClient = 8 * 1024
	targetWSRPCRatio       = 1.5
)

// printMarkdown writes the run as the tables of BENCHMARKS.md.
func (rep *WSReport) printMarkdown(w io.Writer) {
	m, c := rep.Machine, rep.Config
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s RAM, Linux %s, %s. Run started %s, took %v.\n",
		m.NumCPU, m.CPUModel, m.MemTotal, m.Kernel, m.Go, rep.Started.UTC().Format(time.RFC3339), rep.Took.Round(time.Second))
	fmt.Fprintf(w, "Daemon: %s.\n", rep.Daemon)
	load := "closed-loop"
	if c.RPCRate > 0 {
		load = fmt.Sprintf("at %d/s", c.RPCRate)
	}
	if c.RPCNice != 0 {
		load += fmt.Sprintf(" (the load process at nice %d)", c.RPCNice)
	}
	fmt.Fprintf(w, "Settings: %d clients (every other one filtered on one of %d wallets), %d rounds per phase of a block paying %d requests "+
		"(of %d wallets), getbalance %s on %d connections, idle window %v before each block.\n\n",
		c.Clients, c.Wallets, c.Rounds, c.Payments, c.PaidWallets, load, c.RPCConns, c.Idle)
	fmt.Fprintf(w, "Clients: one reference client reading and parsing each frame as it comes; the other %d read by one thread of the tool "+
		"at nice %d (the tool's own: 0), through epoll, and checked after each burst (every frame, in order, byte for byte the reference's; "+
		"the reference's byte for byte a ?since= replay). Their CPU is that thread's own clock.\n\n", c.Clients, c.ClientNice)
	if len(c.DaemonEnv) > 0 {
		fmt.Fprintf(w, "Daemon environment: %s.\n\n", strings.Join(c.DaemonEnv, " "))
	}
	var idle0 Percentiles
	var burst0 Percentiles
	fmt.Fprintln(w, "| phase | ws clients | deliveries checked | delivery p50 | p99 | max | last client done (worst round) | daemon / clients CPU in bursts | other CPU (cores) | RPC p99 idle | RPC p99 during bursts | target |")
	// The clients: one reference client parsing each frame as it comes,
	// the others read by one thread and checked after each burst.
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i, p := range rep.Phases {
		target := "—"
		if i == 0 {
			idle0, burst0 = p.IdleRPC, p.BurstRPC
		} else {
			r := float64(p.BurstRPC.P99) / float64(max(idle0.P99, 1))
			rb := float64(p.BurstRPC.P99) / float64(max(burst0.P99, 1))
			target = fmt.Sprintf("burst p99 ≤ 1.5× idle p99 without clients (%.2f×) %s; %.2f× the burst without clients",
				r, mark(r <= targetWSRPCRatio), rb)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %v / %v | %.2f | %s (n=%d) | %s (n=%d) | %s |\n", p.Name, p.Clients, p.Frames,
			ms(p.Delivery.P50), ms(p.Delivery.P99), ms(p.Delivery.Max), ms(slices.Max(p.Done)), p.DaemonCPU.Round(time.Millisecond), p.ClientCPU.Round(time.Millisecond), p.Quiet.OtherCPU,
			ms(p.IdleRPC.P99), p.IdleRPC.N, ms(p.BurstRPC.P99), p.BurstRPC.N, target)
	}
	fmt.Fprintln(w, "\n| phase | bursts' length | daemon CPU (RPC included) | clients' CPU (their reading thread) | whole tool's CPU | clients ÷ daemon | daemon ÷ clients |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, p := range rep.Phases {
		fmt.Fprintf(w, "| %s | %v | %v | %v | %v | %s | %s |\n", p.Name, p.BurstTime.Round(time.Millisecond),
			p.DaemonCPU.Round(time.Millisecond), p.ClientCPU.Round(time.Millisecond), p.ToolCPU.Round(time.Millisecond),
			ratio(p.ClientCPU, p.DaemonCPU), ratio(p.DaemonCPU, p.ClientCPU))
	}
	fmt.Fprintln(w, "\n| phase | RPC p99 until the block's first frame (node and daemon applying it) | RPC p99 from it to the last client's last frame (the fan-out) |")
	fmt.Fprintln(w, "|---|---:|---:|")
	for _, p := range rep.Phases {
		fmt.Fprintf(w, "| %s | %s (n=%d) | %s (n=%d) |\n", p.Name, ms(p.ApplyRPC.P99), p.ApplyRPC.N, ms(p.FanoutRPC.P99), p.FanoutRPC.N)
	}
	mem := rep.Memory
	if mem.Clients > 0 {
		per := float64(mem.RSSAfter-mem.RSSBefore) / float64(mem.Clients)
		fmt.Fprintln(w, "\n| idle clients | RSS before → after | RSS per client | anon per client | Go heap + stacks per client | goroutines before → after | target |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---|")
		fmt.Fprintf(w, "| %d | %s → %s | %.1f KB | %.1f KB | %.1f KB | %d → %d | ≤ 8 KB per client %s |\n", mem.Clients,
			mb(mem.RSSBefore), mb(mem.RSSAfter), per/1024, float64(mem.AnonAfter-mem.AnonBefore)/float64(mem.Clients)/1024,
			float64(mem.HeapAfter+mem.StackAfter-mem.HeapBefore-mem.StackBefore)/float64(mem.Clients)/1024,
			mem.GoroutinesBefore, mem.GoroutinesAfter, mark(per <= targetWSBytesPerClient))
	}
	if s := rep.Stall; s != nil {
		fmt.Fprintln(w, "\n| client that never read | dropped (from its phase's start) | frames due by then | whole frames it read, then | close | replay from the named seq | exact |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---|---:|---|")
		fmt.Fprintf(w, "| unfiltered, connected before the second phase | %v | %d | %d | %d %q | %d frames (missed %d) | %s |\n",
			s.DroppedWith.Round(time.Millisecond), s.Due, s.Frames, s.CloseCode, s.Reason, s.Replayed, s.Missed, mark(s.Exact))
	}
}

// ratio is a/b to two decimals ("—" when b is 0).
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// wsMain is `bench ws`: parses its flags, runs, prints the report.
func wsMain(args []string) int {
	fs := flag.NewFlagSet("bench ws", flag.ContinueOnError)
	d := DefaultWSConfig()
	smoke := fs.Bool("smoke", false, "tiny sizes: checks every part works (what CI runs)")
	fs.IntVar(&d.Clients, "clients", d.Clients, "websocket clients (every other one filtered on a wallet)")
	fs.IntVar(&d.Wallets, "wallets", d.Wallets, "loaded wallets the filtered clients spread over")
	fs.IntVar(&d.PaidWallets, "paid-wallets", d.PaidWallets, "wallets whose requests the blocks pay")
	fs.IntVar(&d.Payments, "payments", d.Payments, "requests paid by each block")
	fs.IntVar(&d.Rounds, "rounds", d.Rounds, "blocks per phase")
	fs.IntVar(&d.RPCConns, "rpc-conns", d.RPCConns, "getbalance connections during the phases")
	fs.IntVar(&d.RPCNice, "rpc-nice", d.RPCNice, "the RPC load process's nice value (negative: ahead of the tool's websocket clients; needs root)")
	fs.IntVar(&d.RPCRate, "rpc-rate", 0, "getbalance requests per second in all (0: each connection closed-loop)")
	fs.DurationVar(&d.Idle, "idle", d.Idle, "RPC window before each block")
	fs.BoolVar(&d.Stall, "stall", d.Stall, "add a client that never reads and check its close and resume")
	fs.StringVar(&d.PprofAddr, "pprof", "", "the daemon's pprof address (BTC_PPROF_ADDR; default a free loopback port)")
	fs.StringVar(&d.TraceDir, "trace", "", "save an execution trace of the daemon around each block to this directory (diagnosis: tracing costs CPU)")
	fs.DurationVar(&d.TraceLead, "trace-lead", 500*time.Millisecond, "with -trace: start each trace this long before the block")
	fs.DurationVar(&d.TraceFor, "trace-for", 2*time.Second, "with -trace: each trace's length (whole seconds)")
	fs.StringVar(&d.DaemonLog, "daemon-log", "", "write the daemon's output to this file at the end (e.g. with -env GODEBUG=gctrace=1)")
	fs.StringVar(&d.ProfileDir, "daemon-profile", "", "save a CPU profile of the daemon over 1 s from each block to this directory (diagnosis)")
	fs.IntVar(&d.ClientNice, "client-nice", d.ClientNice, "the nice value of the thread that reads the websocket clients (0: the tool's; they stand for clients on other machines)")
	fs.StringVar(&d.ToolProfile, "tool-profile", "", "write a CPU profile of this tool (its websocket clients) over the phase with clients to this file")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	waitQuiet := fs.Duration("wait-quiet", 0, "first wait (polling every 30s, up to this long) for the 1-minute load average to drop to 1.0 or less")
	var env envList
	fs.Var(&env, "env", "extra KEY=VALUE for the daemon's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := d
	if *smoke {
		cfg = SmokeWSConfig()
		cfg.Build = true
	} else if *waitQuiet > 0 {
		waitForQuiet(*waitQuiet, os.Stderr)
	}
	cfg.DaemonEnv = env
	cfg.PprofAddr = d.PprofAddr
	cfg.TraceDir, cfg.TraceLead, cfg.TraceFor, cfg.DaemonLog, cfg.ToolProfile, cfg.ClientNice = d.TraceDir, d.TraceLead, d.TraceFor, d.DaemonLog, d.ToolProfile, d.ClientNice
	cfg.ProfileDir = d.ProfileDir
	cfg.Log = os.Stderr
	p := &harness.Program{}
	rep, err := RunWS(p, cfg)
	if err != nil {
		p.Errorf("%v", err)
	}
	p.Close()
	if rep != nil {
		rep.printMarkdown(os.Stdout)
		if *jsonPath != "" {
			if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
				_ = os.WriteFile(*jsonPath, b, 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench ws:", err)
		return 1
	}
	return 0
}
