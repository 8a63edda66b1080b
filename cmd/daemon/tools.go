package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// tool runs args when they name one of the binary's helper commands instead
// of a coin: `version` and `healthcheck`. It reports whether they did, and
// the exit code.
func tool(ctx context.Context, args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, daemonVersion())
		return 0, true
	case "healthcheck":
		return healthcheck(ctx, args[1:], stdout, stderr), true
	}
	return 0, false
}

// healthcheckTimeout bounds one probe: a container engine's HEALTHCHECK
// needs an answer well within its own timeout.
const healthcheckTimeout = 3 * time.Second

// healthcheck probes a running daemon's GET /healthz (GET /readyz with
// -ready) on the address the daemon's configuration gives (<COIN>_HOST,
// <COIN>_PORT, IN_DOCKER; an unspecified host means loopback), for the
// image's HEALTHCHECK, which has no curl. The coin is the argument, else
// WALLETD_COIN; without either every coin's address is probed and one
// healthy daemon is enough (a container runs one). Exit code 0 when
// healthy, 1 when not, 2 on bad usage.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ready := fs.Bool("ready", false, "probe /readyz (backend connected and synchronized) instead of /healthz")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: daemon healthcheck [-ready] [coin]   (coins: %s)\n", strings.Join(coinNames(), ", "))
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names := fs.Args()
	if len(names) == 0 {
		if c := os.Getenv("WALLETD_COIN"); c != "" {
			names = []string{c}
		}
	}
	all := len(names) == 0
	if all {
		names = coinNames()
	}
	if len(names) > 1 && !all {
		fs.Usage()
		return 2
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	var failures []string
	for _, name := range names {
		def, ok := coins()[strings.ToLower(name)]
		if !ok {
			fs.Usage()
			return 2
		}
		cfg, err := loadConfig(def)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: configuration: %v", name, err))
			continue
		}
		host := cfg.Host
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + path
		body, err := probe(ctx, url)
		if err == nil {
			fmt.Fprintf(stdout, "%s %s: %s\n", name, url, body)
			return 0
		}
		failures = append(failures, fmt.Sprintf("%s %s: %v", name, url, err))
	}
	for _, f := range failures {
		fmt.Fprintln(stdout, f)
	}
	return 1
}

// probe GETs url and returns the body of a 200 reply; any other status is
// an error carrying the body (the daemon's reason).
func probe(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	body := strings.TrimSpace(string(b))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d %s", resp.StatusCode, body)
	}
	return body, nil
}
