package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Machine describes where a run happened.
type Machine struct {
	NumCPU   int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	MemTotal string `json:"mem_total"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
}

func describeMachine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				m.MemTotal = strings.TrimSpace(v)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// Targets of issue 5 (on a 2-core machine).
const (
	targetReadRPS      = 15000
	targetReadP99      = 5 * time.Millisecond
	targetCeilingShare = 0.40
	targetAddRPS       = 3000
	targetColdMedian   = 5 * time.Millisecond
	targetColdGrowth   = 2.0
	targetBytesPerWal  = 25 * 1024
	targetIdleCPU      = 1.0 // percent of a core at the largest count
	targetDetectP99    = 50 * time.Millisecond
)

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
}

// mark is a compact verdict for one part of a target.
func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "**✗**"
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// printMarkdown writes the report as the tables of BENCHMARKS.md.
func (rep *Report) printMarkdown(w io.Writer) {
	m := rep.Machine
	c := rep.Config
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s RAM, Linux %s, %s. Run started %s, took %v.\n",
		m.NumCPU, m.CPUModel, m.MemTotal, m.Kernel, m.Go, rep.Started.UTC().Format(time.RFC3339), rep.Took.Round(time.Second))
	fmt.Fprintf(w, "Daemon: %s.\n", rep.Daemon)
	fmt.Fprintf(w, "Settings: N=%d wallets, M=%d requests, C=%d connections, T=%v per scenario (after %v warm-up) × %d rounds, "+
		"tracked points %v with %d requests each, %d cold loads per point, idle window %v, %d payments.\n\n",
		c.Wallets, c.Requests, c.Conns, c.Duration, c.Warmup, c.Rounds, c.Track, c.ReqsPerWallet, c.ColdSamples, c.Idle, c.Payments)
	if len(c.DaemonEnv) > 0 {
		fmt.Fprintf(w, "Daemon environment: %s.\n\n", strings.Join(c.DaemonEnv, " "))
	}

	byName, names := map[string][]LoadResult{}, []string{}
	for _, l := range rep.Loads {
		if _, ok := byName[l.Name]; !ok {
			names = append(names, l.Name)
		}
		byName[l.Name] = append(byName[l.Name], l)
	}
	refByRound := map[int]float64{}
	for _, l := range byName["reference"] {
		refByRound[l.Round] = l.RPS
	}
	rounds := len(byName["reference"])
	if rounds > 1 {
		fmt.Fprintf(w, "Throughput: the median of %d interleaved rounds (range in brackets); latencies and CPU of the median round; the share of the ceiling is the median of the per-round ratios.\n\n", rounds)
	}
	fmt.Fprintf(w, "| scenario (C=%d) | req/s | of ceiling | p50 | p90 | p99 | server CPU/req | load1 / other CPU | target |\n", c.Conns)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, name := range names {
		runs := byName[name]
		l := medianRun(runs)
		rps := fmt.Sprintf("%.0f", l.RPS)
		if len(runs) > 1 {
			lo, hi := runs[0].RPS, runs[0].RPS
			for _, x := range runs {
				lo, hi = min(lo, x.RPS), max(hi, x.RPS)
			}
			rps = fmt.Sprintf("%.0f (%.0f–%.0f)", l.RPS, lo, hi)
		}
		var shares []float64
		for _, x := range runs {
			if ref := refByRound[x.Round]; ref > 0 {
				shares = append(shares, x.RPS/ref)
			}
		}
		slices.Sort(shares)
		var share float64
		shareStr := "—"
		if len(shares) > 0 && name != "reference" {
			share = shares[len(shares)/2]
			shareStr = fmt.Sprintf("%.0f%%", 100*share)
		}
		target := "—"
		switch name {
		case "getbalance", "get_request":
			target = fmt.Sprintf("≥ 15,000/s %s, p99 ≤ 5 ms %s, ≥ 40%% of ceiling %s",
				mark(l.RPS >= targetReadRPS), mark(l.Lat.P99 <= targetReadP99), mark(share >= targetCeilingShare))
		case "add_request":
			target = "≥ 3,000/s durable " + mark(l.RPS >= targetAddRPS)
		case "reference":
			target = "the ceiling"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.0f µs | %.2f / %.2f | %s |\n", name, rps, shareStr,
			ms(l.Lat.P50), ms(l.Lat.P90), ms(l.Lat.P99), float64(l.ServerCPUPerReq)/1e3, l.Quiet.LoadAvg1, l.Quiet.OtherCPU, target)
	}

	fmt.Fprintln(w, "\n| cold load (first getbalance of a new xpub) | median | p90 | max | node's part (one WatchHistory of 30 addresses) | target |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|")
	var base time.Duration
	for i, s := range rep.Cold {
		if i == 0 {
			base = s.Lat.P50
		}
		growth := float64(s.Lat.P50) / float64(max(base, 1))
		fmt.Fprintf(w, "| %d wallets tracked | %s | %s | %s | %s | median ≤ 5 ms %s, ≤ 2× the first (%.2f×) %s |\n",
			s.Tracked, ms(s.Lat.P50), ms(s.Lat.P90), ms(s.Lat.Max), ms(s.NodeLookups),
			mark(s.Lat.P50 <= targetColdMedian), growth, mark(growth <= targetColdGrowth))
	}

	fmt.Fprintln(w, "\n| tracked wallets | RSS | anon / file-backed | Go heap in use / next GC | store file | RSS per wallet | anon per wallet | idle CPU | window | other CPU | target |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var base0 IdleSample
	for i, s := range rep.Idle {
		if i == 0 {
			base0 = s
		}
		per, anon, target := "—", "—", "—"
		if s.Wallets > 0 {
			b := float64(s.RSS-base0.RSS) / float64(s.Wallets)
			per = fmt.Sprintf("%.1f KB", b/1024)
			anon = fmt.Sprintf("%.1f KB", float64(s.RSSAnon-base0.RSSAnon)/float64(s.Wallets)/1024)
			if i == len(rep.Idle)-1 {
				target = fmt.Sprintf("≤ 25 KB/wallet %s, ≤ 1%% CPU %s", mark(b <= targetBytesPerWal), mark(s.CorePercent <= targetIdleCPU))
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s / %s | %s / %s | %s | %s | %s | %.2f%% | %v | %.2f | %s |\n", s.Wallets, mb(s.RSS),
			mb(s.RSSAnon), mb(s.RSSFile), mb(s.GoHeapInuse), mb(s.GoNextGC), mb(s.StoreFile), per, anon,
			s.CorePercent, s.Window.Round(100*time.Millisecond), s.Quiet.OtherCPU, target)
	}

	d := rep.Detection
	fmt.Fprintln(w, "\n| detection | p50 | p90 | p99 | max | n | target |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	fmt.Fprintf(w, "| sendrawtransaction → new_payment on /ws | %s | %s | %s | %s | %d | p99 ≤ 50 ms %s |\n",
		ms(d.Mempool.P50), ms(d.Mempool.P90), ms(d.Mempool.P99), ms(d.Mempool.Max), d.Mempool.N, mark(d.Mempool.P99 <= targetDetectP99))
	fmt.Fprintf(w, "| of which the node's part (sendrawtransaction → its notification decoded by a client of the tool) | %s | %s | %s | %s | %d | — |\n",
		ms(d.Node.P50), ms(d.Node.P90), ms(d.Node.P99), ms(d.Node.Max), d.Node.N)
	fmt.Fprintf(w, "| generate 1 (block with the %d payments) → last \"Paid\" new_payment | %s | | | | 1 | — |\n",
		d.Mempool.N, ms(d.Block))

	fmt.Fprintln(w, "\n| wallet creation (cold loads + add_request, C connections) | wallets | requests | took | wallets/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, g := range rep.Growth {
		fmt.Fprintf(w, "| up to %d | %d | %d | %v | %.0f |\n", g.To, g.Created, g.Requests, g.Took.Round(time.Millisecond),
			float64(g.Created)/g.Took.Seconds())
	}
}

// medianRun returns the run with the median throughput (the lower middle
// of an even count).
func medianRun(runs []LoadResult) LoadResult {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b LoadResult) int { return cmp.Compare(a.RPS, b.RPS) })
	return s[(len(s)-1)/2]
}
