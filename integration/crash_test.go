package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestCrashDuringPayments kill -9s the real daemon 20 times at random
// points of a stream of 100 payments (to requests of four wallets) and 20
// blocks on a real btcd, restarting it each time, while a websocket client
// follows the events (resuming with ?since= after each crash). At the end
// every payment was reported (new_payment seen live or on replay) and its
// request is paid, every seq from 1 to the last was received exactly once,
// and each wallet's balance equals what the node says its addresses hold.
// WALLETD_CRASH_SEED replays a run.
func TestCrashDuringPayments(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WALLETD_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	t0 := time.Now()
	node, d := startBTC(t)
	keys := []string{
		vectorWallet(t, "p2wpkh-account-xpub").KeyMaterial,
		vectorWallet(t, "standard-account-xpub").KeyMaterial,
		vectorWallet(t, "p2wpkh-p2sh-account-xpub").KeyMaterial,
		vectorWallet(t, "electrum-segwit-seed").MPK,
	}
	const payments, every, crashes = 100, 5, 20
	steps := payments + payments/every
	crashAt := map[int]bool{}
	for len(crashAt) < crashes {
		crashAt[rng.IntN(steps)] = true
	}

	seen := map[uint64]int{} // seq → times received
	paid := map[string]bool{}
	reported := map[string]bool{}
	var last uint64
	collect := func(f daemon.Frame) {
		s := f.Seq()
		seen[s]++
		last = max(last, s)
		if e := f.Event(); e["event"] == "new_payment" {
			id, _ := e["address"].(string)
			reported[id] = true
			if st, _ := e["status"].(float64); st == 3 {
				paid[id] = true
			}
		}
	}
	ws := dialFrames(t, d, 0)
	drain := func(until time.Duration) {
		deadline := time.After(until)
		for {
			select {
			case f, ok := <-ws:
				if !ok {
					return
				}
				collect(f)
			case <-deadline:
				return
			}
		}
	}

	type pay struct {
		key, id, addr string
		sats          int64
	}
	var pays []pay
	want := map[string]int64{}
	p := 0
	for step := 0; step < steps; step++ {
		if (step+1)%(every+1) == 0 {
			node.Generate(1)
		} else {
			key := keys[p%len(keys)]
			sats := int64(10_000 + rng.IntN(90_000))
			var r request
			d.Must(&r, key, "add_request", fmt.Sprintf("%d.%08d", sats/100_000_000, sats%100_000_000))
			node.Fund(r.Address, sats)
			pays = append(pays, pay{key: key, id: r.RequestID, addr: r.Address, sats: sats})
			want[key] += sats
			p++
		}
		drain(0)
		if crashAt[step] {
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // mid-processing
			d.Kill()
			drain(time.Minute) // the socket ends with the process
			d.Restart()
			ws = dialFrames(t, d, last)
		}
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	harness.WaitFor(t, 60*time.Second, "every request reported paid", func() bool {
		drain(10 * time.Millisecond)
		for _, py := range pays {
			if !paid[py.id] {
				return false
			}
		}
		return true
	})
	drain(time.Second)
	for _, py := range pays {
		if !reported[py.id] {
			t.Errorf("payment to request %s never reported", py.id)
		}
		if got := getRequest(t, d, py.key, py.id); got.Status != 3 || got.SentAmount != fmt.Sprintf("0.%08d", py.sats) {
			t.Errorf("request %s: %+v, want paid %d sat", py.id, got, py.sats)
		}
	}
	seqs := make([]uint64, 0, len(seen))
	for s, n := range seen {
		if n != 1 {
			t.Errorf("seq %d received %d times", s, n)
		}
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("seq %d missing (received %d events, last seq %d)", i+1, len(seqs), last)
		}
	}
	for _, key := range keys {
		var bal map[string]string
		d.Must(&bal, key, "getbalance")
		var nodeSum int64
		for _, py := range pays {
			if py.key != key {
				continue
			}
			var ab map[string]string
			d.Must(&ab, "", "getaddressbalance", py.addr)
			nodeSum += satsOf(t, ab["confirmed"])
		}
		if got := satsOf(t, bal["confirmed"]); got != want[key] || got != nodeSum || bal["unconfirmed"] != "" && satsOf(t, bal["unconfirmed"]) != 0 {
			t.Errorf("wallet %s: balance %v, paid %d, the node's addresses hold %d", key, bal, want[key], nodeSum)
		}
	}
	t.Logf("%d payments, %d blocks, %d kill -9s, %d events in %v", payments, payments/every+1, crashes, len(seqs), time.Since(t0))
}

// satsOf parses an 8-decimal amount string.
func satsOf(t *testing.T, s string) int64 {
	t.Helper()
	var whole, frac int64
	if _, err := fmt.Sscanf(s, "%d.%08d", &whole, &frac); err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return whole*100_000_000 + frac
}

// dialFrames opens /ws?since=since on d and returns its frames; the
// channel closes when the connection ends (the daemon was killed).
func dialFrames(t *testing.T, d *daemon.Proc, since uint64) <-chan daemon.Frame {
	t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	conn, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws%s/ws?since=%d", strings.TrimPrefix(d.URL, "http"), since), h)
	if err != nil {
		t.Fatalf("ws dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	ch := make(chan daemon.Frame, 100_000)
	go func() {
		defer close(ch)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var f daemon.Frame
			if json.Unmarshal(msg, &f) == nil {
				ch <- f
			}
		}
	}()
	return ch
}
