package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/integration/harness"
)

// coldCmd is the cold-load loop (`bench cold`): btcd and the daemon as in
// the main run, then at each tracked count (wallets created over HTTP) it
// times -cold first calls with new xpubs, one at a time, and the node's part
// of them as the daemon asks it: one WatchHistory of a wallet's 30 addresses
// (one websocket batch) on a connection of its own. It skips the
// throughput, idle and detection scenarios, so it takes about a minute.
// -pause waits after creating the wallets, as the main run's idle window
// does: right after the daemon starts or after a mass creation, the first
// point's cold loads measured 20-35% slower than after a pause (same
// binary, same hold), which is most of why this tool's first point read
// above the main run's.
func coldCmd(args []string) error {
	fs := flag.NewFlagSet("bench cold", flag.ContinueOnError)
	d := DefaultConfig()
	track := fs.String("track", "10,1000", "tracked-wallet counts at which cold loads are timed")
	cold := fs.Int("cold", 100, "cold loads timed at each tracked count")
	conns := fs.Int("c", 32, "connections used to create the tracked wallets")
	profile := fs.String("profile", "", "save a daemon CPU profile of the first 5 s of cold loads at the last tracked count here")
	pause := fs.Duration("pause", 0, "wait this long after creating the tracked wallets, before the cold loads (the main run measures idle CPU there: 3 s + -idle)")
	var env envList
	fs.Var(&env, "env", "extra KEY=VALUE for the daemon's environment (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr, err := parseInts(*track)
	if err != nil {
		return err
	}
	cfg := d
	cfg.Track, cfg.ColdSamples, cfg.Conns, cfg.DaemonEnv, cfg.Build, cfg.Log = tr, *cold, *conns, env, true, os.Stderr
	if err := cfg.check(); err != nil {
		return err
	}
	p := &harness.Program{}
	defer p.Close()
	r := &runner{tb: p, cfg: cfg, reqs: map[int][]reqRef{}, start: time.Now(), rep: &Report{Config: cfg}}
	if err := r.startProcesses(); err != nil {
		return err
	}
	defer r.pool.Close()
	be, err := btcdws.New(btcdws.Config{URL: r.node.WSURL(), Params: r.node.Params(), CallTimeout: 30 * time.Second,
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer be.Close()
	events, err := be.Start(context.Background())
	if err != nil {
		return err
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
	fmt.Println("| tracked | cold load median | p90 | max | node's part median (one WatchHistory of 30 addresses) | load average (1 min) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, n := range cfg.Track {
		if err := r.grow(n); err != nil {
			return err
		}
		time.Sleep(*pause)
		var prof sync.WaitGroup
		if *profile != "" && n == cfg.Track[len(cfg.Track)-1] {
			prof.Add(1)
			go func() {
				defer prof.Done()
				if err := fetchProfile(r.pprofAddr, 5, *profile); err != nil {
					r.logf("profile: %v", err)
				}
			}()
		}
		err := r.cold()
		prof.Wait()
		if err != nil {
			return err
		}
		c := r.rep.Cold[len(r.rep.Cold)-1]
		node, err := r.watchHistoryPart(be, r.keys[r.next-1])
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %s | %s | %s | %s | %s |\n", c.Tracked, ms(c.Lat.P50), ms(c.Lat.P90), ms(c.Lat.Max), ms(node), loadAvg())
	}
	return nil
}

// watchHistoryPart times, 20 times, one WatchHistory of the 30 addresses
// of the wallet of key, on be's own connection (the first call also loads
// them in its filter, as the daemon's first load does; later ones only
// look them up), and returns the median.
func (r *runner) watchHistoryPart(be *btcdws.Backend, key string) (time.Duration, error) {
	var addrs []string
	if err := r.pool.Call(&addrs, key, "listaddresses"); err != nil {
		return 0, err
	}
	scripts := make([][]byte, len(addrs))
	for i, a := range addrs {
		ad, err := address.DecodeAddress(a, r.node.Params())
		if err != nil {
			return 0, err
		}
		if scripts[i], err = txscript.PayToAddrScript(ad); err != nil {
			return 0, err
		}
	}
	var lat []time.Duration
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t0 := time.Now()
		_, err := be.WatchHistory(ctx, scripts)
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			return 0, fmt.Errorf("WatchHistory: %w", err)
		}
	}
	return percentiles(lat).P50, nil
}

// loadAvg is the 1-minute load average (/proc/loadavg), or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) == 0 {
		return "?"
	}
	var one string
	_, _ = fmt.Sscan(string(b), &one)
	return one
}
