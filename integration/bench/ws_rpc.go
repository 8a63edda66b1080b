package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/walletd/walletd/integration/harness"
)

// rpcLoadEnv makes this program (or its test binary) run the RPC load of
// the websocket benchmark instead of benchmarking: the tool re-executes
// itself with it, so that the load generator's latencies do not include
// the scheduling of the tool's thousand websocket readers. Its value is the
// file of prebuilt requests (each preceded by its length, 4 bytes big
// endian); rpcAddrEnv, rpcConnsEnv, rpcRateEnv and rpcEpochEnv give the
// target, the connections, the rate (0: closed loop) and the time origin
// (Unix nanoseconds) of the samples.
const (
	rpcLoadEnv  = "WALLETD_BENCH_RPC_LOAD"
	rpcAddrEnv  = "WALLETD_BENCH_RPC_ADDR"
	rpcConnsEnv = "WALLETD_BENCH_RPC_CONNS"
	rpcRateEnv  = "WALLETD_BENCH_RPC_RATE"
	rpcEpochEnv = "WALLETD_BENCH_RPC_EPOCH"
)

// serveRPCLoad runs the load until standard input closes, then writes the
// samples to standard output: their count, each (start since the epoch,
// latency) in nanoseconds, and the number of failed requests, all 8 bytes
// big endian.
func serveRPCLoad(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var reqs [][]byte
	for len(raw) >= 4 {
		n := int(binary.BigEndian.Uint32(raw))
		if len(raw) < 4+n {
			return fmt.Errorf("truncated request file %s", path)
		}
		reqs = append(reqs, raw[4:4+n])
		raw = raw[4+n:]
	}
	conns, err := strconv.Atoi(os.Getenv(rpcConnsEnv))
	if err != nil || conns < 1 || len(reqs) == 0 {
		return fmt.Errorf("rpc load: bad %s or no requests", rpcConnsEnv)
	}
	ns, err := strconv.ParseInt(os.Getenv(rpcEpochEnv), 10, 64)
	if err != nil {
		return err
	}
	rate, _ := strconv.Atoi(os.Getenv(rpcRateEnv))
	epoch, addr := time.Unix(0, ns), os.Getenv(rpcAddrEnv)
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	samples, errs := rpcLoop(addr, reqs, conns, rate, epoch, stop)
	w := bufio.NewWriter(os.Stdout)
	put := func(v uint64) { _ = binary.Write(w, binary.BigEndian, v) }
	put(uint64(len(samples)))
	for _, s := range samples {
		put(uint64(s.start))
		put(uint64(s.lat))
	}
	put(uint64(errs))
	return w.Flush()
}

// rpcLoop sends reqs round-robin on conns keep-alive connections, one
// request at a time each, until stop: back to back (closed loop) when rate
// is 0, else each connection on a fixed schedule of rate/conns requests per
// second, a request's latency counted from its scheduled time (so that a
// stall delays every request due meanwhile, not one).
func rpcLoop(addr string, reqs [][]byte, conns, rate int, epoch time.Time, stop <-chan struct{}) ([]rpcSample, int) {
	outs := make([][]rpcSample, conns)
	errs := make([]int, conns)
	var wg sync.WaitGroup
	for k := 0; k < conns; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &rawConn{addr: addr}
			defer c.Close()
			var every time.Duration
			next := time.Now()
			if rate > 0 {
				every = time.Duration(conns) * time.Second / time.Duration(rate)
				next = next.Add(time.Duration(k) * every / time.Duration(conns))
			}
			for i := k; ; i += conns {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				if every > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					t0, next = next, next.Add(every)
				}
				status, body, err := c.do(reqs[i%len(reqs)], 30*time.Second)
				if err == nil {
					err = replyError(status, body)
				}
				if err != nil {
					errs[k]++
					time.Sleep(10 * time.Millisecond)
					continue
				}
				outs[k] = append(outs[k], rpcSample{start: t0.Sub(epoch), lat: time.Since(t0)})
			}
		}()
	}
	wg.Wait()
	var all []rpcSample
	n := 0
	for k := range outs {
		all = append(all, outs[k]...)
		n += errs[k]
	}
	return all, n
}

// rpcLoadProc is a running RPC load process.
type rpcLoadProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   io.ReadCloser
}

// startRPCLoad runs this executable again as the RPC load on addr, at
// scheduling priority nice (through nice(1); 0 leaves it as this
// process's).
func startRPCLoad(dir, addr string, reqs [][]byte, conns, rate, nice int, epoch time.Time) (*rpcLoadProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var file []byte
	for _, r := range reqs {
		file = binary.BigEndian.AppendUint32(file, uint32(len(r)))
		file = append(file, r...)
	}
	path := dir + "/rpc-requests"
	if err := os.WriteFile(path, file, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	if nice != 0 {
		cmd = exec.Command("nice", "-n", strconv.Itoa(nice), exe)
	}
	cmd.Env = append(os.Environ(), rpcLoadEnv+"="+path, rpcAddrEnv+"="+addr,
		rpcConnsEnv+"="+strconv.Itoa(conns), rpcRateEnv+"="+strconv.Itoa(rate), rpcEpochEnv+"="+strconv.FormatInt(epoch.UnixNano(), 10))
	cmd.SysProcAttr = harness.ChildAttr()
	cmd.Stderr = os.Stderr
	p := &rpcLoadProc{cmd: cmd}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if p.out, err = cmd.StdoutPipe(); err != nil {
		return nil, err
	}
	return p, cmd.Start()
}

// Nice returns the load process's scheduling priority (its nice value),
// as the kernel has it.
func (p *rpcLoadProc) Nice() (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses: nice is
	// the 19th field of the line, the 17th after the name.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 17 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", p.cmd.Process.Pid)
	}
	return strconv.Atoi(f[16])
}

// Stop ends the load and returns its samples and failed requests.
func (p *rpcLoadProc) Stop() ([]rpcSample, int, error) {
	_ = p.stdin.Close()
	r := bufio.NewReader(p.out)
	get := func() (uint64, error) {
		var v uint64
		err := binary.Read(r, binary.BigEndian, &v)
		return v, err
	}
	n, err := get()
	var samples []rpcSample
	for i := uint64(0); err == nil && i < n; i++ {
		var s, l uint64
		if s, err = get(); err == nil {
			l, err = get()
		}
		samples = append(samples, rpcSample{start: time.Duration(s), lat: time.Duration(l)})
	}
	var errs uint64
	if err == nil {
		errs, err = get()
	}
	if werr := p.cmd.Wait(); err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return nil, 0, fmt.Errorf("rpc load process: %w", err)
	}
	return samples, int(errs), nil
}
