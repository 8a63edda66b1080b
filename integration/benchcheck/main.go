// Command benchcheck runs the Go benchmarks of walletd's hot paths and
// compares them with the numbers recorded in the repository
// (integration/benchcheck/baseline.txt): a benchmark more than 25% slower
// (median ns/op of -count runs) than its recorded number fails the check.
// It is what `make bench-check` runs; developers run it before they commit
// (CI does not: shared CI machines are too noisy for timing gates).
//
//	go run ./integration/benchcheck            compare with the baseline
//	go run ./integration/benchcheck -update    record the current numbers
//
// Run it on a quiet machine (it prints the load average it saw); on the
// shared development machine, under `flock /work/wt/heavy.lock`.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// suite is one `go test -bench` invocation.
type suite struct {
	pkg       string
	pattern   string
	benchtime string
	short     bool
}

// suites are the hot paths: the engine's calls behind getbalance,
// get_request and add_request; block matching and application; the script
// index; the store's reads; request decoding and dispatch; key derivation
// of a new wallet.
var suites = []suite{
	{pkg: "./coins/wallet", pattern: "^BenchmarkCalls$", benchtime: "300ms"},
	{pkg: "./coins/wallet", pattern: "^(BenchmarkScriptIndexLookup|BenchmarkMatchBlock)$", benchtime: "300ms"},
	{pkg: "./coins/wallet", pattern: "^BenchmarkApplyBlock$", benchtime: "4x", short: true},
	{pkg: "./coins/wallet/boltstore", pattern: "^BenchmarkView$", benchtime: "300ms"},
	{pkg: "./daemons/base", pattern: "^(BenchmarkHandle|BenchmarkServeHTTP)$", benchtime: "300ms"},
	{pkg: "./coins/keys", pattern: "^(BenchmarkWallet30Range|BenchmarkParseXpub)$", benchtime: "300ms"},
}

// threshold is the tolerated slowdown: 1.25 is 25% slower.
const threshold = 1.25

func main() {
	update := flag.Bool("update", false, "record the current numbers in the baseline instead of comparing")
	count := flag.Int("count", 5, "runs of each benchmark (the median is compared)")
	baseline := flag.String("baseline", "integration/benchcheck/baseline.txt", "the recorded numbers")
	flag.Parse()
	if err := run(*baseline, *count, *update, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchcheck:", err)
		os.Exit(1)
	}
}

func run(baseline string, count int, update bool, out io.Writer) error {
	fmt.Fprintf(out, "benchcheck: load average %s at start\n", loadAvg())
	got := map[string]float64{}
	var order []string
	for _, s := range suites {
		runs, err := runSuite(s, count, out)
		if err != nil {
			return err
		}
		for k, v := range runs {
			if _, dup := got[k]; !dup {
				order = append(order, k)
			}
			got[k] = v
		}
	}
	sort.Strings(order)
	fmt.Fprintf(out, "benchcheck: load average %s at the end\n", loadAvg())
	if update {
		return write(baseline, order, got)
	}
	want, err := read(baseline)
	if err != nil {
		return err
	}
	if compare(want, got, order, io.Discard) == nil {
		return compare(want, got, order, out)
	}
	// A shared machine has bursts: the suites with a benchmark over the
	// threshold run once more, and each keeps the better of its two
	// medians. A real regression is slower both times.
	fmt.Fprintf(out, "benchcheck: over the threshold; running those suites again (load average %s)\n", loadAvg())
	for _, s := range suites {
		if !slower(s, want, got) {
			continue
		}
		runs, err := runSuite(s, count, out)
		if err != nil {
			return err
		}
		for k, v := range runs {
			if old, ok := got[k]; !ok || v < old {
				got[k] = v
			}
		}
	}
	return compare(want, got, order, out)
}

// slower reports whether a benchmark of suite s is over the threshold.
func slower(s suite, want, got map[string]float64) bool {
	prefix := strings.TrimPrefix(s.pkg, "./") + " "
	for k, v := range got {
		if b, ok := want[k]; ok && strings.HasPrefix(k, prefix) && v > b*threshold && matches(s, k[len(prefix):]) {
			return true
		}
	}
	return false
}

