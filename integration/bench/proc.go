package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const userHZ = 100

// memInfo is a process's resident memory from /proc/<pid>/status: VmRSS,
// and its anonymous part (heap, stacks) and file-backed part (for the
// daemon, mostly the pages of its bbolt store file, which bbolt maps into
// memory; the kernel can drop those under pressure).
type memInfo struct {
	RSS, Anon, File int64
}

func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	var m memInfo
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &m.RSS
		case "RssAnon":
			dst = &m.Anon
		case "RssFile":
			dst = &m.File
		default:
			continue
		}
		f := strings.Fields(rest) // "123456 kB"
		if len(f) < 1 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return memInfo{}, err
		}
		*dst = kb * 1024
	}
	if m.RSS == 0 {
		return memInfo{}, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

// procStat is the part of /proc/<pid>/stat the tool uses.
type procStat struct {
	ppid int
	cpu  int64 // utime+stime, in USER_HZ ticks
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may contain spaces and parentheses: fields start
	// after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("malformed times in /proc/%d/stat", pid)
	}
	return procStat{ppid: ppid, cpu: ut + st}, nil
}

func ticksToDuration(t int64) time.Duration { return time.Duration(t) * time.Second / userHZ }

// cpuTime returns a process's CPU time (user+system).
func cpuTime(pid int) (time.Duration, error) {
	s, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	return ticksToDuration(s.cpu), nil
}

// familyCPU returns the CPU time of this process and its direct children
// (the daemon, btcd, the reference server).
func familyCPU() time.Duration {
	self := os.Getpid()
	var total int64
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		s, err := readProcStat(pid)
		if err != nil {
			continue
		}
		if pid == self || s.ppid == self {
			total += s.cpu
		}
	}
	return ticksToDuration(total)
}

// machineCPU returns the busy (user, nice, system) and steal CPU time of
// the whole machine from /proc/stat.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	v := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
	// Interrupt time is left out: loopback networking spends it on behalf
	// of the measured processes without being charged to them.
	return ticksToDuration(v(1) + v(2) + v(3)), ticksToDuration(v(8))
}

// loadAvg1 returns the 1-minute load average.
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Quietness says how busy the machine was with other work during a
// measured window: the 1-minute load average when it started (which also
// counts this tool's own recent work), and the CPU used by processes
// outside this tool and its children, and stolen by the hypervisor, each
// as a fraction of one core.
type Quietness struct {
	LoadAvg1 float64 `json:"loadavg1"`
	OtherCPU float64 `json:"other_cpu_cores"`
	Steal    float64 `json:"steal_cores"`
}

// quietMeter measures Quietness over a window.
type quietMeter struct {
	at     time.Time
	load   float64
	busy   time.Duration
	steal  time.Duration
	family time.Duration
}

func startQuiet() *quietMeter {
	q := &quietMeter{at: time.Now(), load: loadAvg1(), family: familyCPU()}
	q.busy, q.steal = machineCPU()
	return q
}

func (q *quietMeter) stop() Quietness {
	wall := time.Since(q.at).Seconds()
	busy, steal := machineCPU()
	fam := familyCPU()
	other := (busy - q.busy) - (fam - q.family)
	out := Quietness{LoadAvg1: q.load}
	if wall > 0 {
		out.OtherCPU = max(0, other.Seconds()/wall)
		out.Steal = (steal - q.steal).Seconds() / wall
	}
	return out
}

// IdleSample is a daemon's memory and idle CPU at some number of tracked
// wallets.
type IdleSample struct {
	Wallets int   `json:"wallets"`
	Scripts int   `json:"scripts"`
	RSS     int64 `json:"rss_bytes"`
	// RSSAnon and RSSFile split RSS (RssAnon, RssFile).
	RSSAnon int64 `json:"rss_anon_bytes"`
	RSSFile int64 `json:"rss_file_bytes"`
	// GoHeapInuse and GoNextGC are the daemon's runtime.MemStats
	// HeapInuse and NextGC (from its pprof server), StoreFile the size of
	// its bbolt file.
	GoHeapInuse int64         `json:"go_heap_inuse_bytes"`
	GoNextGC    int64         `json:"go_next_gc_bytes"`
	StoreFile   int64         `json:"store_file_bytes"`
	Window      time.Duration `json:"window_ns"`
	CPU         time.Duration `json:"cpu_ns"`
	CorePercent float64       `json:"core_percent"`
	Quiet       Quietness     `json:"quiet"`
}

// measureIdle waits settle, then samples the daemon's CPU time over window
// and its RSS at the end.
func measureIdle(pid, wallets int, settle, window time.Duration) (IdleSample, error) {
	time.Sleep(settle)
	q := startQuiet()
	c0, err := cpuTime(pid)
	if err != nil {
		return IdleSample{}, err
	}
	t0 := time.Now()
	time.Sleep(window)
	c1, err := cpuTime(pid)
	if err != nil {
		return IdleSample{}, err
	}
	wall := time.Since(t0)
	mem, err := readMem(pid)
	if err != nil {
		return IdleSample{}, err
	}
	s := IdleSample{Wallets: wallets, RSS: mem.RSS, RSSAnon: mem.Anon, RSSFile: mem.File, Window: wall, CPU: c1 - c0, Quiet: q.stop()}
	s.CorePercent = 100 * s.CPU.Seconds() / wall.Seconds()
	return s, nil
}