// matches reports whether benchmark name (with sub-benchmarks) belongs to
// suite s.
func matches(s suite, name string) bool {
	top, _, _ := strings.Cut(name, "/")
	ok, _ := regexp.MatchString(s.pattern, top)
	return ok
}

// runSuite runs one suite and returns the median ns/op of each of its
// benchmarks, keyed "<package> <benchmark>".
func runSuite(s suite, count int, out io.Writer) (map[string]float64, error) {
	args := []string{"test", "-run", "^$", "-bench", s.pattern, "-benchtime", s.benchtime, "-count", strconv.Itoa(count)}
	if s.short {
		args = append(args, "-short")
	}
	args = append(args, s.pkg)
	fmt.Fprintf(out, "go %s\n", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test %s: %v\n%s", s.pkg, err, buf.String())
	}
	runs := parse(buf.String())
	if len(runs) == 0 {
		return nil, fmt.Errorf("go test %s -bench %s: no benchmark ran", s.pkg, s.pattern)
	}
	out2 := map[string]float64{}
	for name, v := range runs {
		out2[strings.TrimPrefix(s.pkg, "./")+" "+name] = median(v)
	}
	return out2, nil
}

// compare reports every benchmark of got against want (both keyed by
// "<package> <benchmark>"): an error lists those more than threshold
// slower, and those recorded that did not run.
func compare(want, got map[string]float64, order []string, out io.Writer) error {
	var failed []string
	fmt.Fprintf(out, "\n%-64s %14s %14s %8s\n", "benchmark", "baseline ns/op", "now ns/op", "ratio")
	for _, k := range order {
		b, ok := want[k]
		if !ok {
			fmt.Fprintf(out, "%-64s %14s %14.0f %8s\n", k, "(new)", got[k], "")
			continue
		}
		ratio := got[k] / b
		mark := ""
		if ratio > threshold {
			mark = "  SLOWER"
			failed = append(failed, fmt.Sprintf("%s: %.0f ns/op, recorded %.0f (%.0f%% slower)", k, got[k], b, (ratio-1)*100))
		}
		fmt.Fprintf(out, "%-64s %14.0f %14.0f %8.2f%s\n", k, b, got[k], ratio, mark)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			failed = append(failed, k+": recorded but did not run (renamed or removed? run with -update)")
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return fmt.Errorf("%d benchmark(s) regressed by more than %.0f%%:\n  %s", len(failed), (threshold-1)*100,
			strings.Join(failed, "\n  "))
	}
	fmt.Fprintf(out, "\nbenchcheck: no benchmark more than %.0f%% slower than recorded\n", (threshold-1)*100)
	return nil
}

// parse returns the ns/op of every benchmark line of go test's output, by
// name without the -GOMAXPROCS suffix.
func parse(s string) map[string][]float64 {
	out := map[string][]float64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		for i := 2; i+1 < len(f); i++ {
			if f[i+1] != "ns/op" {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			name := f[0]
			if j := strings.LastIndex(name, "-"); j > 0 {
				if _, err := strconv.Atoi(name[j+1:]); err == nil {
					name = name[:j]
				}
			}
			out[name] = append(out[name], v)
			break
		}
	}
	return out
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// read parses the baseline: "<package> <benchmark> <ns/op>" lines; "#"
// starts a comment.
func read(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (record one with -update)", err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 3 {
			return nil, fmt.Errorf("%s:%d: want <package> <benchmark> <ns/op>", path, n)
		}
		v, err := strconv.ParseFloat(fs[2], 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s:%d: bad ns/op %q", path, n, fs[2])
		}
		out[fs[0]+" "+fs[1]] = v
	}
	if len(out) == 0 {
		return nil, errors.New(path + ": no benchmark recorded")
	}
	return out, sc.Err()
}

func write(path string, order []string, got map[string]float64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Recorded by `go run ./integration/benchcheck -update` (median ns/op of the runs)\n")
	fmt.Fprintf(&b, "# on %s, %s, GOMAXPROCS %d, %s, load average %s.\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		cpuModel(), runtime.GOMAXPROCS(0), runtime.Version(), loadAvg())
	for _, k := range order {
		fmt.Fprintf(&b, "%s %.1f\n", k, got[k])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
